/**
 * Waiting in Node's loop until a socket is readable or writable: the part
 * of the `*Async` socket methods that waits. One epoll set per thread holds
 * the sockets that have a pending wait; its fd is watched by libuv (one
 * poll handle), and when it fires, `epoll_wait(0)` says which waits are
 * over. No thread, no threadpool slot, no busy loop; with no wait pending
 * the watch is closed, so nothing keeps the process alive.
 */

import { CodedError } from '../errors.js';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../sys/constants.js';
import { check, kernelWait } from '../sys/call.js';
import type { FdWatcher, Libc } from '../sys/libc.js';
import { loopOwnedFd } from '../sys/loop-owned-fd.js';
import { EPOLL_EVENT_FD_WORD, EPOLL_EVENT_SIZE, EPOLL_EVENT_WORDS, writeEpollEvent } from '../sys/structs.js';

/** A direction to wait for: readable (EPOLLIN) or writable (EPOLLOUT). */
export type Direction = typeof EPOLLIN | typeof EPOLLOUT;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** The pending waits of one fd. */
interface FdWaits {
  read: Waiter | null;
  write: Waiter | null;
  /** The events the epoll set has for the fd (0: not in the set). */
  mask: number;
}

const MAX_EVENTS = 256;

function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/** The epoll set of this thread's socket waits (see the file comment). */
export class Reactor {
  readonly #sys: Libc;
  #epfd = -1;
  // `close(epfd)` through this binding (a worker's epoll fd is owned by Node's loop).
  #closer: Libc;
  #watcher: FdWatcher | null = null;
  readonly #waits = new Map<number, FdWaits>();
  readonly #events = Buffer.alloc(EPOLL_EVENT_SIZE * MAX_EVENTS);
  readonly #words = new Int32Array(this.#events.buffer, this.#events.byteOffset, this.#events.length / 4);
  readonly #ctl = new Int32Array(4);
  readonly #ctlBytes = new Uint8Array(this.#ctl.buffer);
  readonly #waitOnce = (ms: number): number => this.#sys.epoll_wait(this.#epfd, this.#events, MAX_EVENTS, ms);

  constructor(sys: Libc) {
    this.#sys = sys;
    this.#closer = sys;
  }

  /** Pending waits (for tests and stats). */
  get pending(): number {
    let n = 0;
    for (const w of this.#waits.values()) n += (w.read !== null ? 1 : 0) + (w.write !== null ? 1 : 0);
    return n;
  }

  /**
   * Resolve once `fd` is readable (EPOLLIN) or writable (EPOLLOUT), or has
   * an error or hang-up (the call that follows reports it).
   * @throws {CodedError} `ERR_SOCKET_BUSY` (rejected) if a wait for the same fd and direction is pending.
   * @throws {Error} `AbortError` (rejected) when `signal` aborts.
   * @throws {SyscallError} (rejected) if epoll_ctl fails (e.g. `EPERM` for a regular file).
   */
  wait(fd: number, direction: Direction, syscall: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    let entry = this.#waits.get(fd);
    const slot = direction === EPOLLIN ? 'read' : 'write';
    if (entry !== undefined && entry[slot] !== null) {
      return Promise.reject(new CodedError('ERR_SOCKET_BUSY', `${syscall}: another ${slot === 'read' ? 'read' : 'write'} on this socket is already waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#settle(fd, slot);
        reject(abortError(signal!));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      try {
        if (entry === undefined) {
          entry = { read: null, write: null, mask: 0 };
          this.#waits.set(fd, entry);
        }
        entry[slot] = waiter;
        this.#update(fd, entry);
      } catch (err) {
        this.#settle(fd, slot);
        reject(err as Error);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `fd` is being closed: its pending waits are rejected with `err`, and it leaves the set. */
  forget(fd: number, err: Error): void {
    const entry = this.#waits.get(fd);
    if (entry === undefined) return;
    const { read, write } = entry;
    entry.read = entry.write = null;
    this.#update(fd, entry);
    read?.reject(err);
    write?.reject(err);
  }

  /** Drop one wait of `fd` (aborted, or failed to start). */
  #settle(fd: number, slot: 'read' | 'write'): void {
    const entry = this.#waits.get(fd);
    if (entry === undefined) return;
    entry[slot] = null;
    try {
      this.#update(fd, entry);
    } catch {
      // The fd is gone already: nothing left to take out of the set.
    }
  }

  /** Bring the epoll set (and the watch) in line with `entry`'s pending waits. */
  #update(fd: number, entry: FdWaits): void {
    const want = (entry.read !== null ? EPOLLIN : 0) | (entry.write !== null ? EPOLLOUT : 0);
    if (want !== entry.mask) {
      if (want !== 0 && this.#epfd < 0) this.#open();
      const op = entry.mask === 0 ? EPOLL_CTL_ADD : want === 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
      writeEpollEvent(this.#ctl, 0, want, fd);
      const r = this.#sys.epoll_ctl(this.#epfd, op, fd, this.#ctlBytes);
      // A DEL of an fd closed behind our back fails (EBADF/ENOENT): it has left the set anyway.
      if (op !== EPOLL_CTL_DEL) check(this.#sys, r, 'epoll_ctl');
      entry.mask = want;
    }
    if (want === 0) this.#waits.delete(fd);
    if (this.#waits.size > 0 && this.#watcher === null) {
      this.#watcher = this.#sys.watch(this.#epfd, true, false, () => this.#dispatch());
    } else if (this.#waits.size === 0 && this.#watcher !== null) {
      this.#watcher.close();
      this.#watcher = null;
    }
  }

  #open(): void {
    const owned = loopOwnedFd(this.#sys, check(this.#sys, this.#sys.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1'));
    this.#epfd = owned.fd;
    this.#closer = owned.sys;
  }

  /** The epoll fd is readable: end the waits whose fd is ready. */
  #dispatch(): void {
    const n = kernelWait(this.#sys, 'epoll_wait', 0, 1, this.#waitOnce);
    const words = this.#words;
    const ready: Waiter[] = [];
    for (let i = 0; i < n; i++) {
      const events = words[i * EPOLL_EVENT_WORDS] >>> 0;
      const fd = words[i * EPOLL_EVENT_WORDS + EPOLL_EVENT_FD_WORD];
      const entry = this.#waits.get(fd);
      if (entry === undefined) continue;
      const failed = (events & (EPOLLERR | EPOLLHUP)) !== 0;
      if (entry.read !== null && (failed || (events & EPOLLIN) !== 0)) {
        ready.push(entry.read);
        entry.read = null;
      }
      if (entry.write !== null && (failed || (events & EPOLLOUT) !== 0)) {
        ready.push(entry.write);
        entry.write = null;
      }
      try {
        this.#update(fd, entry);
      } catch {
        // Could not change the set (the fd was closed meanwhile): its waiters retry their call and see why.
      }
    }
    for (const w of ready) w.resolve();
  }

  /** Close the epoll set (no wait may be pending). */
  close(): void {
    if (this.#watcher !== null) {
      this.#watcher.close();
      this.#watcher = null;
    }
    if (this.#epfd >= 0) this.#closer.close(this.#epfd);
    this.#epfd = -1;
  }
}

const reactors = new WeakMap<Libc, Reactor>();

/** This thread's reactor for `sys`, if one was made. */
export function reactorIfAny(sys: Libc): Reactor | undefined {
  return reactors.get(sys);
}

/** This thread's reactor for `sys` (made on first use). */
export function reactorFor(sys: Libc): Reactor {
  let r = reactors.get(sys);
  if (r === undefined) {
    r = new Reactor(sys);
    reactors.set(sys, r);
  }
  return r;
}
