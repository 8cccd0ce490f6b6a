/**
 * `select.epoll` objects — Python's wrapper of epoll(7).
 */

import {
  EINVAL,
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  FD_SETSIZE,
} from '../sys/constants.js';
import { EPOLL_EVENT_FD_WORD, EPOLL_EVENT_SIZE, EPOLL_EVENT_WORDS, writeEpollEvent } from '../sys/structs.js';
import { closeAtThreadExit, keepAtThreadExit, libc, type Libc } from '../sys/libc.js';
import { check, kernelWait } from '../sys/call.js';
import { CodedError, SyscallError, invalidArgType, outOfRange } from '../errors.js';
import { fileobjToFd, type FileObject } from '../fileobj.js';
import { INT_MAX, epollTimeoutMs, rawTimeoutMs } from '../timeout.js';
import { epollEventmask } from './eventmask.js';

/** The event mask `register()` uses when none is given: `EPOLLIN | EPOLLPRI | EPOLLOUT`. */
export const EPOLL_DEFAULT_EVENTMASK = EPOLLIN | EPOLLPRI | EPOLLOUT;

/** maxevents when -1 is given, as in CPython: FD_SETSIZE - 1. */
export const EPOLL_DEFAULT_MAXEVENTS = FD_SETSIZE - 1;

// epoll_wait(2) fails with EINVAL above INT_MAX / sizeof(struct epoll_event)
// (EP_MAX_EVENTS in fs/eventpoll.c): refuse it before allocating the buffer.
const EP_MAX_EVENTS = Math.floor(INT_MAX / EPOLL_EVENT_SIZE);

// One struct epoll_event for epoll_ctl: the kernel copies it during the
// call, so every object shares it. 16 bytes covers both layouts.
const ctlEvent = new Uint8Array(new ArrayBuffer(16));
const ctlWords = new Uint32Array(ctlEvent.buffer);

// Set by Epoll.fromfd around its `new Epoll()`: the fd to adopt instead of
// creating one (constructors run synchronously, so this cannot leak).
let adoptFd = -1;

function closedError(): CodedError {
  return new CodedError('ERR_EPOLL_CLOSED', 'I/O operation on closed epoll object');
}

/**
 * An epoll instance — Python's `select.epoll`.
 *
 * Its fd is always created close-on-exec. Events come back as
 * `[fd, events]` with `events` unsigned (so `EPOLLET` reads as 0x80000000,
 * as in Python). The `struct epoll_event` array that epoll_wait(2) fills is
 * allocated on first wait, grown (doubling) when a larger `maxevents` is
 * asked for, and reused; it is decoded through 32-bit views with the
 * architecture's stride (12 bytes packed on x86-64, 16 on arm64), never by
 * koffi struct marshalling. The fd is stored in the low 32 bits of
 * `epoll_data`.
 *
 * Every method except {@link Epoll.close} and {@link Epoll.closed} throws
 * `ERR_EPOLL_CLOSED` once the object is closed.
 */
export class Epoll {
  readonly #sys: Libc;
  #epfd: number;
  #capacity = 0;
  #events = new Uint8Array(0);
  #words = new Uint32Array(0);
  #ints = new Int32Array(0);
  #max = 1;
  readonly #waitOnce = (ms: number): number => this.#sys.epoll_wait(this.#epfd, this.#events, this.#max, ms);

