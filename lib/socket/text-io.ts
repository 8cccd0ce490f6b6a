/**
 * Text mode of `sock.makefile()`: {@link TextIOWrapper} (Python's
 * `io.TextIOWrapper`, with its universal-newlines rules) over the buffered
 * binary files of socket-io.ts, the few codecs it knows, and
 * {@link openSocketFile}, the body of `Socket.makefile`.
 */

import { CodedError, invalidArgType, invalidArgValue } from '../errors.js';
import {
  BufferedRWPair, BufferedReader, BufferedWriter, DEFAULT_BUFFER_SIZE, IOBase, SocketIO, type BinaryIO,
} from './socket-io.js';
import type { Socket } from './socket.js';

/** Options of `sock.makefile()` (Python's keyword arguments). */
export interface MakefileOptions {
  /** Buffer size in bytes; negative, `null` or omitted: 8192; 0: the raw {@link SocketIO} (binary only). */
  buffering?: number | null;
  /** Text mode: `'utf-8'` (default), `'latin-1'` or `'ascii'` (and their usual aliases). */
  encoding?: string | null;
  /** Text mode: `'strict'` (default: invalid data throws) or `'replace'`. */
  errors?: string | null;
  /** Text mode: `null` (default, universal newlines translated to `'\n'`), `''`, `'\n'`, `'\r'` or `'\r\n'`. */
  newline?: string | null;
}

/** The binary file objects makefile() returns. */
export type BinaryFile = SocketIO | BufferedReader | BufferedWriter | BufferedRWPair;

/** A codec: incremental decoding (bytes may split a character) and encoding. */
interface Codec {
  decode(bytes: Uint8Array, final: boolean): string;
  encode(text: string): Buffer;
}

function decodeError(encoding: string): CodedError {
  const err = new CodedError('ERR_UNICODE_DECODE', `'${encoding}' codec can't decode the bytes received`);
  Object.setPrototypeOf(err, TypeError.prototype);
  err.name = 'TypeError';
  return err;
}

function encodeError(encoding: string): CodedError {
  const err = new CodedError('ERR_UNICODE_ENCODE', `'${encoding}' codec can't encode a character of the text`);
  Object.setPrototypeOf(err, TypeError.prototype);
  err.name = 'TypeError';
  return err;
}

function utf8(strict: boolean): Codec {
  // ignoreBOM keeps a U+FEFF as Python's 'utf-8' codec does.
  const decoder = new TextDecoder('utf-8', { fatal: strict, ignoreBOM: true });
  return {
    decode(bytes, final) {
      try {
        return decoder.decode(bytes, { stream: !final });
      } catch {
        throw decodeError('utf-8');
      }
    },
    encode: (text) => Buffer.from(text, 'utf8'),
  };
}

