/**
 * The pure frame codec of the Real Python JSON-header protocol: encoding,
 * streaming parsing, text encodings, Python-compatible JSON and repr, and
 * the app's request/response logic. Nothing here touches sockets or libc.
 */

export type { Byteorder, BinaryFrame, Frame, FrameHeader, JsonFrame, JsonValue, MessageSpec } from './types.js';
export { decodeText, encodedLength, encodeText, normalizeEncoding, requireEncoding, writeEncoded } from './text-encoding.js';
export type { TextEncodingName } from './text-encoding.js';
export {
  DEFAULT_MAX_CONTENT_LENGTH,
  JSON_CONTENT_TYPE,
  MAX_HEADER_LENGTH,
  parseHeader,
  PROTOHEADER_LENGTH,
  REQUIRED_HEADERS,
} from './header.js';
export type { ParsedHeader } from './header.js';
export { pythonFloatRepr, pythonJson } from './python-json.js';
export { pythonRepr, pythonStr } from './python-repr.js';
export { encodeMessage, SYSTEM_BYTEORDER } from './encode-message.js';
export type { EncodeOptions, JsonStyle } from './encode-message.js';
export { FrameParser } from './frame-parser.js';
export type { FrameHandler, FrameParserOptions } from './frame-parser.js';
export {
  BINARY_ENCODING,
  CLIENT_BINARY_TYPE,
  createRequest,
  createResponse,
  REQUEST_SEARCH,
  SERVER_BINARY_TYPE,
} from './app-logic.js';
export type { AppBinaryMessage, AppJsonMessage, AppMessage, AppRequest } from './app-logic.js';
