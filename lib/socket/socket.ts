/**
 * Python's `socket.socket` over libc: the {@link Socket} class and the
 * module functions that make sockets (`socketpair`, `createConnection`,
 * `createServer`) plus the default timeout.
 *
 * Blocking, non-blocking and timeout modes follow CPython: the fd is
 * O_NONBLOCK whenever a timeout (including 0) is set, and in timeout mode
 * every operation first waits with poll() for the time left. Where Python
 * raises `BlockingIOError`, non-blocking calls here return `null`.
 */

import { inspect } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import {
  AF_INET, AF_INET6, AF_UNIX, EAGAIN, ECONNRESET, EINTR, EBADF, F_DUPFD_CLOEXEC, FIONBIO,
  IPPROTO_IPV6, IPV6_V6ONLY, MSG_NOSIGNAL, POLLIN, POLLOUT, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_DOMAIN, SO_PROTOCOL, SO_REUSEADDR,
  SO_REUSEPORT, SO_TYPE, SOMAXCONN, SO_PEERCRED, F_GETFD, F_SETFD, FD_CLOEXEC,
  EINPROGRESS, EPOLLIN, EPOLLOUT, SO_ERROR,
} from '../sys/constants.js';
import { SOCKADDR_STORAGE_SIZE, UCRED_SIZE } from '../sys/structs.js';
import { closeAtThreadExit, keepAtThreadExit, libc, type Libc } from '../sys/libc.js';
import { WOULD_BLOCK, check, connectCall, errnoOf, sockCall, type DataCall } from '../sys/call.js';
import {
  CodedError, SocketTimeoutError, SyscallError, invalidArgType, invalidArgValue, outOfRange, type ErrorTarget,
} from '../errors.js';
import { monotonicMs, socketTimeout } from '../timeout.js';
import {
  decodeAddress, encodeAddress, formatAddress, getaddrinfoWith, sockaddrTarget,
  type Address, type SocketAddress,
} from './address.js';
import { openSocketFile, type BinaryFile, type MakefileOptions, type TextIOWrapper } from './text-io.js';
import { sendfileFrom, type SendfileSource } from './sendfile.js';
import { reactorFor, reactorIfAny, type Direction, type Reactor } from './reactor.js';
import {
  recvmsgOn, sendmsgOn, writableList,
  type AncDataIn, type MsgTarget, type RecvmsgIntoResult, type RecvmsgResult,
} from './msg.js';

/** Extra, non-Python options of the {@link Socket} constructor and the module functions. */
export interface SocketOptions {
  /** The libc binding table to call through (tests pass a scripted one); default {@link libc}(). */
  sys?: Libc;
  /**
   * The wrapped `fileno` belongs to someone else (e.g. a Socket of another
   * thread, which will close it): this Socket never closes it by itself —
   * not when it is garbage-collected unclosed, nor when its worker thread
   * ends. `close()` and `detach()` work as usual. Only with `fileno`.
   */
  borrowed?: boolean;
}

/** Options of the `*Async` socket methods. */
export interface AsyncOptions {
  /** Abort the wait: the promise rejects with an `AbortError` (code `ABORT_ERR`). */
  signal?: AbortSignal;
}

/** What `send`/`sendall`/`sendto` take: bytes, or a string sent as UTF-8 (a Node convenience). */
export type SendData = Uint8Array | ArrayBufferView | string;

/** A `SyscallError` from `sendall()`, with how many bytes went out before it. */
export interface SendallError extends SyscallError {
  /** Bytes sent before the failure (Python's `BlockingIOError.characters_written`). */
  bytesSent: number;
}

// Shared scratch memory. Every call below is synchronous and finishes with
// these before returning, so one set per process is enough.
const ADDR = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
const ADDRLEN = new Uint32Array(1);
const INT = Buffer.alloc(4);
const INTLEN = new Uint32Array(1);

// The socket calls, as sockCall() makes them (no captured variables: the
// hot path allocates no closure). ADDR/ADDRLEN receive or hold the address.
const RECV: DataCall = (sys, fd, buf, len, flags) => sys.recv(fd, buf, len, flags);
const SEND: DataCall = (sys, fd, buf, len, flags) => sys.send(fd, buf, len, flags);
const RECVFROM: DataCall = (sys, fd, buf, len, flags) => {
  ADDRLEN[0] = SOCKADDR_STORAGE_SIZE;
  return sys.recvfrom(fd, buf, len, flags, ADDR, ADDRLEN);
};
// `len` here is the length of the destination address in ADDR.
const SENDTO: DataCall = (sys, fd, buf, addrlen, flags) => sys.sendto(fd, buf, buf.byteLength, flags, ADDR, addrlen);
const ACCEPT: DataCall = (sys, fd, _buf, _len, flags) => {
  ADDRLEN[0] = SOCKADDR_STORAGE_SIZE;
  return sys.accept4(fd, ADDR, ADDRLEN, flags);
};

// Set while adopt() wraps an accepted fd that accept4 made O_NONBLOCK
// although the new socket starts in blocking mode (see Socket.#lazyNonblocking).
let adoptingNonblocking = false;
const NO_BYTES = new Uint8Array(0);

const SCRATCH_MAX = 64 * 1024;
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

function scratchFor(n: number): Buffer {
  if (scratch.length < n) {
    let size = scratch.length;
    while (size < n) size *= 2;
    scratch = Buffer.allocUnsafeSlow(size);
  }
  return scratch;
}

/** Copy the first `n` received bytes of `buf` (scratch or a big one-off) into the result. */
function takeReceived(buf: Buffer, n: number, bufsize: number): Buffer {
  if (buf !== scratch && n >= bufsize >>> 1) return n === buf.length ? buf : buf.subarray(0, n);
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, 0, n);
  return out;
}

let defaultTimeout: number | null = null;

/**
 * The timeout new sockets start with (Python's `socket.getdefaulttimeout`):
 * `null` (blocking) unless {@link setdefaulttimeout} changed it.
 */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/**
 * Set the timeout, in seconds, that sockets created from now on start with
 * (`null` = blocking, `0` = non-blocking), as Python's
 * `socket.setdefaulttimeout`. Accepted sockets get it too.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number (or NaN).
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or infinite value.
 */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = socketTimeout(timeout, 'timeout');
}

/** The address/port (or path) of an address as given, for an error message. */
function addressTarget(address: Address): ErrorTarget | undefined {
  if (typeof address === 'string') return { path: address };
  if (Array.isArray(address) && typeof address[0] === 'string' && typeof address[1] === 'number') return { address: address[0], port: address[1] };
  return undefined;
}

function closedError(syscall: string): SyscallError {
  return new SyscallError(EBADF, syscall);
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

function sizeError(name: string, value: unknown): Error {
  if (typeof value !== 'number') return invalidArgType(name, 'a non-negative integer', value);
  return outOfRange(name, 'a non-negative integer', value);
}

function checkFlags(flags: unknown, name = 'flags'): number {
  if (((flags as number) | 0) === flags) return flags as number;
  if (typeof flags !== 'number') throw invalidArgType(name, 'an integer', flags);
  throw outOfRange(name, 'a 32-bit integer', flags);
}

function toBytes(data: unknown, name: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgType(name, 'a Buffer, a Uint8Array or a string', data);
}

function toWritable(buffer: unknown, name: string): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw invalidArgType(name, 'a Buffer, a Uint8Array or another ArrayBufferView', buffer);
}

