/**
 * The file objects of `sock.makefile()`, as CPython builds them from
 * `socket.SocketIO` and the `io` module: {@link SocketIO} (the raw file,
 * `buffering: 0`), {@link BufferedReader}, {@link BufferedWriter},
 * {@link BufferedRWPair} (binary modes) and {@link TextIOWrapper} (text).
 *
 * Behaviour follows CPython's C `io` classes, checked against python3:
 * blocking reads wait until they have what they asked for (or EOF); in
 * timeout mode a read that times out throws SocketTimeoutError and the
 * file then refuses to read (`ERR_SOCKETIO_TIMED_OUT`); on a non-blocking
 * socket `SocketIO.readinto`/`write` and `BufferedReader.read`/`readinto`
 * return `null` where Python returns None, `readline`/`read1` return what
 * is buffered (possibly empty), and a buffered write that cannot complete
 * throws `EAGAIN` with `charactersWritten` (Python's BlockingIOError).
 */

import { CodedError, SocketTimeoutError, SyscallError, invalidArgType, invalidArgValue } from '../errors.js';
import { EAGAIN } from '../sys/constants.js';
import type { Socket } from './socket.js';

/** Python's `io.DEFAULT_BUFFER_SIZE`. */
export const DEFAULT_BUFFER_SIZE = 8192;

/** A `SyscallError` `EAGAIN` from a buffered write on a non-blocking socket (Python's BlockingIOError). */
export interface BlockingWriteError extends SyscallError {
  /** Bytes of the call's data that were sent or buffered (Python's `characters_written`). */
  charactersWritten: number;
}

function closedFile(op: string): CodedError {
  return new CodedError('ERR_FILE_CLOSED', op === 'I/O' ? 'I/O operation on closed file' : `${op} of closed file`);
}

function unsupported(what: string): CodedError {
  return new CodedError('ERR_UNSUPPORTED_OPERATION', `File or stream is not ${what}`);
}

function wouldBlock(syscall: string, written: number): BlockingWriteError {
  const err = new SyscallError(EAGAIN, syscall) as BlockingWriteError;
  err.charactersWritten = written;
  return err;
}

function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgType('data', 'a Buffer, a Uint8Array or another ArrayBufferView (a bytes-like object is required)', data);
}

function sizeArg(n: number | null | undefined): number {
  if (n === undefined || n === null) return -1;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidArgType('size', 'an integer', n);
  return n;
}

function concat(parts: Buffer[], total: number): Buffer {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}

/**
 * What every makefile() file object has (Python's `io.IOBase`): line
 * iteration, `readlines`, `close`/`closed`, `fileno`/`name`, `mode`.
 * `T` is `Buffer` in binary modes and `string` in text mode.
 */
export abstract class IOBase<T extends Buffer | string> implements Iterable<T> {
  /** The mode: `'rb'`, `'wb'`, `'rwb'` in binary modes, the mode given to makefile() in text mode. */
  abstract readonly mode: string;
  /** True once closed. */
  abstract get closed(): boolean;
  /**
   * Read one line, up to and including its line ending; at most `limit`
   * units when `limit >= 0`. Empty at EOF.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv (`ECONNRESET`, ...).
   */
  abstract readline(limit?: number | null): T;
  /** Flush, then release the socket (Idempotent). */
  abstract close(): void;
  /** Send what is buffered (nothing for a raw file or a reader). */
  abstract flush(): void;
  /**
   * The socket's fd.
   * @throws {CodedError} `ERR_FILE_CLOSED` once closed.
   */
  abstract fileno(): number;
  /** True if opened for reading. */
  abstract readable(): boolean;
  /** True if opened for writing. */
  abstract writable(): boolean;

  /** The socket's fd (Python's `name`), -1 once closed. */
  get name(): number {
    return this.closed ? -1 : this.fileno();
  }

  /** Sockets cannot seek: always false. */
  seekable(): boolean {
    return false;
  }

  /** A file object is never a terminal. */
  isatty(): boolean {
    return false;
  }

