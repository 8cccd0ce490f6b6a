/**
 * `select.poll()` objects — Python's wrapper of poll(2).
 */

import { ENOENT, POLLIN, POLLOUT, POLLPRI } from '../sys/constants.js';
import { POLLFD_SIZE, writePollfd } from '../sys/structs.js';
import { libc, type Libc } from '../sys/libc.js';
import { kernelWait } from '../sys/call.js';
import { KeyError, SyscallError } from '../errors.js';
import { fileobjToFd, type FileObject } from '../fileobj.js';
import { pollTimeoutMs, rawTimeoutMs } from '../timeout.js';
import { pollEventmask } from './eventmask.js';

/** The event mask `register()` uses when none is given: `POLLIN | POLLPRI | POLLOUT`. */
export const POLL_DEFAULT_EVENTMASK = POLLIN | POLLPRI | POLLOUT;

const INITIAL_CAPACITY = 8;

/**
 * A set of file descriptors to wait on with poll(2) — the object Python's
 * `select.poll()` returns.
 *
 * Like CPython it keeps a map fd → event mask and rebuilds its array of
 * `struct pollfd` only when the map changed since the last wait. The array
 * is one reusable buffer that grows (doubling) as fds are added, and the
 * ready entries of the last wait are kept as indexes into it, so
 * {@link Poll.wait}, {@link Poll.readyFd} and {@link Poll.readyEvents}
 * allocate nothing.
 */
export class Poll {
  readonly #sys: Libc;
  readonly #masks = new Map<number, number>();
  /** False when #masks changed since the pollfd array was built (CPython's ufd_uptodate). */
  #upToDate = true;
  #capacity = 0;
  #nfds = 0;
  #pollfds = Buffer.alloc(0);
  // Read views of the array: fd is int32 word 2i, events and revents
  // are uint16 halves 4i+2 and 4i+3 (structs.ts).
  #fdWords = new Int32Array(0);
  #halves = new Uint16Array(0);
  #ready = new Int32Array(0);
  readonly #pollOnce = (ms: number): number => this.#sys.poll(this.#pollfds, this.#nfds, ms);

  /**
   * An empty poll object; prefer the {@link poll} factory, as in Python.
   * @param sys the libc binding (tests pass a scripted one).
   * @throws {CodedError} `ERR_UNSUPPORTED_PLATFORM` when no sys is given and libc cannot load.
   */
  constructor(sys: Libc = libc()) {
    this.#sys = sys;
    this.#allocate(INITIAL_CAPACITY);
  }

