/**
 * A streaming frame parser: feed it the chunks a socket returns, get back
 * every frame they complete.
 *
 * Pure module: no libc.
 */

import { invalidArgType, outOfRange, ProtocolError } from '../errors.js';
import { decodeText, type TextEncodingName } from './text-encoding.js';
import { DEFAULT_MAX_CONTENT_LENGTH, MAX_HEADER_LENGTH, parseHeader, PROTOHEADER_LENGTH } from './header.js';
import type { Frame, FrameHeader, JsonValue } from './types.js';

/** Limits of a {@link FrameParser}. */
export interface FrameParserOptions {
  /** Largest accepted `content-length`, in bytes; default 16 MiB. */
  readonly maxContentLength?: number;
  /** Largest accepted JSON header, in bytes (1..65535); default 65535, all the 2-byte prefix allows. */
  readonly maxHeaderLength?: number;
}

/**
 * Receives each frame, in order, from {@link FrameParser.push}. Returning
 * `false` stops that push after this frame: the rest stays buffered until
 * the next push (an empty chunk resumes).
 */
export type FrameHandler = (frame: Frame) => unknown;

// Parser stages: plain numeric constants (an enum would add a runtime object for nothing).
const PREFIX = 0;
const HEADER = 1;
const CONTENT = 2;
type Stage = typeof PREFIX | typeof HEADER | typeof CONTENT;

const STAGE_NAMES = ['length prefix', 'JSON header', 'content'] as const;

// Content larger than this is gathered in one buffer of its own as it
// arrives (see FrameParser.#store), instead of holding every received chunk.
const LARGE_CONTENT = 64 * 1024;
// First size of that buffer; it doubles as bytes come, up to the content length.
const LARGE_CONTENT_START = 256 * 1024;

const EMPTY = Buffer.alloc(0);

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * A state machine over a list of received chunks (prefix → header →
 * content → prefix ...). Chunks are kept as they are — no `Buffer.concat`
 * per read: the bytes of one header or one content are copied together only
 * when they span chunks, and are a zero-copy view of the chunk when they
 * sit inside one. Each `push()` runs every stage the buffered bytes allow,
 * so one read carrying three frames yields three frames, and a partial frame
 * waits for the next push.
 *
 * A large content (over 64 KiB) that is not all here yet is different:
 * its bytes are copied as they arrive into one buffer of its own (grown
 * by doubling up to the announced length, so a header alone reserves
 * little), and the received chunks are not held. Holding hundreds of
 * 64 KiB reads per big request fragments the process heap: RSS stayed
 * hundreds of MB high after such clients left.
 *
 * Limits are checked as early as possible: the header length as soon as the
 * 2-byte prefix is in, `content-length` as soon as the header is parsed,
 * before any content is buffered.
 *
 * Ownership: a pushed chunk must not be modified afterwards — the parser may
 * hold it until its frame completes, and a binary frame's `content` may be a
 * view into it. Copy (`Buffer.from(frame.content)`) what you keep if you
 * reuse receive buffers.
 *
 * Errors: malformed input throws a {@link ProtocolError}. The parser is then
 * dead: every later `push()` or `end()` throws the same error object again.
 * An exception thrown by your frame handler is not a parse error: it
 * propagates, and the parser stays usable (that frame was consumed).
 */
export class FrameParser {
  readonly #maxContentLength: number;
  readonly #maxHeaderLength: number;
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;
  #stage: Stage = PREFIX;
  #need = PROTOHEADER_LENGTH;
  #headerLength = 0;
  #header: FrameHeader | null = null;
  #textEncoding: TextEncodingName | null = null;
  #error: ProtocolError | null = null;
  // A large content being gathered, and how many of its bytes are in (counted in #buffered).
  #content: Buffer | null = null;
  #contentFilled = 0;

  /**
   * Creates a parser, positioned before the first frame's length prefix.
   *
   * @throws {RangeError} `ERR_OUT_OF_RANGE` if `maxContentLength` is not a
   *   non-negative safe integer or `maxHeaderLength` not an integer in 1..65535.
   */
  constructor(options: FrameParserOptions = {}) {
    const maxContent = options.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH;
    const maxHeader = options.maxHeaderLength ?? MAX_HEADER_LENGTH;
    if (!Number.isSafeInteger(maxContent) || maxContent < 0) {
      throw outOfRange('maxContentLength', 'a non-negative safe integer', maxContent);
    }
    if (!Number.isInteger(maxHeader) || maxHeader < 1 || maxHeader > MAX_HEADER_LENGTH) {
      throw outOfRange('maxHeaderLength', `an integer >= 1 and <= ${MAX_HEADER_LENGTH}`, maxHeader);
    }
    this.#maxContentLength = maxContent;
    this.#maxHeaderLength = maxHeader;
  }

