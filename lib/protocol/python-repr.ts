/**
 * Python's `repr()` and `str()` of JSON values and bytes: what the Real
 * Python programs put in their log lines and replies (`f'No match for
 * "{query}".'`, `print('sending', repr(self._send_buffer))`).
 *
 * Pure module: no libc.
 */

import { pythonFloatRepr } from './python-json.js';

// Characters Python's str.isprintable() rejects: categories Cc, Cf, Cs, Co,
// Cn (\p{C}) and Zl, Zp, Zs (\p{Z}) — the ASCII space excepted.
const NOT_PRINTABLE = /^[\p{C}\p{Z}]$/u;
const NEEDS_ESCAPE = /[^\x20-\x7e]|['"\\]/;

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  if (!NEEDS_ESCAPE.test(s)) return `${quote}${s}${quote}`;
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

function bytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? 0x22 : 0x27;
  let out = `b${String.fromCharCode(quote)}`;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === quote || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${hex(c, 2)}`;
    else out += String.fromCharCode(c);
  }
  return out + String.fromCharCode(quote);
}

/**
 * Python's `repr()` of the Python object a JSON value (or bytes) maps to:
 * `null`/`undefined` → `None`, booleans → `True`/`False`, safe integers and
 * BigInts → digits, other numbers → float repr (`1.5`, `1e+16`, `nan`),
 * strings → quoted and escaped like `str.__repr__`, `Uint8Array` →
 * `b'...'`, arrays → `[a, b]`, objects → `{'k': v}`.
 *
 * A JSON float with a zero fraction (`1.0`) arrives in JavaScript as the
 * integer 1 and prints as `1`, where Python prints `1.0`.
 */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return Number.isSafeInteger(value) ? String(value) : pythonFloatRepr(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return strRepr(value);
    default:
      break;
  }
  if (value instanceof Uint8Array) return bytesRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${strRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

/**
 * Python's `str()` (what an f-string interpolates): a string is itself,
 * anything else is its {@link pythonRepr}.
 */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}
