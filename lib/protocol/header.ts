/**
 * The JSON header of a frame: its limits, and the validation of a received
 * header (what `libserver.py`'s `process_jsonheader` checks, plus the type
 * and range checks Python leaves out).
 *
 * Pure module: no libc.
 */

import { ProtocolError } from '../errors.js';
import { normalizeEncoding, type TextEncodingName } from './text-encoding.js';
import type { Byteorder, FrameHeader } from './types.js';

/** Bytes of the fixed-length prefix that holds the JSON header's length (`struct.pack('>H', ...)`). */
export const PROTOHEADER_LENGTH = 2;

/** The largest JSON header the 2-byte big-endian prefix can announce. */
export const MAX_HEADER_LENGTH = 0xffff;

/** Default limit on `content-length`: 16 MiB. */
export const DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024;

/** The required headers, in the order Python checks them (the first missing one is reported). */
export const REQUIRED_HEADERS = ['byteorder', 'content-length', 'content-type', 'content-encoding'] as const;

/** The content type whose content is decoded as JSON text (compared exactly, as Python does). */
export const JSON_CONTENT_TYPE = 'text/json';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A validated header, plus the resolved text encoding of a `text/json` frame. */
export interface ParsedHeader {
  readonly header: FrameHeader;
  /** The canonical encoding of a `text/json` frame's content; `null` for any other type. */
  readonly textEncoding: TextEncodingName | null;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('ERR_PROTOCOL_INVALID_HEADER', message);
}

/**
 * Decodes and validates a JSON header (the bytes after the 2-byte prefix).
 *
 * Checks, in this order: valid UTF-8, valid JSON, a JSON object; the
 * required headers present (in Python's order: byteorder, content-length,
 * content-type, content-encoding); `byteorder` is `'little'` or `'big'`;
 * `content-length` is a non-negative safe integer within
 * `maxContentLength`; `content-type` and `content-encoding` are strings;
 * for `text/json`, the encoding is a known text encoding.
 *
 * @param bytes the JSON header bytes.
 * @param maxContentLength the largest acceptable `content-length`.
 * @throws {ProtocolError} `ERR_PROTOCOL_INVALID_HEADER` (not UTF-8, not JSON,
 *   not an object, bad byteorder/content-type/content-encoding type),
 *   `ERR_PROTOCOL_MISSING_HEADER` (names the first missing header),
 *   `ERR_PROTOCOL_INVALID_LENGTH` (content-length not a non-negative safe
 *   integer), `ERR_PROTOCOL_TOO_LARGE` (content-length over the limit),
 *   `ERR_PROTOCOL_UNKNOWN_ENCODING` (text/json in an unknown encoding).
 */
export function parseHeader(bytes: Uint8Array, maxContentLength: number = DEFAULT_MAX_CONTENT_LENGTH): ParsedHeader {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch {
    throw invalid('JSON header is not valid UTF-8.');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(`JSON header is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(`JSON header is not a JSON object (got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}).`);
  }
  const obj = raw as Record<string, unknown>;
  for (const name of REQUIRED_HEADERS) {
    if (!Object.hasOwn(obj, name)) throw new ProtocolError('ERR_PROTOCOL_MISSING_HEADER', `Missing required header "${name}".`);
  }
  const byteorder = obj['byteorder'];
  if (byteorder !== 'little' && byteorder !== 'big') {
    throw invalid(`Header "byteorder" must be "little" or "big" (got ${JSON.stringify(byteorder)}).`);
  }
  const contentLength = obj['content-length'];
  if (typeof contentLength !== 'number' || !Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new ProtocolError('ERR_PROTOCOL_INVALID_LENGTH', `Header "content-length" must be a non-negative integer (got ${JSON.stringify(contentLength)}).`);
  }
  if (contentLength > maxContentLength) {
    throw new ProtocolError('ERR_PROTOCOL_TOO_LARGE', `Content of ${contentLength} bytes is over the limit of ${maxContentLength} bytes.`);
  }
  const contentType = obj['content-type'];
  if (typeof contentType !== 'string') throw invalid(`Header "content-type" must be a string (got ${JSON.stringify(contentType)}).`);
  const contentEncoding = obj['content-encoding'];
  if (typeof contentEncoding !== 'string') throw invalid(`Header "content-encoding" must be a string (got ${JSON.stringify(contentEncoding)}).`);
  let textEncoding: TextEncodingName | null = null;
  if (contentType === JSON_CONTENT_TYPE) {
    const resolved = normalizeEncoding(contentEncoding);
    if (resolved === undefined) {
      throw new ProtocolError('ERR_PROTOCOL_UNKNOWN_ENCODING', `Unknown content-encoding ${JSON.stringify(contentEncoding)} for text/json content.`);
    }
    textEncoding = resolved;
  }
  const header: FrameHeader = { byteorder: byteorder as Byteorder, contentType, contentEncoding, contentLength, raw: obj };
  return { header, textEncoding };
}