  /**
   * A new epoll instance (epoll_create1 with `EPOLL_CLOEXEC`).
   * @param sizehint -1 or a positive number; only checked, the kernel ignores it.
   * @param flags 0 or `EPOLL_CLOEXEC` (close-on-exec is always set anyway).
   * @param sys the libc binding (tests pass a scripted one).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if sizehint or flags is not an integer.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` if sizehint is 0 or below -1 (Python: ValueError
   *   "negative sizehint").
   * @throws {SyscallError} `EINVAL` (syscall `epoll_create1`) for any other flags (Python: OSError);
   *   the errno of epoll_create1, e.g. `EMFILE`.
   * @throws {CodedError} `ERR_UNSUPPORTED_PLATFORM` when no sys is given and libc cannot load.
   */
  constructor(sizehint = -1, flags = 0, sys: Libc = libc()) {
    this.#sys = sys;
    if (adoptFd >= 0) {
      this.#epfd = adoptFd;
      adoptFd = -1;
      return;
    }
    if (!Number.isInteger(sizehint)) throw invalidArgType('sizehint', 'an integer', sizehint);
    if (sizehint !== -1 && sizehint <= 0) throw outOfRange('sizehint', '-1 or > 0', sizehint);
    if (!Number.isInteger(flags)) throw invalidArgType('flags', 'an integer', flags);
    if (flags !== 0 && flags !== EPOLL_CLOEXEC) throw new SyscallError(EINVAL, 'epoll_create1');
    this.#epfd = check(sys, sys.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
    // In a worker thread, closed when the worker ends if still open (an
    // adopted fd, as the selectors' loop-owned ones, is its owner's business).
    if (sys === libc()) {
      closeAtThreadExit(this.#epfd);
      this.#atThreadExit = true;
    }
  }

  #atThreadExit = false;

  /**
   * An epoll object for an existing epoll fd — Python's `epoll.fromfd(fd)`.
   * The object owns the fd from now on: `close()` closes it.
   * @param sys the libc binding (tests pass a scripted one).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if fd is not an integer.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
   */
  static fromfd(fd: number, sys?: Libc): Epoll {
    if (typeof fd !== 'number') throw invalidArgType('fd', 'an integer', fd);
    adoptFd = fileobjToFd(fd, 'fd');
    try {
      return new Epoll(-1, 0, sys);
    } finally {
      adoptFd = -1;
    }
  }

  /** True once {@link Epoll.close} was called. */
  get closed(): boolean {
    return this.#epfd < 0;
  }

  /**
   * The epoll fd.
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   */
  fileno(): number {
    if (this.#epfd < 0) throw closedError();
    return this.#epfd;
  }

  /**
   * Close the epoll fd. Idempotent, and never throws (as in CPython, a
   * failure of close(2) is ignored: the fd is released either way).
   */
  close(): void {
    const fd = this.#epfd;
    if (fd < 0) return;
    this.#epfd = -1;
    if (this.#atThreadExit) keepAtThreadExit(fd);
    this.#sys.close(fd);
  }

  /** Same as {@link Epoll.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #ctl(op: number, fd: number, events: number): void {
    const epfd = this.#epfd;
    if (epfd < 0) throw closedError();
    writeEpollEvent(ctlWords, 0, events, fd);
    // EPOLL_CTL_DEL gets the event too: kernels before 2.6.9 required a
    // non-NULL pointer even though they ignore it.
    const sys = this.#sys;
    check(sys, sys.epoll_ctl(epfd, op, fd, ctlEvent), 'epoll_ctl');
  }

  /**
   * Watch a file descriptor.
   * @param fd an integer fd or an object with `fileno()`.
   * @param eventmask `EPOLL*` bits (default `EPOLLIN | EPOLLPRI | EPOLLOUT`),
   *   incl. `EPOLLET`, `EPOLLONESHOT`, `EPOLLEXCLUSIVE`, `EPOLLRDHUP`; taken
   *   modulo 2**32 like CPython, so signed and unsigned spellings both work.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file object or a non-integer mask.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   * @throws {SyscallError} the errno of epoll_ctl: `EEXIST` if already registered, `EPERM` for
   *   a file that does not support epoll (a regular file), `EBADF`, `ENOSPC`, `EINVAL`...
   */
  register(fd: FileObject, eventmask: number = EPOLL_DEFAULT_EVENTMASK): void {
    const n = fileobjToFd(fd, 'fd');
    this.#ctl(EPOLL_CTL_ADD, n, epollEventmask(eventmask));
  }

  /**
   * Change the event mask of a watched file descriptor (and re-arm it
   * after an `EPOLLONESHOT` event).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file object or a non-integer mask.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   * @throws {SyscallError} the errno of epoll_ctl: `ENOENT` if not registered, `EINVAL`
   *   (e.g. with `EPOLLEXCLUSIVE`), `EBADF`...
   */
  modify(fd: FileObject, eventmask: number): void {
    const n = fileobjToFd(fd, 'fd');
    this.#ctl(EPOLL_CTL_MOD, n, epollEventmask(eventmask));
  }

  /**
   * Stop watching a file descriptor.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad file object.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   * @throws {SyscallError} the errno of epoll_ctl, passed through as CPython does: `ENOENT` if not
   *   registered, `EBADF` if the fd was already closed.
   */
  unregister(fd: FileObject): void {
    const n = fileobjToFd(fd, 'fd');
    this.#ctl(EPOLL_CTL_DEL, n, 0);
  }

  /**
   * Wait for events — Python's `epoll.poll(timeout=None, maxevents=-1)`.
   * @param timeout seconds (Python's unit here); `null`/`undefined` or
   *   negative blocks, 0 polls; rounded up to whole milliseconds. An `EINTR`
   *   is retried with the time left (PEP 475).
   * @param maxevents most events to return; -1 means FD_SETSIZE - 1 (1023).
   * @returns `[fd, events]` pairs, events unsigned.
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a timeout that is not a number (or NaN).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for maxevents 0 or < -1 (Python: ValueError) or above
   *   the kernel's limit, or a timeout above 2147483.647 s (Python: OverflowError).
   * @throws {SyscallError} the errno of epoll_wait other than `EINTR`.
   */
  poll(timeout?: number | null, maxevents = -1): Array<[number, number]> {
    if (this.#epfd < 0) throw closedError();
    const n = this.wait(epollTimeoutMs(timeout), maxevents);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.readyFd(i), this.readyEvents(i)];
    return out;
  }

  /**
   * Raw API for the selectors layer: one epoll_wait(2), allocation-free
   * once the event buffer is large enough. The ready entries stay in that
   * buffer for {@link Epoll.readyFd} / {@link Epoll.readyEvents} until the
   * next `wait`. An `EINTR` is retried with the time left; if none is left,
   * 0 is returned.
   * @param timeoutMs milliseconds: negative blocks, 0 polls; fractions round
   *   up, values above INT_MAX are clamped.
   * @param maxevents most entries to fetch; -1 (default) means 1023.
   * @returns n, the number of ready entries (0 on timeout).
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for maxevents 0, < -1, not an integer, or above the
   *   kernel's limit (INT_MAX / sizeof(struct epoll_event)).
   * @throws {SyscallError} the errno of epoll_wait other than `EINTR` (e.g. `EBADF`, `EINVAL`).
   */
  wait(timeoutMs: number, maxevents = -1): number {
    const epfd = this.#epfd;
    if (epfd < 0) throw closedError();
    let max = maxevents;
    if (max === -1) max = EPOLL_DEFAULT_MAXEVENTS;
    else if (!(max >= 1 && max <= EP_MAX_EVENTS) || !Number.isInteger(max)) {
      throw outOfRange('maxevents', `-1 or an integer > 0 and <= ${EP_MAX_EVENTS}`, maxevents);
    }
    if (max > this.#capacity) this.#grow(max);
    this.#max = max;
    return kernelWait(this.#sys, 'epoll_wait', rawTimeoutMs(timeoutMs), 1, this.#waitOnce);
  }

  #grow(max: number): void {
    const capacity = Math.min(Math.max(max, this.#capacity * 2), EP_MAX_EVENTS);
    const buffer = new ArrayBuffer(capacity * EPOLL_EVENT_SIZE);
    this.#events = new Uint8Array(buffer);
    this.#words = new Uint32Array(buffer);
    this.#ints = new Int32Array(buffer);
    this.#capacity = capacity;
  }

  /**
   * The fd (low 32 bits of epoll_data) of ready entry `i` of the last
   * {@link Epoll.wait} (`0 <= i < n`; other indexes give unspecified values).
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   */
  readyFd(i: number): number {
    if (this.#epfd < 0) throw closedError();
    return this.#ints[i * EPOLL_EVENT_WORDS + EPOLL_EVENT_FD_WORD];
  }

  /**
   * The events (unsigned 32-bit) of ready entry `i` of the last
   * {@link Epoll.wait} (`0 <= i < n`; other indexes give unspecified values).
   * @throws {CodedError} `ERR_EPOLL_CLOSED` after close().
   */
  readyEvents(i: number): number {
    if (this.#epfd < 0) throw closedError();
    return this.#words[i * EPOLL_EVENT_WORDS];
  }
}

function createEpoll(sizehint = -1, flags = 0, sys?: Libc): Epoll {
  return new Epoll(sizehint, flags, sys);
}

/**
 * A new {@link Epoll} — Python's `select.epoll(sizehint=-1, flags=0)`.
 * `epoll.fromfd(fd)` adopts an existing epoll fd, as Python's classmethod
 * (`select.epoll.fromfd`); `new select.epoll()` works too.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if sizehint or flags is not an integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` if sizehint is 0 or below -1.
 * @throws {SyscallError} `EINVAL` for flags other than 0/`EPOLL_CLOEXEC`; the errno of
 *   epoll_create1, e.g. `EMFILE`.
 * @throws {CodedError} `ERR_UNSUPPORTED_PLATFORM` when no sys is given and libc cannot load.
 */
export const epoll: typeof createEpoll & { fromfd: typeof Epoll.fromfd } = Object.assign(createEpoll, {
  fromfd: (fd: number, sys?: Libc): Epoll => Epoll.fromfd(fd, sys),
});