  /**
   * Lines until EOF (Python's `readlines`); with `hint > 0`, stops once
   * the lines read total `hint` units or more.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  readlines(hint?: number | null): T[] {
    const max = sizeArg(hint);
    const lines: T[] = [];
    let total = 0;
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (max > 0 && total >= max) return lines;
    }
  }

  /**
   * Iterate over lines until EOF (`for (const line of f)`), as Python's
   * `for line in f`.
   * @throws {CodedError} `ERR_FILE_CLOSED` when closed (and what readline throws).
   */
  *[Symbol.iterator](): Iterator<T> {
    if (this.closed) throw closedFile('I/O');
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /** Same as close() (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
  /** Flush, then close `inner` even when the flush throws (as Python's close()); nothing once closed. */
  protected flushAndClose(inner: { close(): void }): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      inner.close();
    }
  }
}

/** The binary file objects: {@link SocketIO}, {@link BufferedReader}, {@link BufferedWriter}, {@link BufferedRWPair}. */
export abstract class BinaryIO extends IOBase<Buffer> {
  /**
   * Read up to `size` bytes (all until EOF when omitted or negative). See
   * each class for how far it waits; `null` on a non-blocking socket with
   * nothing to read.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  abstract read(size?: number | null): Buffer | null;
  /**
   * Read into `buffer`; the count (0 at EOF), `null` on a non-blocking
   * socket with nothing to read.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffer` is not an ArrayBufferView.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  abstract readinto(buffer: Uint8Array | ArrayBufferView): number | null;
  /**
   * Write `data`; the count taken (see each class), `null` when a raw
   * write on a non-blocking socket would block.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for data that is not bytes.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send (`EPIPE`, ...); `EAGAIN` with `charactersWritten` ({@link BlockingWriteError}).
   */
  abstract write(data: Uint8Array | ArrayBufferView): number | null;
  /**
   * Send what is buffered.
   * @throws {CodedError} `ERR_FILE_CLOSED`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send; `EAGAIN` with `charactersWritten` 0 on a non-blocking socket.
   */
  abstract override flush(): void;
}

/**
 * The raw file over a socket (Python's `socket.SocketIO`, what
 * `makefile('rb', { buffering: 0 })` returns): every read is one recv,
 * every write one send. Closing it releases its hold on the socket.
 */
export class SocketIO extends BinaryIO {
  #sock: Socket | null;
  #release: () => void;
  #reading: boolean;
  #writing: boolean;
  #timedOut = false;
  /** `'rb'`, `'wb'` or `'rwb'`. */
  readonly mode: string;

  /**
   * Wrap `sock`; `release` is called once, on close (makefile passes the
   * socket's reference count). Use `sock.makefile()` rather than this.
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a mode other than rb/wb/rwb.
   */
  constructor(sock: Socket, mode: string, release: () => void = () => {}) {
    super();
    if (mode !== 'rb' && mode !== 'wb' && mode !== 'rwb') throw invalidArgValue('mode', 'must be rb, wb or rwb (invalid mode)', mode);
    this.#sock = sock;
    this.#release = release;
    this.#reading = mode !== 'wb';
    this.#writing = mode !== 'rb';
    this.mode = mode;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#sock === null;
  }