  /**
   * Bytes received and not yet consumed by a stage: the partial prefix,
   * header or content of the current frame (a prefix or header already
   * parsed is not counted), or complete frames not yet delivered because a
   * handler threw.
   */
  get bufferedLength(): number {
    return this.#buffered;
  }

  /** Whether the parser is in the middle of a frame (so that EOF now would be a truncation). */
  get inFrame(): boolean {
    return this.#buffered > 0 || this.#stage !== PREFIX;
  }

  /** The error that killed the parser, or `null` while it is usable. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /**
   * Buffers `chunk` and returns every frame now complete, in order
   * (possibly none). A malformed frame throws, and frames completed earlier
   * in the same call are lost with it: use the handler form to get them.
   *
   * @throws {ProtocolError} on malformed input (see {@link parseHeader} for
   *   the header codes; `ERR_PROTOCOL_INVALID_HEADER` for a zero header
   *   length, `ERR_PROTOCOL_TOO_LARGE` for one over `maxHeaderLength`,
   *   `ERR_PROTOCOL_INVALID_CONTENT` for text/json content that is not
   *   valid text or JSON), or the earlier error of a dead parser.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `chunk` is not a Uint8Array.
   */
  push(chunk: Uint8Array): Frame[];
  /**
   * Buffers `chunk` and calls `onFrame` with every frame now complete, in
   * order; returns how many. On malformed input, the frames before it have
   * been delivered when the error is thrown.
   *
   * @throws {ProtocolError} as for the array form.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `chunk` is not a Uint8Array.
   */
  push(chunk: Uint8Array, onFrame: FrameHandler): number;
  push(chunk: Uint8Array, onFrame?: FrameHandler): Frame[] | number {
    if (this.#error !== null) throw this.#error;
    if (!(chunk instanceof Uint8Array)) throw invalidArgType('chunk', 'an instance of Buffer or Uint8Array', chunk);
    if (chunk.byteLength > 0) {
      let rest = asBuffer(chunk);
      if (this.#content !== null) rest = this.#store(rest);
      if (rest.byteLength > 0) {
        this.#chunks.push(rest);
        this.#buffered += rest.byteLength;
      }
    }
    const frames: Frame[] | null = onFrame === undefined ? [] : null;
    let count = 0;
    try {
      for (let frame = this.#next(); frame !== null; frame = this.#next()) {
        count++;
        if (frames !== null) frames.push(frame);
        else if (onFrame!(frame) === false) break;
      }
    } finally {
      if (this.#head > 0) {
        this.#chunks.splice(0, this.#head);
        this.#head = 0;
      }
    }
    return frames ?? count;
  }

  /**
   * Signals end of input (the peer closed). Fine between frames — the
   * parser then stays usable, as if new; inside a frame it is a truncation.
   * (Frames left undelivered because a handler threw count as buffered:
   * drain them with `push(Buffer.alloc(0))` first.)
   *
   * @throws {ProtocolError} `ERR_PROTOCOL_TRUNCATED` if part of a frame is
   *   buffered or announced, or the earlier error of a dead parser.
   */
  end(): void {
    if (this.#error !== null) throw this.#error;
    if (!this.inFrame) return;
    // At rest fewer than #need bytes are buffered, all of them for the current stage.
    this.#error = new ProtocolError(
      'ERR_PROTOCOL_TRUNCATED',
      `Connection closed inside a frame: ${this.#buffered} of ${this.#need} bytes of the ${STAGE_NAMES[this.#stage]}.`,
    );
    throw this.#error;
  }

  /** Runs the stages the buffered bytes allow; the next complete frame, or null. */
  #next(): Frame | null {
    try {
      while (this.#buffered >= this.#need) {
        if (this.#stage === PREFIX) {
          const length = this.#readUInt16BE();
          if (length === 0) throw new ProtocolError('ERR_PROTOCOL_INVALID_HEADER', 'JSON header length is 0.');
          if (length > this.#maxHeaderLength) {
            throw new ProtocolError('ERR_PROTOCOL_TOO_LARGE', `JSON header of ${length} bytes is over the limit of ${this.#maxHeaderLength} bytes.`);
          }
          this.#headerLength = length;
          this.#stage = HEADER;
          this.#need = length;
        } else if (this.#stage === HEADER) {
          const parsed = parseHeader(this.#take(this.#headerLength), this.#maxContentLength);
          this.#header = parsed.header;
          this.#textEncoding = parsed.textEncoding;
          this.#stage = CONTENT;
          this.#need = parsed.header.contentLength;
          if (this.#need > LARGE_CONTENT && this.#buffered < this.#need) this.#gather();
        } else {
          const header = this.#header!;
          let bytes: Buffer;
          if (this.#content !== null) {
            // Complete: #store never fills past the content, nor beyond its length.
            bytes = this.#content;
            this.#buffered -= header.contentLength;
            this.#content = null;
            this.#contentFilled = 0;
          } else {
            bytes = this.#take(header.contentLength);
          }
          const encoding = this.#textEncoding;
          const headerLength = this.#headerLength;
          this.#stage = PREFIX;
          this.#need = PROTOHEADER_LENGTH;
          this.#header = null;
          this.#textEncoding = null;
          if (encoding === null) {
            return { kind: 'binary', header, content: bytes, headerLength, contentLength: header.contentLength };
          }
          return { kind: 'json', header, content: decodeJson(bytes, encoding), headerLength, contentLength: header.contentLength };
        }
      }
      return null;
    } catch (err) {
      if (err instanceof ProtocolError) this.#error = err;
      throw err;
    }
  }

  /** Start gathering a large content: move what is buffered (all of it is content) into its own buffer. */
  #gather(): void {
    const have = this.#buffered;
    const content = Buffer.allocUnsafe(Math.min(this.#need, Math.max(LARGE_CONTENT_START, 2 * have)));
    let filled = 0;
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!;
      filled += chunk.copy(content, filled, i === this.#head ? this.#offset : 0);
    }
    // push() drops the chunks before #head.
    this.#head = this.#chunks.length;
    this.#offset = 0;
    this.#content = content;
    this.#contentFilled = filled;
  }

  /** Copy the start of `chunk` into the content being gathered; returns the rest (the next frame's bytes). */
  #store(chunk: Buffer): Buffer {
    const n = Math.min(chunk.length, this.#need - this.#contentFilled);
    let content = this.#content!;
    if (this.#contentFilled + n > content.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#need, Math.max(2 * content.length, this.#contentFilled + n)));
      content.copy(grown, 0, 0, this.#contentFilled);
      content = this.#content = grown;
    }
    chunk.copy(content, this.#contentFilled, 0, n);
    this.#contentFilled += n;
    this.#buffered += n;
    return n === chunk.length ? EMPTY : chunk.subarray(n);
  }

  #readUInt16BE(): number {
    const chunk = this.#chunks[this.#head]!;
    if (chunk.length - this.#offset >= 2) {
      const value = chunk.readUInt16BE(this.#offset);
      this.#advance(chunk, 2);
      return value;
    }
    // The prefix straddles two chunks: one byte at the end of this one.
    const high = chunk[this.#offset]!;
    this.#advance(chunk, 1);
    const next = this.#chunks[this.#head]!;
    const low = next[this.#offset]!;
    this.#advance(next, 1);
    return (high << 8) | low;
  }

  #advance(chunk: Buffer, n: number): void {
    this.#offset += n;
    this.#buffered -= n;
    if (this.#offset === chunk.length) {
      this.#head++;
      this.#offset = 0;
    }
  }

  /** The next n buffered bytes: a view when they sit in one chunk, else one copy. */
  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[this.#head]!;
    if (first.length - this.#offset >= n) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#advance(first, n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head]!;
      const piece = Math.min(chunk.length - this.#offset, n - filled);
      chunk.copy(out, filled, this.#offset, this.#offset + piece);
      filled += piece;
      this.#advance(chunk, piece);
    }
    return out;
  }
}

function decodeJson(bytes: Buffer, encoding: TextEncodingName): JsonValue {
  const text = decodeText(bytes, encoding);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new ProtocolError('ERR_PROTOCOL_INVALID_CONTENT', `text/json content is not valid JSON: ${(err as Error).message}`);
  }
}
