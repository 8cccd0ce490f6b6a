/**
 * Types shared by the frame codec: JSON values, the parsed header, parsed
 * frames and the description of a message to send.
 *
 * This module is pure: no sockets, no libc.
 */

/** A value `JSON.parse` can return (and Python's `json.load` can return, NaN aside). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The `byteorder` header: Python's `sys.byteorder` of the sender. */
export type Byteorder = 'little' | 'big';

/**
 * The four required headers of a frame, validated, plus the whole parsed
 * JSON header object (extra keys a sender added are kept in `raw`).
 */
export interface FrameHeader {
  /** `byteorder`: `'little'` or `'big'` (informational: nothing in the protocol depends on it). */
  readonly byteorder: Byteorder;
  /** `content-type`, exactly as sent (`'text/json'` selects JSON decoding, case-sensitively, as in Python). */
  readonly contentType: string;
  /** `content-encoding`, exactly as sent (for `text/json` it names a known text encoding). */
  readonly contentEncoding: string;
  /** `content-length`: the number of content bytes after the header. */
  readonly contentLength: number;
  /** The parsed JSON header object itself. */
  readonly raw: Readonly<Record<string, unknown>>;
}

interface FrameBase {
  /** The validated header. */
  readonly header: FrameHeader;
  /** Byte length of the JSON header (the value of the 2-byte prefix). */
  readonly headerLength: number;
  /** Byte length of the content (equals `header.contentLength`). */
  readonly contentLength: number;
}

/** A `text/json` frame: its content decoded with the declared encoding and `JSON.parse`d. */
export interface JsonFrame extends FrameBase {
  readonly kind: 'json';
  readonly content: JsonValue;
}

/**
 * A frame of any other content type: its content as bytes. The Buffer may be
 * a view into a chunk that was passed to `FrameParser.push()` (zero-copy).
 */
export interface BinaryFrame extends FrameBase {
  readonly kind: 'binary';
  readonly content: Buffer;
}

/** One parsed frame: `kind` tells JSON content from bytes. */
export type Frame = JsonFrame | BinaryFrame;

/**
 * What to send: the content and the two content headers (`byteorder` and
 * `content-length` are filled in by the encoder).
 *
 * For `contentType === 'text/json'`, `content` is any JSON-serializable value.
 * For any other type it is a `Uint8Array` (sent as is) or a string (encoded
 * with `contentEncoding`, which must then be a known text encoding).
 */
export interface MessageSpec {
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly content: unknown;
}