  #readSock(): Socket {
    const sock = this.#sock;
    if (sock === null) throw closedFile('read');
    if (!this.#reading) throw unsupported('readable');
    // As CPython: after a timeout the stream may have lost bytes.
    if (this.#timedOut) throw new CodedError('ERR_SOCKETIO_TIMED_OUT', 'cannot read from timed out object');
    return sock;
  }

  /**
   * One recv into `buffer`: the count, 0 at EOF, `null` when the socket is
   * non-blocking and nothing is there. A timeout marks the file timed out.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffer` is not an ArrayBufferView.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv (`ECONNRESET`, ...).
   */
  readinto(buffer: Uint8Array | ArrayBufferView): number | null {
    const sock = this.#readSock();
    try {
      return sock.recvInto(buffer);
    } catch (err) {
      if (err instanceof SocketTimeoutError) this.#timedOut = true;
      throw err;
    }
  }

  /**
   * One recv of up to `size` bytes; without `size` (or negative), all until
   * EOF ({@link SocketIO.readall}). `null` when non-blocking and nothing is there.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  read(size?: number | null): Buffer | null {
    const n = sizeArg(size);
    if (n < 0) return this.readall();
    const buf = Buffer.allocUnsafe(n);
    const r = this.readinto(buf);
    return r === null ? null : buf.subarray(0, r);
  }

  /**
   * Read until EOF (Python's `RawIOBase.readall`); on a non-blocking
   * socket, what was there, or `null` when nothing was.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  readall(): Buffer | null {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = this.read(DEFAULT_BUFFER_SIZE);
      if (chunk === null) return parts.length === 0 ? null : concat(parts, total);
      if (chunk.length === 0) return concat(parts.length === 0 ? [chunk] : parts, total);
      parts.push(chunk);
      total += chunk.length;
    }
  }

  /**
   * A line read one byte at a time (Python's `IOBase.readline` on a raw
   * file). Would-block in the middle of the line throws, as in Python
   * ("read() should have returned a bytes object, not 'NoneType'").
   * @throws {SyscallError} `EAGAIN` on a non-blocking socket with no complete line; from recv.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   */
  readline(limit?: number | null): Buffer {
    const max = sizeArg(limit);
    const parts: Buffer[] = [];
    const one = Buffer.allocUnsafe(1);
    while (max < 0 || parts.length < max) {
      const r = this.readinto(one);
      if (r === null) throw new SyscallError(EAGAIN, 'readline');
      if (r === 0) break;
      parts.push(Buffer.from(one));
      if (one[0] === 0x0a) break;
    }
    return Buffer.concat(parts);
  }

  /**
   * One send of `data`: the count the kernel took, `null` when the
   * socket is non-blocking and its buffer is full.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for data that is not bytes.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send (`EPIPE`, ...).
   */
  write(data: Uint8Array | ArrayBufferView): number | null {
    const sock = this.#sock;
    if (sock === null) throw closedFile('write');
    if (!this.#writing) throw unsupported('writable');
    return sock.send(bytesOf(data));
  }

  /**
   * Nothing to flush in a raw file.
   * @throws {CodedError} `ERR_FILE_CLOSED` once closed.
   */
  flush(): void {
    if (this.#sock === null) throw closedFile('flush');
  }

  /** True if opened for reading. */
  readable(): boolean {
    if (this.#sock === null) throw closedFile('I/O');
    return this.#reading;
  }

  /** True if opened for writing. */
  writable(): boolean {
    if (this.#sock === null) throw closedFile('I/O');
    return this.#writing;
  }

  /**
   * The socket's fd.
   * @throws {CodedError} `ERR_FILE_CLOSED` once closed.
   */
  fileno(): number {
    if (this.#sock === null) throw closedFile('I/O');
    return this.#sock.fileno();
  }

  /**
   * Release the socket: its fd is closed once the socket and every file
   * of makefile() are closed. Idempotent.
   * @throws {SyscallError} from the socket's deferred close().
   */
  close(): void {
    if (this.#sock === null) return;
    this.#sock = null;
    this.#release();
  }
}

function checkBufferSize(size: number): number {
  if (!Number.isInteger(size) || size <= 0) {
    const err = new RangeError(`The value of "bufferSize" is out of range. It must be > 0. Received ${String(size)}`) as RangeError & { code: string };
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  return size;
}

/**
 * What BufferedReader and BufferedWriter share (Python's
 * `_BufferedIOMixin`): the raw file and a buffer of `bufferSize` bytes.
 */
export abstract class Buffered extends BinaryIO {
  /** The raw file underneath. */
  readonly raw: SocketIO;
  /** The buffer. */
  protected readonly buf: Buffer;

  /**
   * Buffer `raw` with `bufferSize` bytes.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a buffer size below 1.
   */
  constructor(raw: SocketIO, bufferSize = DEFAULT_BUFFER_SIZE) {
    super();
    this.raw = raw;
    this.buf = Buffer.allocUnsafe(checkBufferSize(bufferSize));
  }

  /** The raw file's mode. */
  get mode(): string { return this.raw.mode; }
  /** True once closed. */
  get closed(): boolean { return this.raw.closed; }

  /** Throw ERR_FILE_CLOSED for `op` once closed. */
  protected check(op: string): void {
    if (this.raw.closed) throw closedFile(op);
  }

  /**
   * The socket's fd.
   * @throws {CodedError} `ERR_FILE_CLOSED` once closed.
   */
  fileno(): number { return this.raw.fileno(); }
}

/**
 * Python's `io.BufferedReader` over a {@link SocketIO} (makefile's `'rb'`):
 * reads fill a buffer of `bufferSize` bytes with as few recv calls as
 * possible.
 */
export class BufferedReader extends Buffered {
  #pos = 0;
  #end = 0;

  /** Refill the buffer, which every caller has emptied, with one raw read: the count, 0 at EOF, null on would-block. */
  #fill(): number | null {
    const r = this.raw.readinto(this.buf);
    this.#pos = 0;
    this.#end = r ?? 0;
    return r;
  }

  #take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return out;
  }

  /**
   * Read `size` bytes, waiting (blocking or timeout mode) until that many
   * came or EOF; without `size`, until EOF. Non-blocking: what is there,
   * `null` if nothing is.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  read(size?: number | null): Buffer | null {
    this.check('read');
    const n = sizeArg(size);
    if (n >= 0) {
      if (this.#end - this.#pos >= n) return this.#take(n);
      const out = Buffer.allocUnsafe(n);
      const got = this.#readInto(out);
      return got === null ? null : out.subarray(0, got);
    }
    const parts: Buffer[] = [];
    let total = this.#end - this.#pos;
    if (total > 0) parts.push(this.#take(total));
    for (;;) {
      const chunk = this.raw.read(Math.max(this.buf.length, DEFAULT_BUFFER_SIZE));
      if (chunk === null) return parts.length === 0 ? null : concat(parts, total);
      if (chunk.length === 0) return parts.length === 0 ? chunk : concat(parts, total);
      parts.push(chunk);
      total += chunk.length;
    }
  }

  /** Fill `out` from the buffer then the raw file (until full, EOF or would-block). */
  #readInto(out: Uint8Array): number | null {
    const want = out.length;
    let got = Math.min(this.#end - this.#pos, want);
    out.set(this.buf.subarray(this.#pos, this.#pos + got));
    this.#pos += got;
    while (got < want) {
      // Large remainders go straight into `out`; small ones through the buffer.
      const direct = want - got >= this.buf.length;
      const r = direct ? this.raw.readinto(out.subarray(got)) : this.#fill();
      if (r === null) return got === 0 ? null : got;
      if (r === 0) break;
      if (!direct) {
        const n = Math.min(this.#end - this.#pos, want - got);
        out.set(this.buf.subarray(this.#pos, this.#pos + n), got);
        this.#pos += n;
        got += n;
      } else {
        got += r;
      }
    }
    return got;
  }

  /**
   * Read into `buffer` until it is full or EOF (as `read(buffer.length)`).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffer` is not an ArrayBufferView.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  readinto(buffer: Uint8Array | ArrayBufferView): number | null {
    const out = bytesOf(buffer);
    this.check('readinto');
    return out.length === 0 ? 0 : this.#readInto(out);
  }

  /**
   * At most one recv: up to `size` bytes (the buffer's size when omitted)
   * of what is buffered, or of one raw read when nothing is; empty at EOF
   * and, as in Python, when a non-blocking socket has nothing.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  read1(size?: number | null): Buffer {
    this.check('read');
    let n = sizeArg(size);
    if (n < 0) n = this.buf.length;
    if (n === 0) return Buffer.alloc(0);
    if (this.#end === this.#pos) this.#fill();
    return this.#take(Math.min(n, this.#end - this.#pos));
  }

  /** {@link BufferedReader.read1} telling would-block (null) from EOF (empty): for TextIOWrapper. */
  readChunk(size: number): Buffer | null {
    this.check('read');
    if (this.#end === this.#pos && this.#fill() === null) return null;
    return this.#take(Math.min(size, this.#end - this.#pos));
  }

  /**
   * The buffered bytes without consuming them, after one raw read if the
   * buffer is empty (`size` is ignored, as in CPython).
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  peek(size?: number): Buffer {
    void size;
    this.check('peek');
    if (this.#end === this.#pos) this.#fill();
    return Buffer.from(this.buf.subarray(this.#pos, this.#end));
  }

  /**
   * One line, through the buffer; at EOF (or, non-blocking, when no more
   * bytes are there) what was read so far, possibly empty.
   * @throws {CodedError} `ERR_FILE_CLOSED`, `ERR_UNSUPPORTED_OPERATION`, `ERR_SOCKETIO_TIMED_OUT`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from recv.
   */
  readline(limit?: number | null): Buffer {
    this.check('readline');
    const max = sizeArg(limit);
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = max < 0 ? Infinity : max - total;
      const avail = this.#end - this.#pos;
      const nl = avail === 0 ? -1 : this.buf.subarray(this.#pos, this.#end).indexOf(0x0a);
      if (nl >= 0 && nl < want) {
        parts.push(this.#take(nl + 1));
        break;
      }
      if (avail >= want) {
        parts.push(this.#take(want));
        break;
      }
      if (avail > 0) parts.push(this.#take(avail));
      total += avail;
      const r = this.#fill();
      if (r === null || r === 0) break;
    }
    return parts.length === 0 ? Buffer.alloc(0) : Buffer.concat(parts);
  }

  /**
   * Writing is not supported.
   * @throws {CodedError} `ERR_FILE_CLOSED` or `ERR_UNSUPPORTED_OPERATION`, always.
   */
  write(data: Uint8Array | ArrayBufferView): number | null {
    void data;
    this.check('write');
    throw unsupported('writable');
  }

  /**
   * Nothing to flush when reading.
   * @throws {CodedError} `ERR_FILE_CLOSED` once closed.
   */
  flush(): void {
    this.check('flush');
  }

  /** True. */
  readable(): boolean { return this.raw.readable(); }
  /** False. */
  writable(): boolean { this.check('I/O'); return false; }
  /**
   * Close the raw file (Idempotent).
   * @throws {SyscallError} from the socket's deferred close().
   */
  close(): void { this.raw.close(); }
}


/**
 * Python's `io.BufferedWriter` over a {@link SocketIO} (makefile's
 * `'wb'`): writes gather in a buffer of `bufferSize` bytes, sent when it
 * fills, on flush() and on close(). Large writes go straight to the socket.
 */
export class BufferedWriter extends Buffered {
  #len = 0;

  /** Send the buffer; false when a non-blocking socket filled up (the rest stays buffered). */
  #drain(): boolean {
    let off = 0;
    try {
      while (off < this.#len) {
        const n = this.raw.write(this.buf.subarray(off, this.#len));
        if (n === null) return false;
        off += n;
      }
      return true;
    } finally {
      if (off > 0) {
        this.buf.copyWithin(0, off, this.#len);
        this.#len -= off;
      }
    }
  }

  /**
   * Buffer `data`, sending as the buffer fills; returns `data.length`.
   * On a non-blocking socket that cannot take it all, throws `EAGAIN` with
   * `charactersWritten` = the bytes of `data` sent or buffered (CPython).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for data that is not bytes (a string too, as Python).
   * @throws {CodedError} `ERR_FILE_CLOSED`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send (`EPIPE`, ...); `EAGAIN` ({@link BlockingWriteError}).
   */
  write(data: Uint8Array | ArrayBufferView): number {
    const b = bytesOf(data);
    if (this.raw.closed) throw closedFile('write');
    const size = this.buf.length;
    if (this.#len + b.length <= size) {
      this.buf.set(b, this.#len);
      this.#len += b.length;
      return b.length;
    }
    if (!this.#drain()) {
      const room = Math.min(size - this.#len, b.length);
      this.buf.set(b.subarray(0, room), this.#len);
      this.#len += room;
      if (room === b.length) return room;
      throw wouldBlock('write', room);
    }
    let written = 0;
    while (b.length - written > size) {
      const n = this.raw.write(b.subarray(written));
      if (n === null) {
        this.buf.set(b.subarray(written, written + size));
        this.#len = size;
        throw wouldBlock('write', written + size);
      }
      written += n;
    }
    this.buf.set(b.subarray(written));
    this.#len = b.length - written;
    return b.length;
  }

  /**
   * Send what is buffered.
   * @throws {CodedError} `ERR_FILE_CLOSED`.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} from send; `EAGAIN` with `charactersWritten` 0 on a non-blocking socket that filled up.
   */
  flush(): void {
    if (this.raw.closed) throw closedFile('flush');
    if (!this.#drain()) throw wouldBlock('flush', 0);
  }

  /**
   * Reading is not supported.
   * @throws {CodedError} `ERR_FILE_CLOSED` or `ERR_UNSUPPORTED_OPERATION`, always.
   */
  read(size?: number | null): Buffer | null {
    void size;
    return this.#noRead();
  }

  /**
   * Reading is not supported.
   * @throws {CodedError} `ERR_FILE_CLOSED` or `ERR_UNSUPPORTED_OPERATION`, always.
   */
  readinto(buffer: Uint8Array | ArrayBufferView): number | null {
    void buffer;
    return this.#noRead();
  }

  /**
   * Reading is not supported.
   * @throws {CodedError} `ERR_FILE_CLOSED` or `ERR_UNSUPPORTED_OPERATION`, always.
   */
  readline(limit?: number | null): Buffer {
    void limit;
    return this.#noRead();
  }

  #noRead(): never {
    if (this.raw.closed) throw closedFile('read');
    throw unsupported('readable');
  }

  /** False. */
  readable(): boolean { this.check('I/O'); return false; }
  /** True. */
  writable(): boolean { return this.raw.writable(); }

  /**
   * Flush, then close the raw file (even when the flush throws, as Python). Idempotent.
   * @throws {SocketTimeoutError} `ETIMEDOUT` from the flush, in timeout mode.
   * @throws {SyscallError} from the flush's send or the socket's deferred close().
   */
  close(): void {
    this.flushAndClose(this.raw);
  }
}

/**
 * Python's `io.BufferedRWPair` (makefile's `'rwb'`): a
 * {@link BufferedReader} and a {@link BufferedWriter} over one
 * {@link SocketIO}. Its `mode` is `'rwb'` (CPython's pair has none).
 */
export class BufferedRWPair extends BinaryIO {
  /** The reading half. */
  readonly reader: BufferedReader;
  /** The writing half. */
  readonly writer: BufferedWriter;

  /**
   * Pair a reader and a writer over `raw`.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a buffer size below 1.
   */
  constructor(raw: SocketIO, bufferSize = DEFAULT_BUFFER_SIZE) {
    super();
    this.reader = new BufferedReader(raw, bufferSize);
    this.writer = new BufferedWriter(raw, bufferSize);
  }

  /** `'rwb'`. */
  get mode(): string { return this.reader.mode; }
  /** True once closed. */
  get closed(): boolean { return this.reader.closed; }
  /** See {@link BufferedReader.read}. @throws {CodedError} as BufferedReader.read. */
  read(size?: number | null): Buffer | null { return this.reader.read(size); }
  /** See {@link BufferedReader.read1}. @throws {CodedError} as BufferedReader.read1. */
  read1(size?: number | null): Buffer { return this.reader.read1(size); }
  /** See {@link BufferedReader.readinto}. @throws {CodedError} as BufferedReader.readinto. */
  readinto(buffer: Uint8Array | ArrayBufferView): number | null { return this.reader.readinto(buffer); }
  /** See {@link BufferedReader.readline}. @throws {CodedError} as BufferedReader.readline. */
  readline(limit?: number | null): Buffer { return this.reader.readline(limit); }
  /** See {@link BufferedReader.peek}. @throws {CodedError} as BufferedReader.peek. */
  peek(size?: number): Buffer { return this.reader.peek(size); }
  /** For TextIOWrapper: see {@link BufferedReader.readChunk}. @throws {CodedError} as BufferedReader.read1. */
  readChunk(size: number): Buffer | null { return this.reader.readChunk(size); }
  /** See {@link BufferedWriter.write}. @throws {SyscallError} as BufferedWriter.write. */
  write(data: Uint8Array | ArrayBufferView): number { return this.writer.write(data); }
  /** See {@link BufferedWriter.flush}. @throws {SyscallError} as BufferedWriter.flush. */
  flush(): void { this.writer.flush(); }
  /** True. */
  readable(): boolean { return this.reader.readable(); }
  /** True. */
  writable(): boolean { return this.writer.writable(); }
  /** The socket's fd. @throws {CodedError} `ERR_FILE_CLOSED` once closed. */
  fileno(): number { return this.reader.fileno(); }

  /**
   * Close the writer (flushing it), then the reader, as Python. Idempotent.
   * @throws {SyscallError} from the flush or the socket's deferred close().
   */
  close(): void {
    try {
      this.writer.close();
    } finally {
      this.reader.close();
    }
  }
}