function singleByte(name: string, max: number, strict: boolean): Codec {
  const tooHigh = max === 0x7f ? /[^\x00-\x7f]/g : /[^\x00-\xff]/g;
  return {
    decode(bytes) {
      if (max === 0x7f && bytes.some((b) => b > 0x7f)) {
        if (strict) throw decodeError(name);
        return Array.from(bytes, (b) => (b > 0x7f ? '\ufffd' : String.fromCharCode(b))).join('');
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    },
    encode(text) {
      tooHigh.lastIndex = 0;
      if (tooHigh.test(text)) {
        if (strict) throw encodeError(name);
        text = text.replace(tooHigh, '?');
      }
      return Buffer.from(text, 'latin1');
    },
  };
}

const ENCODINGS: Record<string, string> = {
  'utf-8': 'utf-8', utf8: 'utf-8', u8: 'utf-8', 'utf': 'utf-8',
  'latin-1': 'latin-1', latin1: 'latin-1', 'iso-8859-1': 'latin-1', 'iso8859-1': 'latin-1', l1: 'latin-1',
  ascii: 'ascii', 'us-ascii': 'ascii',
};

function codecFor(encoding: string, errors: string): Codec {
  const strict = errors === 'strict';
  if (encoding === 'utf-8') return utf8(strict);
  return singleByte(encoding, encoding === 'ascii' ? 0x7f : 0xff, strict);
}

const CHUNK_SIZE = 8192;

/** A buffer TextIOWrapper can read from. */
type ReadBuffer = BufferedReader | BufferedRWPair;

/**
 * Python's `io.TextIOWrapper` over a buffered socket file (makefile's text
 * modes): strings in, strings out, decoded incrementally (a character split
 * across packets is reassembled), with Python's newline rules —
 * `newline: null` reads `'\n'`, `'\r'` and `'\r\n'` as `'\n'`; `''` splits
 * lines at any of them but returns them untranslated; `'\n'`, `'\r'`,
 * `'\r\n'` split only there. On output, `'\n'` becomes `newline` when that
 * is `'\r'` or `'\r\n'`.
 */
export class TextIOWrapper extends IOBase<string> {
  /** The buffered binary file underneath. */
  readonly buffer: BufferedReader | BufferedWriter | BufferedRWPair;
  /** The encoding's canonical name (`'utf-8'`, `'latin-1'`, `'ascii'`). */
  readonly encoding: string;
  /** `'strict'` or `'replace'`. */
  readonly errors: string;
  /** The mode string given to makefile(). */
  mode: string;
  readonly #codec: Codec;
  readonly #universal: boolean;
  readonly #translate: boolean;
  readonly #readnl: string;
  readonly #writenl: string;
  #decoded = '';
  #pendingCR = false;

  /**
   * Wrap `buffer`. Use `sock.makefile('r')` rather than this.
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an unknown encoding or errors value, or an illegal newline.
   */
  constructor(buffer: BufferedReader | BufferedWriter | BufferedRWPair, encoding?: string | null, errors?: string | null, newline?: string | null) {
    super();
    const [enc, errs, nl] = textOptions(encoding, errors, newline);
    this.buffer = buffer;
    this.encoding = enc;
    this.errors = errs;
    this.mode = buffer.mode;
    this.#codec = codecFor(enc, errs);
    this.#universal = nl === null || nl === '';
    this.#translate = nl === null;
    this.#readnl = nl ?? '\n';
    this.#writenl = nl === null || nl === '' ? '\n' : nl;
  }

  /** True once closed. */
  get closed(): boolean { return this.buffer.closed; }

  #reader(): ReadBuffer {
    if (this.buffer.closed) throw new CodedError('ERR_FILE_CLOSED', 'I/O operation on closed file');
    if (!this.buffer.readable()) throw new CodedError('ERR_UNSUPPORTED_OPERATION', 'not readable');
    return this.buffer as ReadBuffer;
  }

  /** Decode one buffered read into #decoded; false at EOF or when a non-blocking socket had nothing. */
  #readChunk(reader: ReadBuffer): boolean {
    const chunk = reader.readChunk(CHUNK_SIZE);
    if (chunk === null) return false;
    const eof = chunk.length === 0;
    let text = this.#codec.decode(chunk, eof);
    if (this.#universal) {
      // Python's IncrementalNewlineDecoder: a '\r' at the end of a chunk
      // waits for the next one, which may start with '\n'.
      if (this.#pendingCR) {
        text = `\r${text}`;
        this.#pendingCR = false;
      }
      if (!eof && text.endsWith('\r')) {
        text = text.slice(0, -1);
        this.#pendingCR = true;
      }
      if (this.#translate) text = text.replace(/\r\n?/g, '\n');
    }
    this.#decoded += text;
    return !eof;
  }

  /**
   * Read `size` characters (UTF-16 units), waiting until that many came or
   * EOF; without `size`, until EOF. Non-blocking: what could be decoded
   * (`''` when nothing: Python's read(n) does the same).
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {TypeError} `ERR_UNICODE_DECODE` for invalid bytes with errors `'strict'`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  read(size?: number | null): string {
    const reader = this.#reader();
    const n = size === undefined || size === null ? -1 : size;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidArgType('size', 'an integer', size);
    while ((n < 0 || this.#decoded.length < n) && this.#readChunk(reader));
    const end = n < 0 ? this.#decoded.length : Math.min(n, this.#decoded.length);
    const out = this.#decoded.slice(0, end);
    this.#decoded = this.#decoded.slice(end);
    return out;
  }

  /** End of the first line in #decoded at or after `start` (see _pyio's readline), or -1. */
  #lineEnd(start: number): number {
    const text = this.#decoded;
    if (this.#translate) {
      const nl = text.indexOf('\n', start);
      return nl < 0 ? -1 : nl + 1;
    }
    if (!this.#universal) {
      // A '\r\n' may straddle the end of what was searched before.
      const nl = text.indexOf(this.#readnl, start > 0 ? start - 1 : 0);
      return nl < 0 ? -1 : nl + this.#readnl.length;
    }
    const nl = text.indexOf('\n', start);
    const cr = text.indexOf('\r', start);
    if (cr < 0) return nl < 0 ? -1 : nl + 1;
    if (nl >= 0 && nl < cr) return nl + 1;
    return nl === cr + 1 ? cr + 2 : cr + 1;
  }

  /**
   * One line with its line ending (translated per `newline`); at most
   * `limit` characters when `limit >= 0`; `''` at EOF (and, as in Python,
   * when a non-blocking socket has nothing yet).
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {TypeError} `ERR_UNICODE_DECODE` for invalid bytes with errors `'strict'`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  readline(limit?: number | null): string {
    const reader = this.#reader();
    const max = limit === undefined || limit === null ? -1 : limit;
    if (typeof max !== 'number' || !Number.isInteger(max)) throw invalidArgType('limit', 'an integer', limit);
    let start = 0;
    let end: number;
    for (;;) {
      end = this.#lineEnd(start);
      if (end >= 0) break;
      start = this.#decoded.length;
      if (max >= 0 && start >= max) break;
      if (!this.#readChunk(reader)) {
        end = this.#decoded.length;
        break;
      }
    }
    if (max >= 0 && (end < 0 || end > max)) end = max;
    const line = this.#decoded.slice(0, end);
    this.#decoded = this.#decoded.slice(end);
    return line;
  }

  /**
   * Encode and buffer `text` (with `'\n'` translated per `newline`);
   * returns `text.length`.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-string; `ERR_UNICODE_ENCODE` for text the encoding cannot hold.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send; `EAGAIN` with `charactersWritten` on a non-blocking socket.
   */
  write(text: string): number {
    if (typeof text !== 'string') throw invalidArgType('text', 'a string (write() argument must be str)', text);
    if (this.buffer.closed) throw new CodedError('ERR_FILE_CLOSED', 'I/O operation on closed file');
    if (!this.buffer.writable()) throw new CodedError('ERR_UNSUPPORTED_OPERATION', 'not writable');
    const out = this.#writenl === '\n' ? text : text.replaceAll('\n', this.#writenl);
    this.buffer.write(this.#codec.encode(out));
    return text.length;
  }

  /**
   * Send what is buffered.
   * @throws {CodedError} `ERR_FILE_CLOSED`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send; `EAGAIN` on a non-blocking socket that filled up.
   */
  flush(): void { this.buffer.flush(); }
  /** True if opened for reading. */
  readable(): boolean { return this.buffer.readable(); }
  /** True if opened for writing. */
  writable(): boolean { return this.buffer.writable(); }
  /** The socket's fd. @throws {CodedError} `ERR_FILE_CLOSED` once closed. */
  fileno(): number { return this.buffer.fileno(); }

  /**
   * Flush, then close the buffer (even when the flush throws). Idempotent.
   * @throws {SyscallError} from the flush or the socket's deferred close().
   */
  close(): void {
    this.flushAndClose(this.buffer);
  }
}

function textOptions(encoding: unknown, errors: unknown, newline: unknown): [string, string, string | null] {
  const name = encoding ?? 'utf-8';
  if (typeof name !== 'string') throw invalidArgType('encoding', 'a string', name);
  const enc = ENCODINGS[name.toLowerCase().replace(/_/g, '-')];
  if (enc === undefined) throw invalidArgValue('encoding', "is not an encoding this library knows (unknown encoding; 'utf-8', 'latin-1', 'ascii')", name);
  const errs = errors ?? 'strict';
  if (errs !== 'strict' && errs !== 'replace') throw invalidArgValue('errors', "must be 'strict' or 'replace'", errs);
  const nl = newline ?? null;
  if (nl !== null && nl !== '' && nl !== '\n' && nl !== '\r' && nl !== '\r\n') {
    throw invalidArgValue('newline', 'must be null, "", "\\n", "\\r" or "\\r\\n" (illegal newline value)', nl);
  }
  return [enc, errs, nl];
}

/**
 * The body of `Socket.makefile` (Python's `socket.makefile`): validate
 * everything, then build SocketIO → Buffered* → TextIOWrapper for `mode`.
 * `release` is called when the returned file (its SocketIO) closes.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a mode with letters other than r, w, b (Python: "invalid
 *   mode"), `buffering: 0` in text mode ("unbuffered streams must be binary"), a bad encoding/errors/newline;
 *   `ERR_INVALID_ARG_TYPE` for a non-string mode or a non-integer buffering.
 */
export function openSocketFile(sock: Socket, mode: string, options: MakefileOptions, release: () => void): BinaryFile | TextIOWrapper {
  if (typeof mode !== 'string') throw invalidArgType('mode', 'a string', mode);
  if (!/^[rwb]*$/.test(mode)) throw invalidArgValue('mode', 'may only contain r, w and b (invalid mode)', mode);
  const writing = mode.includes('w');
  const reading = mode.includes('r') || !writing;
  const binary = mode.includes('b');
  let buffering = options.buffering ?? -1;
  if (typeof buffering !== 'number' || !Number.isInteger(buffering)) throw invalidArgType('options.buffering', 'an integer', buffering);
  if (buffering < 0) buffering = DEFAULT_BUFFER_SIZE;
  if (buffering === 0 && !binary) throw invalidArgValue('options.buffering', 'must not be 0 in text mode (unbuffered streams must be binary)', 0);
  const text = binary ? undefined : textOptions(options.encoding, options.errors, options.newline);
  const raw = new SocketIO(sock, `${reading ? 'r' : ''}${writing ? 'w' : ''}b`, release);
  if (buffering === 0) return raw;
  let buffer: BufferedReader | BufferedWriter | BufferedRWPair;
  if (reading && writing) buffer = new BufferedRWPair(raw, buffering);
  else if (reading) buffer = new BufferedReader(raw, buffering);
  else buffer = new BufferedWriter(raw, buffering);
  if (text === undefined) return buffer;
  const file = new TextIOWrapper(buffer, ...text);
  file.mode = mode;
  return file;
}

export type { BinaryIO };