  #allocate(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * POLLFD_SIZE);
    this.#pollfds = Buffer.from(buffer);
    this.#fdWords = new Int32Array(buffer);
    this.#halves = new Uint16Array(buffer);
    this.#ready = new Int32Array(capacity);
    this.#capacity = capacity;
  }

  #rebuild(): void {
    const size = this.#masks.size;
    if (size > this.#capacity) this.#allocate(Math.max(size, this.#capacity * 2));
    const pollfds = this.#pollfds;
    let i = 0;
    this.#masks.forEach((events, fd) => writePollfd(pollfds, i++, fd, events));
    this.#nfds = size;
    this.#upToDate = true;
  }

  /**
   * Watch a file descriptor, or replace its event mask if it is already
   * watched (Python does the same: no error for a second register).
   * @param fd an integer fd or an object with `fileno()`.
   * @param eventmask `POLL*` bits; default `POLLIN | POLLPRI | POLLOUT`.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file object or a non-integer mask.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd or a mask outside 0..65535
   *   (Python: OverflowError).
   */
  register(fd: FileObject, eventmask: number = POLL_DEFAULT_EVENTMASK): void {
    const n = fileobjToFd(fd, 'fd');
    const mask = pollEventmask(eventmask);
    this.#masks.set(n, mask);
    this.#upToDate = false;
  }

  /**
   * Change the event mask of a watched file descriptor.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file object or a non-integer mask.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd or a mask outside 0..65535.
   * @throws {SyscallError} code `ENOENT` (errno 2, syscall `modify`) if the fd is not registered
   *   (Python: FileNotFoundError).
   */
  modify(fd: FileObject, eventmask: number): void {
    const n = fileobjToFd(fd, 'fd');
    const mask = pollEventmask(eventmask);
    if (!this.#masks.has(n)) throw new SyscallError(ENOENT, 'modify');
    this.#masks.set(n, mask);
    this.#upToDate = false;
  }

  /**
   * Stop watching a file descriptor.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file object.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
   * @throws {KeyError} `ERR_FD_NOT_REGISTERED` if the fd is not registered (Python: KeyError).
   */
  unregister(fd: FileObject): void {
    const n = fileobjToFd(fd, 'fd');
    if (!this.#masks.delete(n)) throw new KeyError('ERR_FD_NOT_REGISTERED', `fd ${n} is not registered`, n);
    this.#upToDate = false;
  }

  /**
   * Wait for events — Python's `poll.poll([timeout])`.
   * @param timeout milliseconds (Python's unit here); `null`/`undefined` or
   *   negative blocks, 0 polls, fractions round up. An `EINTR` is retried
   *   with the time left (PEP 475).
   * @returns `[fd, revents]` pairs for the fds with events, in registration
   *   order; revents may include `POLLERR`, `POLLHUP` and `POLLNVAL` even if
   *   not asked for.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a timeout that is not a number (or NaN).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a timeout above 2147483647 ms
   *   (Python: OverflowError "timeout is too large").
   * @throws {SyscallError} the errno of poll(2) (e.g. `ENOMEM`, `EINVAL` over RLIMIT_NOFILE fds).
   */
  poll(timeout?: number | null): Array<[number, number]> {
    const n = this.wait(pollTimeoutMs(timeout));
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.readyFd(i), this.readyEvents(i)];
    return out;
  }

  /**
   * Raw API for the selectors layer: one poll(2) wait, allocation-free.
   * Rebuilds the pollfd array if registrations changed, waits, and keeps
   * the ready entries for {@link Poll.readyFd} / {@link Poll.readyEvents}
   * (valid until the next `wait`). An `EINTR` is retried with the time
   * left; if none is left, 0 is returned.
   * @param timeoutMs milliseconds: negative blocks, 0 polls; fractions round
   *   up, values above INT_MAX are clamped.
   * @param maxevents accepted for symmetry with `Epoll.wait()` and
   *   ignored: poll(2) reports every ready fd at once.
   * @returns n, the number of ready entries (0 on timeout).
   * @throws {SyscallError} the errno of poll(2) other than `EINTR`.
   */
  wait(timeoutMs: number, maxevents?: number): number {
    if (!this.#upToDate) this.#rebuild();
    const n = kernelWait(this.#sys, 'poll', rawTimeoutMs(timeoutMs), 1, this.#pollOnce);
    const nfds = this.#nfds;
    const halves = this.#halves;
    const ready = this.#ready;
    let k = 0;
    for (let i = 0; k < n && i < nfds; i++) if (halves[(i << 2) + 3] !== 0) ready[k++] = i;
    return k;
  }

  /**
   * The fd of ready entry `i` of the last {@link Poll.wait} (`0 <= i < n`;
   * other indexes give unspecified values).
   */
  readyFd(i: number): number {
    return this.#fdWords[this.#ready[i] << 1];
  }

  /**
   * The revents (unsigned, 16 bits) of ready entry `i` of the last
   * {@link Poll.wait} (`0 <= i < n`; other indexes give unspecified values).
   */
  readyEvents(i: number): number {
    return this.#halves[(this.#ready[i] << 2) + 3];
  }

}

/**
 * A new, empty {@link Poll} object — Python's `select.poll()`.
 * @param sys the libc binding (tests pass a scripted one).
 * @throws {CodedError} `ERR_UNSUPPORTED_PLATFORM` when no sys is given and libc cannot load.
 */
export function poll(sys?: Libc): Poll {
  return new Poll(sys);
}