function intArg(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'an integer', value);
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw outOfRange(name, 'a 32-bit integer', value);
  return value;
}

// ---- Sockets dropped without close() (Python's ResourceWarning).
//
// Every Socket that owns its fd is registered once, at construction, with
// what the warning needs (no syscall, no closure); close() and detach()
// unregister it. In a worker thread the fd is also closed when the thread
// ends, even by terminate() (closeAtThreadExit).

/** What the finalizer knows of a Socket that was dropped unclosed. */
interface Owned {
  fd: number;
  family: number;
  type: number;
  proto: number;
  sys: Libc;
  atThreadExit: boolean;
}

function closeUnclosed(owned: Owned): void {
  const { fd, sys } = owned;
  let text: string;
  try {
    if (owned.atThreadExit) keepAtThreadExit(fd);
    text = reprOf(sys, fd, owned.family, owned.type, owned.proto, false);
    sys.close(fd);
  } catch {
    return;
  }
  process.emitWarning(`unclosed ${text}`, {
    type: 'ResourceWarning',
    code: 'ERR_SOCKET_UNCLOSED',
    detail: 'A Socket was garbage-collected without close(); its fd was closed then. Close sockets when done with them.',
  });
}

const unclosed = new FinalizationRegistry<Owned>(closeUnclosed);
const inWorker = !isMainThread;

const FAMILY_NAMES: Record<number, string> = { [AF_INET]: 'AF_INET', [AF_INET6]: 'AF_INET6', [AF_UNIX]: 'AF_UNIX' };
const TYPE_NAMES: Record<number, string> = {
  [SOCK_STREAM]: 'SOCK_STREAM', [SOCK_DGRAM]: 'SOCK_DGRAM', [SOCK_RAW]: 'SOCK_RAW', [SOCK_SEQPACKET]: 'SOCK_SEQPACKET',
};

/**
 * A socket, as Python's `socket.socket`: `new Socket(family, type, proto,
 * fileno)` with Python's positional order and defaults (AF_INET,
 * SOCK_STREAM, 0). The fd is always created close-on-exec. With `fileno`,
 * that fd is wrapped and any of family/type/proto left `undefined`/`null`
 * is read from it (SO_DOMAIN, SO_TYPE, SO_PROTOCOL). A `type` that
 * includes SOCK_NONBLOCK starts non-blocking (timeout 0); otherwise the
 * socket starts with {@link getdefaulttimeout}.
 *
 * Modes (Python's): `settimeout(null)` blocks; `settimeout(0)` /
 * `setblocking(false)` never waits, and where Python raises
 * `BlockingIOError` the call returns `null`; `settimeout(s)` waits with
 * poll() up to `s` seconds per call and then throws a
 * {@link SocketTimeoutError}. EINTR is retried everywhere.
 */
export class Socket {
  #sys: Libc;
  #fd: number;
  #family: number;
  #type: number;
  #proto: number;
  #timeout: number | null = null;
  // -1 blocking, 0 non-blocking, > 0 timeout mode (milliseconds, unrounded).
  #timeoutMs = -1;
  // The fd is O_NONBLOCK while the mode is blocking: accept() takes the
  // fd non-blocking, as nearly every caller makes it so at once
  // (`setblocking(false)`: then no ioctl is needed). The first use that
  // needs it blocking — a call in blocking mode, fileno(), detach(), dup()
  // — makes it so first (#mode), so nothing outside ever sees the difference.
  #lazyNonblocking = false;

