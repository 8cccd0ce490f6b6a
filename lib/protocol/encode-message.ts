/**
 * Encoding one frame: 2-byte big-endian header length, the JSON header,
 * the content — in a single Buffer allocation.
 *
 * Pure module: no libc.
 */

import { endianness } from 'node:os';
import { invalidArgType, invalidArgValue, ProtocolError } from '../errors.js';
import { encodedLength, requireEncoding, writeEncoded, type TextEncodingName } from './text-encoding.js';
import { JSON_CONTENT_TYPE, MAX_HEADER_LENGTH, PROTOHEADER_LENGTH } from './header.js';
import { pythonJson } from './python-json.js';
import type { Byteorder, MessageSpec } from './types.js';

/** This machine's byte order, as Python's `sys.byteorder` spells it: the default `byteorder` header. */
export const SYSTEM_BYTEORDER: Byteorder = ({ LE: 'little', BE: 'big' } as const)[endianness()];

/**
 * How JSON (the header, and `text/json` content) is written.
 *
 * - `'python'` (the default): exactly like Python's `json.dumps(...,
 *   ensure_ascii=False)`, `", "`/`": "` separators — the bytes the Real
 *   Python `libclient.py`/`libserver.py` send, so captures can be compared
 *   byte for byte. See {@link pythonJson}.
 * - `'compact'`: `JSON.stringify` without spaces; a few bytes shorter and
 *   faster for large content. Python peers read it just as well.
 */
export type JsonStyle = 'python' | 'compact';

/** A message to encode: {@link MessageSpec} plus encoder settings. */
export interface EncodeOptions extends MessageSpec {
  /** The `byteorder` header; default {@link SYSTEM_BYTEORDER} (what Python sends). */
  readonly byteorder?: Byteorder;
  /** JSON formatting; default `'python'`. */
  readonly json?: JsonStyle;
}

function headerText(style: JsonStyle, byteorder: Byteorder, contentType: string, contentEncoding: string, contentLength: number): string {
  // The key order of libclient.py/libserver.py's _create_message.
  if (style === 'python') {
    return `{"byteorder": "${byteorder}", "content-type": ${JSON.stringify(contentType)}, "content-encoding": ${JSON.stringify(contentEncoding)}, "content-length": ${contentLength}}`;
  }
  return `{"byteorder":"${byteorder}","content-type":${JSON.stringify(contentType)},"content-encoding":${JSON.stringify(contentEncoding)},"content-length":${contentLength}}`;
}

/**
 * Encodes one frame into a single new Buffer.
 *
 * For `contentType === 'text/json'` the content is serialized as JSON
 * (`json` style) and encoded in `contentEncoding`. For any other type the
 * content is a `Uint8Array`, copied as is, or a string, encoded in
 * `contentEncoding` (which must then be a text encoding; the tutorial's
 * `'binary'` is not: pass bytes for it).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `contentType` or
 *   `contentEncoding` is not a string, or non-JSON content is neither a
 *   Uint8Array nor a string; `ERR_INVALID_ARG_VALUE` for a bad `byteorder`
 *   or `json` option, or JSON content that cannot be serialized (undefined,
 *   a function, a cycle).
 * @throws {ProtocolError} `ERR_PROTOCOL_UNKNOWN_ENCODING` if text must be
 *   encoded in an unknown encoding; `ERR_PROTOCOL_INVALID_CONTENT` if the
 *   text cannot be encoded in it; `ERR_PROTOCOL_TOO_LARGE` if the JSON header
 *   would exceed 65535 bytes.
 */
export function encodeMessage(options: EncodeOptions): Buffer {
  const { content, contentType, contentEncoding } = options;
  const byteorder = options.byteorder ?? SYSTEM_BYTEORDER;
  const style = options.json ?? 'python';
  if (typeof contentType !== 'string') throw invalidArgType('contentType', 'of type string', contentType);
  if (typeof contentEncoding !== 'string') throw invalidArgType('contentEncoding', 'of type string', contentEncoding);
  if (byteorder !== 'little' && byteorder !== 'big') throw invalidArgValue('byteorder', "must be 'little' or 'big'", byteorder);
  if (style !== 'python' && style !== 'compact') throw invalidArgValue('json', "must be 'python' or 'compact'", style);

  let text: string | undefined;
  let bytes: Uint8Array | undefined;
  let encoding: TextEncodingName = 'utf-8';
  let contentLength: number;
  if (contentType === JSON_CONTENT_TYPE) {
    encoding = requireEncoding(contentEncoding);
    if (style === 'python') {
      text = pythonJson(content);
    } else {
      text = JSON.stringify(content) as string | undefined;
      if (text === undefined) throw invalidArgValue('content', 'is not serializable to JSON', content);
    }
    contentLength = encodedLength(text, encoding);
  } else if (content instanceof Uint8Array) {
    bytes = content;
    contentLength = content.byteLength;
  } else if (typeof content === 'string') {
    encoding = requireEncoding(contentEncoding);
    text = content;
    contentLength = encodedLength(text, encoding);
  } else {
    throw invalidArgType('content', `a Uint8Array or a string for content-type ${JSON.stringify(contentType)}`, content);
  }

  const header = headerText(style, byteorder, contentType, contentEncoding, contentLength);
  const headerLength = Buffer.byteLength(header, 'utf8');
  if (headerLength > MAX_HEADER_LENGTH) {
    throw new ProtocolError('ERR_PROTOCOL_TOO_LARGE', `JSON header of ${headerLength} bytes is over the limit of ${MAX_HEADER_LENGTH} bytes.`);
  }
  const start = PROTOHEADER_LENGTH + headerLength;
  const frame = Buffer.allocUnsafe(start + contentLength);
  frame.writeUInt16BE(headerLength, 0);
  frame.write(header, PROTOHEADER_LENGTH, 'utf8');
  if (bytes !== undefined) frame.set(bytes, start);
  else writeEncoded(frame, start, text!, encoding);
  return frame;
}
