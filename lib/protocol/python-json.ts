/**
 * JSON text exactly as Python's `json.dumps(obj, ensure_ascii=False)` writes
 * it, so that a TypeScript peer can put the same bytes on the wire as the
 * Real Python `libclient.py`/`libserver.py`: `", "` and `": "` separators,
 * non-ASCII characters unescaped, floats in Python's `repr()` form.
 *
 * Pure module: no libc.
 */

import { invalidArgValue } from '../errors.js';

/**
 * A finite number written the way Python's `repr(float)` writes it: the
 * shortest round-tripping digits, positional notation when the decimal
 * exponent is in [-4, 16), otherwise `1e+16` / `1e-05` style, and `.0` on
 * whole numbers (`1e15` → `'1000000000000000.0'`, `1e16` → `'1e+16'`).
 * Non-finite values come out as `'nan'`, `'inf'` and `'-inf'`.
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  // toExponential() without an argument gives the shortest round-trip digits.
  const [mantissa, exponentText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const abs = Math.abs(exponent);
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

function number(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  // A JS number does not say whether it was an int or a float in Python:
  // safe integers are written as Python ints, everything else as floats.
  return Number.isSafeInteger(x) ? String(x) : pythonFloatRepr(x);
}

function serialize(value: unknown, key: string, stack: object[]): string | undefined {
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key);
  }
  switch (typeof value) {
    case 'string':
      // JSON.stringify escapes exactly what json.dumps(ensure_ascii=False)
      // escapes (", \, control characters, \b\f\n\r\t short forms, lowercase
      // \u00xx), except unpaired surrogates, which Python could not encode
      // to UTF-8 at all and JSON.stringify writes as \udxxx.
      return JSON.stringify(value);
    case 'number':
      return number(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Number) return number(Number(value));
      if (value instanceof String) return JSON.stringify(String(value));
      if (value instanceof Boolean) return value.valueOf() ? 'true' : 'false';
      if (stack.includes(value)) throw invalidArgValue('value', 'contains a circular reference', value);
      stack.push(value);
      let out: string;
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) parts.push(serialize(value[i], String(i), stack) ?? 'null');
        out = `[${parts.join(', ')}]`;
      } else {
        const parts: string[] = [];
        for (const k of Object.keys(value)) {
          const v = serialize((value as Record<string, unknown>)[k], k, stack);
          if (v !== undefined) parts.push(`${JSON.stringify(k)}: ${v}`);
        }
        out = `{${parts.join(', ')}}`;
      }
      stack.pop();
      return out;
    }
    default:
      // undefined, functions and symbols: skipped in objects, null in arrays.
      return undefined;
  }
}

/**
 * `value` as JSON text, byte for byte what Python's
 * `json.dumps(value, ensure_ascii=False)` produces for the equivalent
 * Python object. Follows `JSON.stringify` for what Python has no
 * counterpart of (`toJSON()`, skipped `undefined`/function members, boxed
 * primitives); BigInts are written as Python ints; NaN and ±Infinity come
 * out as `NaN`/`Infinity`/`-Infinity`, as Python writes them (not valid
 * JSON: `JSON.parse`, and so `FrameParser`, rejects them).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` if `value` itself is not
 *   serializable (`undefined`, a function, a symbol) or contains a cycle.
 */
export function pythonJson(value: unknown): string {
  const out = serialize(value, '', []);
  if (out === undefined) throw invalidArgValue('value', 'is not serializable to JSON', value);
  return out;
}