  /**
   * Create a socket, or wrap `fileno`.
   * @param family address family (AF_INET, AF_INET6, AF_UNIX); default AF_INET.
   * @param type SOCK_STREAM or SOCK_DGRAM, optionally `| SOCK_NONBLOCK`; default SOCK_STREAM.
   * @param proto protocol number; default 0.
   * @param fileno an open socket fd to wrap instead of creating one.
   * @param options `sys`: the libc table to use (tests).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer family/type/proto/fileno.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fileno or values outside int32.
   * @throws {SyscallError} from socket() (`EAFNOSUPPORT`, `EMFILE`, ...) or, for a wrapped fd whose
   *   family/type/proto must be detected, from getsockopt (`EBADF`, `ENOTSOCK`).
   */
  constructor(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null, options?: SocketOptions) {
    const sys = options?.sys ?? libc();
    this.#sys = sys;
    let fam = family === undefined || family === null ? -1 : intArg(family, 'family');
    let typ = type === undefined || type === null ? -1 : intArg(type, 'type');
    let pro = proto === undefined || proto === null ? -1 : intArg(proto, 'proto');
    let created = false;
    if (fileno === undefined || fileno === null) {
      if (fam === -1) fam = AF_INET;
      if (typ === -1) typ = SOCK_STREAM;
      if (pro === -1) pro = 0;
      this.#fd = check(sys, sys.socket(fam, typ | SOCK_CLOEXEC, pro), 'socket');
      created = true;
    } else {
      if (typeof fileno !== 'number' || !Number.isInteger(fileno)) throw invalidArgType('fileno', 'an integer file descriptor', fileno);
      if (fileno < 0 || fileno > 0x7fffffff) throw outOfRange('fileno', 'a file descriptor >= 0', fileno);
      this.#fd = fileno;
      this.#lazyNonblocking = adoptingNonblocking;
      if (fam === -1) fam = this.#intOption(SO_DOMAIN, 'socket');
      if (typ === -1) typ = this.#intOption(SO_TYPE, 'socket');
      if (pro === -1) pro = this.#intOption(SO_PROTOCOL, 'socket');
    }
    this.#family = fam;
    this.#type = typ & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    this.#proto = pro;
    if ((typ & SOCK_NONBLOCK) !== 0) {
      this.#timeout = 0;
      this.#timeoutMs = 0;
    } else if (defaultTimeout !== null) {
      try {
        this.#setTimeout(defaultTimeout, 'socket');
      } catch (err) {
        if (created) sys.close(this.#fd);
        throw err;
      }
    }
    if (options?.borrowed !== true) this.#own(sys);
  }

  // Registered with `unclosed` (and, in a worker, closed at thread exit)
  // from construction until close()/detach().
  #owned = false;
  #atThreadExit = false;

  #own(sys: Libc): void {
    const fd = this.#fd;
    const atThreadExit = inWorker && sys === libc();
    if (atThreadExit) closeAtThreadExit(fd);
    this.#atThreadExit = atThreadExit;
    unclosed.register(this, { fd, family: this.#family, type: this.#type, proto: this.#proto, sys, atThreadExit }, this);
    this.#owned = true;
  }

  /** The fd is about to be closed or handed on: nothing may close it for us any more. */
  #disown(fd: number): void {
    if (!this.#owned) return;
    this.#owned = false;
    unclosed.unregister(this);
    if (this.#atThreadExit) keepAtThreadExit(fd);
  }

  #intOption(name: number, syscall: string): number {
    INTLEN[0] = 4;
    check(this.#sys, this.#sys.getsockopt(this.#fd, SOL_SOCKET, name, INT, INTLEN), syscall);
    return INT.readInt32LE(0);
  }

  /** Address family (AF_INET, AF_INET6, AF_UNIX, ...). */
  get family(): number { return this.#family; }

  /** Socket type without the SOCK_NONBLOCK/SOCK_CLOEXEC flags (as Python 3.7+). */
  get type(): number { return this.#type; }

  /** Protocol number (0 for the family's default). */
  get proto(): number { return this.#proto; }

  /** True once `close()` or `detach()` was called (even while files of `makefile()` keep the fd open). */
  get closed(): boolean { return this.#fd < 0 || this.#closePending; }

  /** The current timeout in seconds (Python's `sock.timeout`); see {@link Socket.gettimeout}. */
  get timeout(): number | null { return this.#timeout; }

  /** The fd, or -1 after `close()`/`detach()`. */
  fileno(): number {
    if (this.#lazyNonblocking) this.#mode('fileno');
    return this.#fd;
  }

  #setTimeout(timeout: number | null, syscall: string): void {
    // ioctl(FIONBIO) flips O_NONBLOCK in one call (what CPython does on
    // Linux); note that O_NONBLOCK belongs to the open file description, so
    // dup()ed sockets share it.
    if (!(this.#lazyNonblocking && timeout !== null)) {
      INT.writeInt32LE(timeout === null ? 0 : 1, 0);
      check(this.#sys, this.#sys.ioctl(this.#fd, FIONBIO, INT), syscall);
    }
    this.#lazyNonblocking = false;
    this.#timeout = timeout;
    this.#timeoutMs = timeout === null ? -1 : timeout * 1e3;
  }

  /** The mode for a call (#timeoutMs), the fd first made blocking if it is lazily non-blocking. */
  #mode(syscall: string): number {
    if (this.#lazyNonblocking) this.#setTimeout(this.#timeout, syscall);
    return this.#timeoutMs;
  }

  /**
   * Set the timeout in seconds: `null` blocks, `0` is non-blocking, a
   * positive number waits at most that long in each call (Python's
   * `settimeout`).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or infinite value.
   * @throws {SyscallError} `EBADF` (syscall `settimeout`) on a closed socket.
   */
  settimeout(timeout: number | null): void {
    const t = socketTimeout(timeout, 'timeout');
    if (this.#fd < 0) throw closedError('settimeout');
    this.#setTimeout(t, 'settimeout');
  }

  /** The timeout in seconds, `null` in blocking mode, `0` when non-blocking. */
  gettimeout(): number | null {
    return this.#timeout;
  }

  /**
   * `setblocking(true)` is `settimeout(null)`, `setblocking(false)` is
   * `settimeout(0)`. Sockets from `accept()` start blocking (unless a
   * default timeout is set): servers driven by a selector call
   * `setblocking(false)` on them, as the multiconn seed does.
   * @throws {SyscallError} `EBADF` (syscall `setblocking`) on a closed socket.
   */
  setblocking(flag: boolean): void {
    if (this.#fd < 0) throw closedError('setblocking');
    this.#setTimeout(flag ? null : 0, 'setblocking');
  }

  /** False when non-blocking (timeout 0); true in blocking and in timeout mode, as Python. */
  getblocking(): boolean {
    return this.#timeout !== 0;
  }

  /**
   * Bind to `address` (`['127.0.0.1', 0]`, `['::1', 0]`, `['', port]` for
   * any, a path for AF_UNIX).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a wrong address shape.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad port or an AF_UNIX path too long.
   * @throws {SyscallError} `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, `EBADF`... with `address`/`port` or `path`
   *   (message `bind EADDRINUSE 127.0.0.1:8080`); `ENOTFOUND`/`EAI_*` when a host name does not resolve.
   */
  bind(address: Address): void {
    if (this.#fd < 0) throw closedError('bind');
    const sys = this.#sys;
    const len = encodeAddress(this.#family, address, ADDR, sys);
    check(sys, sys.bind(this.#fd, ADDR, len), 'bind', () => sockaddrTarget(ADDR, len));
  }

  /**
   * Start accepting connections. `backlog` defaults to min(SOMAXCONN, 128)
   * like Python; a negative value counts as 0.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer backlog.
   * @throws {SyscallError} `EBADF`, `ENOTSUP` (errno 95, EOPNOTSUPP: e.g. a datagram socket)...
   */
  listen(backlog?: number): void {
    let n = backlog === undefined ? Math.min(SOMAXCONN, 128) : intArg(backlog, 'backlog');
    if (n < 0) n = 0;
    if (this.#fd < 0) throw closedError('listen');
    check(this.#sys, this.#sys.listen(this.#fd, n), 'listen');
  }

  /**
   * Accept a connection: `[socket, address]`. The new socket is
   * close-on-exec and blocking (or has the default timeout, if one is set),
   * as in Python — call `setblocking(false)` on it for a selector loop.
   * Non-blocking and nothing pending: `null` (Python raises BlockingIOError).
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode when no connection came in time.
   * @throws {SyscallError} `EBADF` (closed), `EINVAL` (not listening), `EMFILE`, `ECONNABORTED`...
   */
  accept(): [Socket, SocketAddress] | null {
    const fd = this.#fd;
    if (fd < 0) throw closedError('accept');
    const sys = this.#sys;
    // A new socket that starts blocking is taken O_NONBLOCK all the same:
    // see #lazyNonblocking.
    const lazy = defaultTimeout === null;
    const nfd = sockCall(sys, fd, this.#mode('accept'), POLLIN, 'accept', ACCEPT, NO_BYTES, 0, SOCK_CLOEXEC | (lazy ? SOCK_NONBLOCK : 0));
    if (nfd === WOULD_BLOCK) return null;
    const address = decodeAddress(ADDR, ADDRLEN[0]) ?? '';
    return [adopt(sys, nfd, this.#family, this.#type, this.#proto, lazy), address];
  }

  /** connect() with CPython's waiting rules; the errno, 0 on success, and the address length. */
  #connect(address: Address, syscall: string): { errno: number; len: number } {
    const sys = this.#sys;
    const fd = this.#fd;
    const len = encodeAddress(this.#family, address, ADDR, sys);
    return { errno: connectCall(sys, fd, this.#mode(syscall), syscall, () => sys.connect(fd, ADDR, len)), len };
  }

  /**
   * Connect to `address`. Blocking: returns once connected. Non-blocking:
   * throws code `EINPROGRESS` while the connection is under way (exactly
   * Python's BlockingIOError; wait for writability, then read SO_ERROR or
   * call `connectEx`). Timeout mode: waits up to the timeout.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a wrong address shape.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad port or an AF_UNIX path too long.
   * @throws {SyscallError} `ECONNREFUSED`, `ENOENT`, `EINPROGRESS`, `ENETUNREACH`, `EBADF`... with
   *   `address`/`port` or `path` (message `connect ECONNREFUSED 127.0.0.1:9`); `ENOTFOUND`/`EAI_*` for a name
   *   that does not resolve.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   */
  connect(address: Address): void {
    if (this.#fd < 0) throw closedError('connect');
    const { errno, len } = this.#connect(address, 'connect');
    if (errno !== 0) throw new SyscallError(errno, 'connect', sockaddrTarget(ADDR, len));
  }

  /**
   * Like {@link Socket.connect} but returns the errno instead of throwing
   * it (Python's `connect_ex`): 0 when connected, `EINPROGRESS` (115) for
   * a non-blocking connect under way, `ECONNREFUSED` (111)...; `EAGAIN`
   * (11) when a timeout ran out, and `EBADF` (9) on a closed socket, both
   * as in Python.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a wrong address shape.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad port or an AF_UNIX path too long.
   * @throws {SyscallError} `ENOTFOUND`/`EAI_*` when a host name does not resolve.
   */
  connectEx(address: Address): number {
    if (this.#fd < 0) return EBADF;
    try {
      return this.#connect(address, 'connectEx').errno;
    } catch (err) {
      if (err instanceof SocketTimeoutError) return EAGAIN;
      throw err;
    }
  }

  /**
   * Receive up to `bufsize` bytes: a new Buffer of exactly the bytes
   * received, empty (length 0) at end of stream. Non-blocking and nothing
   * to read: `null` (Python raises BlockingIOError). The bytes are read
   * into a reused scratch buffer and copied out, so one result allocation
   * is all a call costs.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number bufsize.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or non-integer bufsize.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `ECONNRESET`, `ENOTCONN`...
   */
  recv(bufsize: number, flags = 0): Buffer | null {
    const fd = this.#fd;
    if (fd < 0) throw closedError('recv');
    if (!isSize(bufsize)) throw sizeError('bufsize', bufsize);
    checkFlags(flags);
    // As CPython: recv(0) makes no call (a TCP recv of 0 bytes would block).
    if (bufsize === 0) return Buffer.alloc(0);
    const sys = this.#sys;
    const buf = bufsize <= SCRATCH_MAX ? scratchFor(bufsize) : Buffer.allocUnsafe(bufsize);
    const r = sockCall(sys, fd, this.#mode('recv'), POLLIN, 'recv', RECV, buf, bufsize, flags);
    if (r === WOULD_BLOCK) return null;
    // MSG_TRUNC makes datagram sockets report the full length.
    return takeReceived(buf, r > bufsize ? bufsize : r, bufsize);
  }

  /**
   * Receive into `buffer` (its first `nbytes` bytes, all of it when 0) and
   * return the count; allocates nothing. Non-blocking and nothing to read:
   * `null`.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffer` is not a Uint8Array/ArrayBufferView.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative `nbytes` or one larger than the buffer.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `ECONNRESET`...
   */
  recvInto(buffer: Uint8Array | ArrayBufferView, nbytes = 0, flags = 0): number | null {
    const fd = this.#fd;
    if (fd < 0) throw closedError('recvInto');
    const buf = toWritable(buffer, 'buffer');
    const n = this.#intoSize(buf, nbytes);
    checkFlags(flags);
    if (n === 0) return 0;
    const sys = this.#sys;
    const r = sockCall(sys, fd, this.#mode('recvInto'), POLLIN, 'recvInto', RECV, buf, n, flags);
    if (r === WOULD_BLOCK) return null;
    return r > n ? n : r;
  }

  #intoSize(buf: Uint8Array, nbytes: unknown): number {
    if (!isSize(nbytes)) throw sizeError('nbytes', nbytes);
    // Python: ValueError("buffer too small for requested bytes").
    if (nbytes > buf.byteLength) throw outOfRange('nbytes', `<= the buffer's length (${buf.byteLength}); buffer too small for requested bytes`, nbytes);
    return nbytes === 0 ? buf.byteLength : nbytes;
  }

  /** recvfrom(2) into `buf`: the count (the sender in ADDR), or WOULD_BLOCK. */
  #recvfrom(buf: Uint8Array, n: number, flags: number, syscall: string): number {
    const fd = this.#fd;
    const sys = this.#sys;
    const r = sockCall(sys, fd, this.#mode(syscall), POLLIN, syscall, RECVFROM, buf, n, flags);
    return r > n ? n : r;
  }

  /**
   * Receive up to `bufsize` bytes and the sender's address: `[data,
   * address]`; the address is null on a connected stream socket (Python's
   * None). Non-blocking and nothing to read: `null`.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number bufsize.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or non-integer bufsize.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `ECONNRESET`...
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, SocketAddress | null] | null {
    if (this.#fd < 0) throw closedError('recvfrom');
    if (!isSize(bufsize)) throw sizeError('bufsize', bufsize);
    checkFlags(flags);
    const buf = bufsize <= SCRATCH_MAX ? scratchFor(bufsize) : Buffer.allocUnsafe(bufsize);
    const r = this.#recvfrom(buf, bufsize, flags, 'recvfrom');
    if (r === WOULD_BLOCK) return null;
    return [takeReceived(buf, r, bufsize), decodeAddress(ADDR, ADDRLEN[0])];
  }

  /**
   * recvfrom into `buffer` (first `nbytes` bytes, all when 0): `[count,
   * address]`, or `null` when non-blocking and nothing is there.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffer` is not a Uint8Array/ArrayBufferView.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative `nbytes` or one larger than the buffer.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `ECONNRESET`...
   */
  recvfromInto(buffer: Uint8Array | ArrayBufferView, nbytes = 0, flags = 0): [number, SocketAddress | null] | null {
    if (this.#fd < 0) throw closedError('recvfromInto');
    const buf = toWritable(buffer, 'buffer');
    const n = this.#intoSize(buf, nbytes);
    checkFlags(flags);
    const r = this.#recvfrom(buf, n, flags, 'recvfromInto');
    if (r === WOULD_BLOCK) return null;
    return [r, decodeAddress(ADDR, ADDRLEN[0])];
  }

  /**
   * Send `data` (bytes, or a string as UTF-8 — a Node convenience) once
   * and return how many bytes the kernel took; it may be fewer, see
   * {@link Socket.sendall}. Always with MSG_NOSIGNAL: a peer that went away
   * is an `EPIPE`/`ECONNRESET` error, never SIGPIPE. Non-blocking and the
   * send buffer full: `null` (Python raises BlockingIOError).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for data that is not bytes or a string.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `EPIPE`, `ECONNRESET`, `ENOTCONN`...
   */
  send(data: SendData, flags = 0): number | null {
    const fd = this.#fd;
    if (fd < 0) throw closedError('send');
    const buf = data instanceof Uint8Array ? data : toBytes(data, 'data');
    const f = checkFlags(flags) | MSG_NOSIGNAL;
    const sys = this.#sys;
    const r = sockCall(sys, fd, this.#mode('send'), POLLOUT, 'send', SEND, buf, buf.byteLength, f);
    return r === WOULD_BLOCK ? null : r;
  }

  /**
   * Send all of `data`, calling send() until it is gone (with
   * MSG_NOSIGNAL). In timeout mode the timeout bounds the whole call, as
   * in Python 3.5+.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for data that is not bytes or a string.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode (a SyscallError: it carries `bytesSent` too).
   * @throws {SyscallError} `EAGAIN` on a non-blocking socket whose buffer filled up (Python's
   *   BlockingIOError), `EPIPE`, `ECONNRESET`, `EBADF`...; each carries `bytesSent` ({@link SendallError}).
   */
  sendall(data: SendData, flags = 0): void {
    const fd = this.#fd;
    if (fd < 0) throw closedError('sendall');
    const buf = data instanceof Uint8Array ? data : toBytes(data, 'data');
    const f = checkFlags(flags) | MSG_NOSIGNAL;
    const sys = this.#sys;
    const len = buf.byteLength;
    const timeoutMs = this.#mode('sendall');
    // In timeout mode one deadline bounds the whole call.
    const deadline = timeoutMs > 0 ? monotonicMs() + timeoutMs : -1;
    let off = 0;
    while (off < len) {
      let r: number;
      try {
        r = sockCall(sys, fd, timeoutMs, POLLOUT, 'sendall', SEND, off === 0 ? buf : buf.subarray(off), len - off, f, undefined, deadline);
      } catch (err) {
        if (err instanceof SyscallError) (err as SendallError).bytesSent = off;
        throw err;
      }
      if (r === WOULD_BLOCK) {
        const err = new SyscallError(EAGAIN, 'sendall') as SendallError;
        err.bytesSent = off;
        throw err;
      }
      off += r;
    }
  }

  /**
   * Send a datagram to `address` (Python's two signatures:
   * `sendto(data, address)` and `sendto(data, flags, address)`), with
   * MSG_NOSIGNAL. Returns the bytes sent, or `null` when non-blocking and
   * it would block.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for bad data or a wrong address shape.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad port or an AF_UNIX path too long.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `EMSGSIZE`, `ECONNREFUSED`, `EISCONN`...; `ENOTFOUND`/`EAI_*`
   *   when a host name does not resolve.
   */
  sendto(data: SendData, address: Address): number | null;
  sendto(data: SendData, flags: number, address: Address): number | null;
  sendto(data: SendData, flagsOrAddress: number | Address, maybeAddress?: Address): number | null {
    const fd = this.#fd;
    if (fd < 0) throw closedError('sendto');
    const buf = data instanceof Uint8Array ? data : toBytes(data, 'data');
    let flags = 0;
    let address: unknown = flagsOrAddress;
    if (maybeAddress !== undefined) {
      flags = checkFlags(flagsOrAddress);
      address = maybeAddress;
    }
    const sys = this.#sys;
    const len = encodeAddress(this.#family, address, ADDR, sys);
    const f = flags | MSG_NOSIGNAL;
    const r = sockCall(sys, fd, this.#mode('sendto'), POLLOUT, 'sendto', SENDTO, buf, len, f, () => sockaddrTarget(ADDR, len));
    return r === WOULD_BLOCK ? null : r;
  }

  #msgTarget(syscall: string): MsgTarget {
    if (this.#fd < 0) throw closedError(syscall);
    return { sys: this.#sys, fd: this.#fd, family: this.#family, timeoutMs: this.#mode(syscall) };
  }

  /**
   * Send the bytes of `buffers` (gathered, in order) and the control
   * messages `ancdata` (`[level, type, data]` each) in one sendmsg(2), to
   * `address` if given (Python's `sendmsg`), with MSG_NOSIGNAL. Returns the
   * bytes sent, or `null` when non-blocking and it would block. Strings in
   * `buffers` are sent as UTF-8 (a Node convenience).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for buffers or ancdata items of the wrong shape, or a bad address.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for flags/level/type outside int32, a bad port or path.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed, or a bad fd in SCM_RIGHTS), `EPIPE`, `EMSGSIZE`, `EINVAL`...
   */
  sendmsg(buffers: readonly SendData[], ancdata: readonly AncDataIn[] = [], flags = 0, address: Address | null = null): number | null {
    return sendmsgOn(this.#msgTarget('sendmsg'), buffers, ancdata, flags, address, 'sendmsg');
  }

  /**
   * Receive up to `bufsize` bytes and up to `ancbufsize` bytes of control
   * messages in one recvmsg(2) (Python's `recvmsg`): `[data, ancdata,
   * msgFlags, address]`, ancdata a list of `[level, type, data]`; size
   * `ancbufsize` with {@link CMSG_SPACE}/{@link CMSG_LEN}. Control data cut
   * short sets MSG_CTRUNC in msgFlags, a datagram cut short MSG_TRUNC.
   * The address is null on a connected stream. Received fds are
   * close-on-exec (MSG_CMSG_CLOEXEC is always passed: a deviation, Python
   * leaves them inheritable). Non-blocking and nothing to read: `null`.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for non-number arguments.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative bufsize or ancbufsize.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `ECONNRESET`...
   */
  recvmsg(bufsize: number, ancbufsize = 0, flags = 0): RecvmsgResult | null {
    const t = this.#msgTarget('recvmsg');
    if (!isSize(bufsize)) throw sizeError('bufsize', bufsize);
    const buf = Buffer.allocUnsafeSlow(bufsize);
    const r = recvmsgOn(t, [buf], ancbufsize, flags, 'recvmsg');
    if (r === null) return null;
    const n = Math.min(r[0], bufsize);
    return [n === bufsize ? buf : Buffer.from(buf.subarray(0, n)), r[1], r[2], r[3]];
  }

  /**
   * recvmsg(2) scattering the bytes into `buffers` in order (Python's
   * `recvmsg_into`): `[nbytes, ancdata, msgFlags, address]`, or `null` when
   * non-blocking and nothing is there. See {@link Socket.recvmsg}.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffers` is not an array of Uint8Array/ArrayBufferView.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative ancbufsize.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `ECONNRESET`...
   */
  recvmsgInto(buffers: readonly (Uint8Array | ArrayBufferView)[], ancbufsize = 0, flags = 0): RecvmsgIntoResult | null {
    const t = this.#msgTarget('recvmsgInto');
    return recvmsgOn(t, writableList(buffers), ancbufsize, flags, 'recvmsgInto');
  }

  /**
   * The credentials of the peer process of an AF_UNIX socket as `[pid,
   * uid, gid]` (SO_PEERCRED; not a Python method: Python code writes
   * `struct.unpack('3i', sock.getsockopt(SOL_SOCKET, SO_PEERCRED, 12))`,
   * which `getsockopt(SOL_SOCKET, SO_PEERCRED, 12)` here matches).
   * @throws {SyscallError} `EBADF` (closed), `ENOPROTOOPT` (not AF_UNIX), `ENOTCONN`...
   */
  peercred(): [pid: number, uid: number, gid: number] {
    const b = this.getsockopt(SOL_SOCKET, SO_PEERCRED, UCRED_SIZE);
    return [b.readInt32LE(0), b.readUInt32LE(4), b.readUInt32LE(8)];
  }

  /**
   * Whether the fd would be inherited by a child process (not
   * close-on-exec): Python's `get_inheritable`. Sockets start
   * non-inheritable.
   * @throws {SyscallError} `EBADF` (closed).
   */
  getInheritable(): boolean {
    if (this.#fd < 0) throw closedError('getInheritable');
    return (check(this.#sys, this.#sys.fcntl(this.#fd, F_GETFD, 0), 'getInheritable') & FD_CLOEXEC) === 0;
  }

  /**
   * Make the fd inheritable by child processes or not (clears or sets
   * close-on-exec): Python's `set_inheritable`.
   * @throws {SyscallError} `EBADF` (closed).
   */
  setInheritable(inheritable: boolean): void {
    if (this.#fd < 0) throw closedError('setInheritable');
    const sys = this.#sys;
    const flags = check(sys, sys.fcntl(this.#fd, F_GETFD, 0), 'setInheritable');
    const next = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
    if (next !== flags) check(sys, sys.fcntl(this.#fd, F_SETFD, next), 'setInheritable');
  }

  /**
   * Shut down one or both halves: SHUT_RD (0), SHUT_WR (1), SHUT_RDWR (2).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
   * @throws {SyscallError} `EBADF` (closed), `ENOTCONN`, `EINVAL`...
   */
  shutdown(how: number): void {
    const h = intArg(how, 'how');
    if (this.#fd < 0) throw closedError('shutdown');
    check(this.#sys, this.#sys.shutdown(this.#fd, h), 'shutdown');
  }

  /**
   * Close the fd. Idempotent; afterwards `fileno()` is -1 and every other
   * method throws `EBADF`. ECONNRESET and EINTR from close() are ignored
   * (Linux releases the fd anyway), as in Python.
   * @throws {SyscallError} any other close() failure (e.g. `EBADF` if the fd was closed behind our back).
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0 || this.#deferClose()) return;
    this.#forgetWaits(fd, 'close');
    this.#fd = -1;
    this.#disown(fd);
    const errno = errnoOf(this.#sys, this.#sys.close(fd));
    if (errno !== 0 && errno !== ECONNRESET && errno !== EINTR) throw new SyscallError(errno, 'close');
  }

  /** Same as {@link Socket.close} (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Give up the fd without closing it: the socket is closed, the fd is returned (-1 if already closed). */
  detach(): number {
    if (this.#lazyNonblocking && this.#fd >= 0) this.#mode('detach');
    const fd = this.#fd;
    if (fd >= 0) {
      this.#forgetWaits(fd, 'detach');
      this.#disown(fd);
    }
    this.#fd = -1;
    return fd;
  }

  /**
   * A new Socket on a duplicate of the fd (close-on-exec), with the same
   * family, type, proto and timeout.
   * @throws {SyscallError} `EBADF` (closed), `EMFILE`...
   */
  dup(): Socket {
    if (this.#fd < 0) throw closedError('dup');
    this.#mode('dup');
    const sys = this.#sys;
    const nfd = check(sys, sys.fcntl(this.#fd, F_DUPFD_CLOEXEC, 0), 'dup');
    const sock = adopt(sys, nfd, this.#family, this.#type, this.#proto);
    try {
      sock.settimeout(this.#timeout);
    } catch (err) {
      sock.close();
      throw err;
    }
    return sock;
  }

  /**
   * Set a socket option. A number (or boolean) is passed as a C int; a
   * Buffer/Uint8Array is passed as the raw option bytes.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a value that is neither a number, boolean nor bytes.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a number that is not a 32-bit integer.
   * @throws {SyscallError} `EBADF` (closed), `ENOPROTOOPT`, `EINVAL`...
   */
  setsockopt(level: number, optname: number, value: number | boolean | Uint8Array): void {
    const lvl = intArg(level, 'level');
    const name = intArg(optname, 'optname');
    let buf: Uint8Array;
    if (typeof value === 'number') {
      INT.writeInt32LE(intArg(value, 'value'), 0);
      buf = INT;
    } else if (typeof value === 'boolean') {
      INT.writeInt32LE(value ? 1 : 0, 0);
      buf = INT;
    } else if (value instanceof Uint8Array) {
      buf = value;
    } else {
      throw invalidArgType('value', 'an integer, a boolean or a Buffer', value);
    }
    if (this.#fd < 0) throw closedError('setsockopt');
    check(this.#sys, this.#sys.setsockopt(this.#fd, lvl, name, buf, buf.byteLength), 'setsockopt');
  }

  /**
   * Read a socket option: a C int as a number, or, with `buflen`, the raw
   * bytes (at most `buflen`, 1..1024) as a Buffer.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for non-integer arguments.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for `buflen` outside 1..1024 (Python: "getsockopt buflen out of range").
   * @throws {SyscallError} `EBADF` (closed), `ENOPROTOOPT`...
   */
  getsockopt(level: number, optname: number): number;
  getsockopt(level: number, optname: number, buflen: number): Buffer;
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    const lvl = intArg(level, 'level');
    const name = intArg(optname, 'optname');
    if (buflen !== undefined) {
      const n = intArg(buflen, 'buflen');
      if (n <= 0 || n > 1024) throw outOfRange('buflen', '>= 1 and <= 1024 (getsockopt buflen out of range)', n);
      if (this.#fd < 0) throw closedError('getsockopt');
      const out = Buffer.alloc(n);
      INTLEN[0] = n;
      check(this.#sys, this.#sys.getsockopt(this.#fd, lvl, name, out, INTLEN), 'getsockopt');
      return INTLEN[0] === n ? out : out.subarray(0, INTLEN[0]);
    }
    if (this.#fd < 0) throw closedError('getsockopt');
    INT.writeInt32LE(0, 0);
    INTLEN[0] = 4;
    check(this.#sys, this.#sys.getsockopt(this.#fd, lvl, name, INT, INTLEN), 'getsockopt');
    return INT.readInt32LE(0);
  }

  /**
   * The local address (`['0.0.0.0', 0]` before bind for AF_INET, `''` for
   * an unnamed AF_UNIX socket).
   * @throws {SyscallError} `EBADF` (closed).
   */
  getsockname(): SocketAddress {
    if (this.#fd < 0) throw closedError('getsockname');
    ADDRLEN[0] = SOCKADDR_STORAGE_SIZE;
    check(this.#sys, this.#sys.getsockname(this.#fd, ADDR, ADDRLEN), 'getsockname');
    return decodeAddress(ADDR, ADDRLEN[0]) ?? '';
  }

  /**
   * The peer's address.
   * @throws {SyscallError} `ENOTCONN` when not connected, `EBADF` (closed).
   */
  getpeername(): SocketAddress {
    if (this.#fd < 0) throw closedError('getpeername');
    ADDRLEN[0] = SOCKADDR_STORAGE_SIZE;
    check(this.#sys, this.#sys.getpeername(this.#fd, ADDR, ADDRLEN), 'getpeername');
    return decodeAddress(ADDR, ADDRLEN[0]) ?? '';
  }

  /**
   * Python's repr: `<socket fd=3, family=AF_INET, type=SOCK_STREAM,
   * proto=0, laddr=('127.0.0.1', 8080), raddr=('127.0.0.1', 50000)>`
   * (`[closed]` after close; laddr/raddr only when known and non-empty).
   */
  toString(): string {
    return reprOf(this.#sys, this.#fd, this.#family, this.#type, this.#proto, this.closed);
  }

  /** util.inspect / console.log show the repr. */
  [inspect.custom](): string {
    return this.toString();
  }

  // makefile()'s reference count (CPython's _io_refs): close() waits for
  // the files to close before the fd is.
  #ioRefs = 0;
  #closePending = false;

  /** In close(): with files of makefile() open, only note the close (CPython's `_closed`). */
  #deferClose(): boolean {
    if (this.#ioRefs <= 0) return false;
    this.#closePending = true;
    return true;
  }

  #releaseIO(): void {
    if (--this.#ioRefs <= 0 && this.#closePending) this.close();
  }

  /**
   * A file object over the socket (Python's `makefile`): `mode` of r, w, b
   * (`'r'` default; `'b'` binary); binary modes give a `BufferedReader`,
   * `BufferedWriter` or `BufferedRWPair` (`buffering: 0`: the raw
   * `SocketIO`), text modes a `TextIOWrapper`. The fd stays open until the
   * socket and every such file are closed: `close()` before then only marks
   * the socket closed. Needs blocking or timeout mode for full reads (see
   * docs/socket.md for non-blocking behaviour).
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an invalid mode, `buffering: 0` in text mode, an unknown
   *   encoding/errors value or an illegal newline; `ERR_INVALID_ARG_TYPE` for wrong option types.
   * @throws {SyscallError} `EBADF` on a closed socket.
   */
  makefile(mode: `${string}b${string}`, options?: MakefileOptions): BinaryFile;
  makefile(mode?: string, options?: MakefileOptions): TextIOWrapper;
  makefile(mode = 'r', options: MakefileOptions = {}): BinaryFile | TextIOWrapper {
    if (this.#fd < 0) throw closedError('makefile');
    const file = openSocketFile(this, mode, options, () => this.#releaseIO());
    this.#ioRefs++;
    return file;
  }

  /**
   * Send a file with sendfile(2) (Python's `sendfile`): `count` bytes (all
   * to EOF when omitted) from `offset`, looping until done; read + send
   * where the kernel refuses (a pipe, EINVAL, ...). `file` is an fd, an
   * object with `fileno()`, or one with an `fd` (a Node
   * `fs.promises.FileHandle`). Afterwards the fd's position is `offset` +
   * the bytes sent. Needs a SOCK_STREAM socket. On a non-blocking socket
   * (which Python refuses) it makes one sendfile(2) call, as `send()` does:
   * the bytes the kernel took, or `null` when it would block.
   * @returns the bytes sent, or `null` (non-blocking, would block).
   * @throws {CodedError} `ERR_SENDFILE_UNSUPPORTED` when not SOCK_STREAM, or non-blocking with a file that
   *   cannot seek.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file, offset or count.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative offset or a count that is not positive.
   * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
   * @throws {SyscallError} `EBADF` (closed), `EPIPE`, `ESPIPE` (offset on a pipe), ...
   */
  sendfile(file: SendfileSource, offset = 0, count?: number | null): number | null {
    if (this.#fd < 0) throw closedError('sendfile');
    return sendfileFrom(this, this.#sys, this.#fd, this.#mode('sendfile'), file, offset, count);
  }
  // ---- Waiting in Node's loop: asyncio's loop.sock_* methods, Node-style.
  // Each needs a non-blocking socket, tries its call first, and only when
  // it would block waits for readiness in Node's loop (reactor.ts), then
  // tries again.

  /** The reactor, once the socket is checked to be open and non-blocking. */
  #asyncReady(syscall: string): Reactor {
    if (this.#fd < 0) throw closedError(syscall);
    if (this.#timeoutMs !== 0) throw new CodedError('ERR_SOCKET_BLOCKING', `${syscall} needs a non-blocking socket: call setblocking(false) first`);
    return reactorFor(this.#sys);
  }

  /** Reject the pending waits of `fd` (it is being closed or detached). */
  #forgetWaits(fd: number, how: string): void {
    reactorIfAny(this.#sys)?.forget(fd, new CodedError('ERR_SOCKET_CLOSED', `the socket was ${how === 'close' ? 'closed' : 'detached'} while a call on it was waiting`));
  }

  /** Retry `call` until it does not return null, waiting for `direction` in between. */
  async #untilReady<R>(syscall: string, direction: Direction, options: AsyncOptions | undefined, call: () => R | null): Promise<R> {
    const reactor = this.#asyncReady(syscall);
    for (;;) {
      const r = call();
      if (r !== null) return r;
      await reactor.wait(this.#fd, direction, syscall, options?.signal);
    }
  }

  /**
   * Accept a connection without blocking Node (asyncio's `sock_accept`):
   * `[socket, address]`, the new socket non-blocking (as asyncio makes it).
   * @throws {CodedError} `ERR_SOCKET_BLOCKING` unless this socket is non-blocking; `ERR_SOCKET_BUSY` if
   *   another read-side call waits; `ERR_SOCKET_CLOSED` if it is closed meanwhile.
   * @throws {Error} `AbortError` (code `ABORT_ERR`) when `options.signal` aborts.
   * @throws {SyscallError} as {@link Socket.accept}.
   */
  async acceptAsync(options?: AsyncOptions): Promise<[Socket, SocketAddress]> {
    const [sock, address] = await this.#untilReady('acceptAsync', EPOLLIN, options, () => this.accept());
    sock.setblocking(false);
    return [sock, address];
  }

  /**
   * Connect without blocking Node (asyncio's `sock_connect`): resolves once
   * connected.
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts (the connection attempt goes on in the kernel).
   * @throws {SyscallError} `ECONNREFUSED`, `ENETUNREACH`, ... with the address; `ENOTFOUND` for a name
   *   that does not resolve (resolution is synchronous, as for `connect`).
   */
  async connectAsync(address: Address, options?: AsyncOptions): Promise<void> {
    const reactor = this.#asyncReady('connectAsync');
    const errno = this.connectEx(address);
    if (errno === 0) return;
    const target = addressTarget(address);
    if (errno !== EINPROGRESS) throw new SyscallError(errno, 'connect', target);
    await reactor.wait(this.#fd, EPOLLOUT, 'connectAsync', options?.signal);
    const err = this.getsockopt(SOL_SOCKET, SO_ERROR);
    if (err !== 0) throw new SyscallError(err, 'connect', target);
  }

  /**
   * Receive up to `bufsize` bytes without blocking Node (asyncio's
   * `sock_recv`): resolves with the bytes once some came (empty at EOF).
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts.
   * @throws {SyscallError} as {@link Socket.recv}.
   */
  recvAsync(bufsize: number, flags = 0, options?: AsyncOptions): Promise<Buffer> {
    return this.#untilReady('recvAsync', EPOLLIN, options, () => this.recv(bufsize, flags));
  }

  /**
   * Receive into `buffer` without blocking Node (asyncio's
   * `sock_recv_into`): resolves with the count (0 at EOF).
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts.
   * @throws {SyscallError} as {@link Socket.recvInto}.
   */
  recvIntoAsync(buffer: Uint8Array | ArrayBufferView, nbytes = 0, flags = 0, options?: AsyncOptions): Promise<number> {
    return this.#untilReady('recvIntoAsync', EPOLLIN, options, () => this.recvInto(buffer, nbytes, flags));
  }

  /**
   * Receive a datagram and its sender without blocking Node (asyncio's
   * `sock_recvfrom`): `[data, address]`.
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts.
   * @throws {SyscallError} as {@link Socket.recvfrom}.
   */
  recvfromAsync(bufsize: number, flags = 0, options?: AsyncOptions): Promise<[Buffer, SocketAddress | null]> {
    return this.#untilReady('recvfromAsync', EPOLLIN, options, () => this.recvfrom(bufsize, flags));
  }

  /**
   * Send without blocking Node: resolves with the bytes the kernel took
   * (at least one, unless `data` is empty) once it took some.
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts.
   * @throws {SyscallError} as {@link Socket.send} (`EPIPE`, `ECONNRESET`, ...).
   */
  sendAsync(data: SendData, flags = 0, options?: AsyncOptions): Promise<number> {
    return this.#untilReady('sendAsync', EPOLLOUT, options, () => this.send(data, flags));
  }

  /**
   * Send all of `data` without blocking Node (asyncio's `sock_sendall`),
   * waiting for room in the send buffer as often as needed.
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts (part of `data` may have been sent).
   * @throws {SyscallError} as {@link Socket.send}, with `bytesSent` ({@link SendallError}).
   */
  async sendallAsync(data: SendData, flags = 0, options?: AsyncOptions): Promise<void> {
    const buf = data instanceof Uint8Array ? data : toBytes(data, 'data');
    let off = 0;
    while (off < buf.byteLength) {
      try {
        off += await this.#untilReady('sendallAsync', EPOLLOUT, options, () => this.send(off === 0 ? buf : buf.subarray(off), flags));
      } catch (err) {
        if (err instanceof SyscallError) (err as SendallError).bytesSent = off;
        throw err;
      }
    }
  }

  /**
   * Send a datagram to `address` without blocking Node (asyncio's
   * `sock_sendto`): resolves with the bytes sent.
   * @throws {CodedError} `ERR_SOCKET_BLOCKING`, `ERR_SOCKET_BUSY`, `ERR_SOCKET_CLOSED` (see {@link Socket.acceptAsync}).
   * @throws {Error} `AbortError` when `options.signal` aborts.
   * @throws {SyscallError} as {@link Socket.sendto}.
   */
  sendtoAsync(data: SendData, address: Address, options?: AsyncOptions): Promise<number> {
    return this.#untilReady('sendtoAsync', EPOLLOUT, options, () => this.sendto(data, address));
  }

}

/** The address getsockname/getpeername (`call`) gives for `fd`, or null if unknown or empty. */
function addressOf(sys: Libc, fd: number, call: 'getsockname' | 'getpeername'): string | null {
  ADDRLEN[0] = SOCKADDR_STORAGE_SIZE;
  if (sys[call](fd, ADDR, ADDRLEN) < 0) return null;
  const addr = decodeAddress(ADDR, ADDRLEN[0]);
  return addr === null || addr === '' ? null : formatAddress(addr);
}

/** Python's socket repr, for {@link Socket.toString} and the unclosed-socket warning. */
function reprOf(sys: Libc, fd: number, family: number, type: number, proto: number, closed: boolean): string {
  let s = `<socket${closed ? ' [closed]' : ''} fd=${fd}, family=${FAMILY_NAMES[family] ?? family}, `
    + `type=${TYPE_NAMES[type] ?? type}, proto=${proto}`;
  if (!closed) {
    // Not bound / not connected: Python leaves the field out.
    const laddr = addressOf(sys, fd, 'getsockname');
    if (laddr !== null) s += `, laddr=${laddr}`;
    const raddr = addressOf(sys, fd, 'getpeername');
    if (raddr !== null) s += `, raddr=${raddr}`;
  }
  return `${s}>`;
}

/**
 * Wrap an fd this module just made (`nonblocking`: accept4 made it
 * O_NONBLOCK for a socket that starts blocking); if that fails (the default
 * timeout's ioctl), the fd is closed.
 */
function adopt(sys: Libc, fd: number, family: number, type: number, proto: number, nonblocking = false): Socket {
  adoptingNonblocking = nonblocking;
  try {
    return new Socket(family, type, proto, fd, { sys });
  } catch (err) {
    sys.close(fd);
    throw err;
  } finally {
    adoptingNonblocking = false;
  }
}

/**
 * A connected pair of sockets (Python's `socket.socketpair`), close-on-exec,
 * AF_UNIX/SOCK_STREAM by default; `type | SOCK_NONBLOCK` makes both
 * non-blocking.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for non-integer arguments.
 * @throws {SyscallError} `EAFNOSUPPORT`, `ENOTSUP` (EOPNOTSUPP), `EMFILE`...
 */
export function socketpair(family = AF_UNIX, type = SOCK_STREAM, proto = 0, options?: SocketOptions): [Socket, Socket] {
  const sys = options?.sys ?? libc();
  const fam = intArg(family, 'family');
  const typ = intArg(type, 'type');
  const pro = intArg(proto, 'proto');
  const sv = new Int32Array(2);
  check(sys, sys.socketpair(fam, typ | SOCK_CLOEXEC, pro, sv), 'socketpair');
  let first: Socket;
  try {
    first = adopt(sys, sv[0], fam, typ, pro);
  } catch (err) {
    sys.close(sv[1]);
    throw err;
  }
  try {
    return [first, adopt(sys, sv[1], fam, typ, pro)];
  } catch (err) {
    first.close();
    throw err;
  }
}

/**
 * Connect a TCP socket to `[host, port]` (Python's
 * `socket.create_connection`): resolve with getaddrinfo(host, port, 0,
 * SOCK_STREAM), try each address in order, return the first socket that
 * connects. `timeout` undefined keeps the default timeout; `null` blocks; a
 * number is set with `settimeout` before connecting. `sourceAddress` is
 * bound first.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `address` is not a `[host, port]` pair.
 * @throws {SyscallError} the last address's error (`ECONNREFUSED`, ...), or `ENOTFOUND`/`EAI_*` from getaddrinfo.
 * @throws {SocketTimeoutError} `ETIMEDOUT` when the last address timed out.
 */
export function createConnection(
  address: readonly [host: string | null, port: number | string],
  timeout?: number | null,
  sourceAddress?: Address | null,
  options?: SocketOptions,
): Socket {
  if (!Array.isArray(address) || address.length !== 2) throw invalidArgType('address', 'a [host, port] array', address);
  const sys = options?.sys ?? libc();
  const [host, port] = address;
  const t = timeout === undefined ? undefined : socketTimeout(timeout, 'timeout');
  let last: unknown;
  for (const [family, type, proto, , sa] of getaddrinfoWith(sys, host, port, 0, SOCK_STREAM)) {
    let sock: Socket | undefined;
    try {
      sock = new Socket(family, type, proto, undefined, { sys });
      if (t !== undefined) sock.settimeout(t);
      if (sourceAddress !== undefined && sourceAddress !== null) sock.bind(sourceAddress);
      sock.connect(sa as Address);
      return sock;
    } catch (err) {
      sock?.close();
      // A timeout is a SyscallError too (Python's OSError): try the next address.
      if (!(err instanceof SyscallError)) throw err;
      last = err;
    }
  }
  if (last === undefined) throw new SyscallError(0, 'getaddrinfo', { hostname: String(host) }, 'ENOTFOUND', 'getaddrinfo returns an empty list');
  throw last;
}

/** Options of {@link createServer} (Python's keyword arguments of `create_server`). */
export interface CreateServerOptions extends SocketOptions {
  /** AF_INET (default), AF_INET6 or AF_UNIX. */
  family?: number;
  /** listen() backlog; default min(SOMAXCONN, 128). */
  backlog?: number;
  /** Set SO_REUSEPORT (several processes may bind the same port). */
  reuseport?: boolean;
  /** AF_INET6 only: accept IPv4 too (IPV6_V6ONLY off); otherwise IPV6_V6ONLY is set. */
  dualstackIpv6?: boolean;
}

/**
 * A listening TCP socket bound to `address` (Python's
 * `socket.create_server`): SO_REUSEADDR set, SO_REUSEPORT if asked,
 * IPV6_V6ONLY per `dualstackIpv6` for AF_INET6, then bind and listen. The
 * socket is closed again if any step fails.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for `dualstackIpv6` without AF_INET6; `ERR_INVALID_ARG_TYPE`
 *   for a wrong address shape.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad port.
 * @throws {SyscallError} `EADDRINUSE`, `EACCES`... (with the address), or from socket()/setsockopt/listen.
 */
export function createServer(address: Address, options: CreateServerOptions = {}): Socket {
  const family = options.family ?? AF_INET;
  if (options.dualstackIpv6 === true && family !== AF_INET6) {
    throw invalidArgValue('options.dualstackIpv6', 'requires family AF_INET6 (dualstack_ipv6 requires AF_INET6 family)', options.dualstackIpv6);
  }
  const sock = new Socket(family, SOCK_STREAM, 0, undefined, { sys: options.sys });
  try {
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    } catch {
      // Python ignores a failure here too.
    }
    if (options.reuseport === true) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, options.dualstackIpv6 === true ? 0 : 1);
    sock.bind(address);
    sock.listen(options.backlog);
    return sock;
  } catch (err) {
    sock.close();
    throw err;
  }
}
