/**
 * How PollSelector and SelectSelector wait in Node's loop without a thread:
 * a private epoll set holding the selector's fds is only a doorbell. libuv
 * watches it (as EpollSelector's own epoll fd is watched); when it rings,
 * the selector's real poll()/select() runs with timeout 0 and decides what
 * is ready. Nothing occupies a libuv threadpool thread, and a terminated
 * worker leaves no fd behind (the set is a {@link loopOwnedFd}).
 */

import { EPOLL_CLOEXEC, EPOLLIN, EPOLLOUT } from '../lib/sys/constants.js';
import { check } from '../lib/sys/check.js';
import { SyscallError } from '../lib/errors.js';
import type { Libc } from '../lib/sys/libc.js';
import { Epoll } from '../lib/select/epoll.js';
import { EVENT_READ, EVENT_WRITE } from './events.js';
import { FdWatch } from './fd-watch.js';
import { loopOwnedFd } from '../lib/sys/loop-owned-fd.js';
import type { LoopWaiter } from './node-loop-wait.js';

// In the doorbell set: an fd epoll refuses (a regular file, EPERM) or that
// was closed before it could be added (EBADF). poll() and select() report
// such an fd at once, so the selector never waits on it.
const UNWATCHED = -1;

/** What the doorbell needs of a selector key. */
export interface Registration {
  readonly fd: number;
  /** EVENT_READ and/or EVENT_WRITE. */
  readonly events: number;
}

function epollMask(events: number): number {
  return ((events & EVENT_READ) !== 0 ? EPOLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? EPOLLOUT : 0);
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof SyscallError ? err.code : undefined;
}

/**
 * A {@link LoopWaiter} for backends whose kernel object cannot itself be
 * watched. The doorbell set is created at the first wait, then kept in step
 * with the registrations lazily: only fds changed since the last wait are
 * re-synced, at the next wait.
 */
export class DoorbellWait implements LoopWaiter {
  readonly #sys: Libc;
  readonly #lookup: (fd: number) => Registration | undefined;
  readonly #registered: () => Iterable<Registration>;
  #bell: Epoll | null = null;
  #watch: FdWatch | null = null;
  // fd → the epoll mask it has in the doorbell set, or UNWATCHED.
  readonly #inSet = new Map<number, number>();
  readonly #dirty = new Set<number>();
  #wake: (() => void) | null = null;

  /**
   * @param sys the libc binding.
   * @param lookup the selector's registration of an fd (its key).
   * @param registered every registration (read once, when the doorbell is created).
   */
  constructor(sys: Libc, lookup: (fd: number) => Registration | undefined, registered: () => Iterable<Registration>) {
    this.#sys = sys;
    this.#lookup = lookup;
    this.#registered = registered;
  }

  /**
   * Bring the doorbell set up to date and watch it until it rings,
   * `timeoutMs` passes (-1: never) or the returned function is called.
   * @throws {SyscallError} if epoll_create1 or epoll_ctl fails (EMFILE, ENOMEM, ENOSPC).
   */
  arm(timeoutMs: number, done: () => void): () => void {
    const watch = this.#watch ?? this.#open();
    this.#sync();
    const cancel = watch.arm(timeoutMs, () => {
      this.#wake = null;
      done();
    });
    this.#wake = cancel;
    return cancel;
  }

  /** Note the change; a pending wait is woken so that it is re-armed with the set in step. */
  registrationsChanged(fd: number): void {
    if (this.#bell === null) return;
    this.#dirty.add(fd);
    if (this.#wake !== null) this.#wake();
  }

  /** Close the doorbell set. */
  close(): void {
    this.#bell?.close();
    this.#bell = null;
    this.#watch = null;
    this.#inSet.clear();
    this.#dirty.clear();
  }

  #open(): FdWatch {
    const sys = this.#sys;
    const owned = loopOwnedFd(sys, check(sys, sys.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1'));
    const bell = Epoll.fromfd(owned.fd, owned.sys);
    this.#bell = bell;
    for (const key of this.#registered()) this.#dirty.add(key.fd);
    return (this.#watch = new FdWatch(sys, bell.fileno()));
  }

  #sync(): void {
    const bell = this.#bell as Epoll;
    for (const fd of this.#dirty) {
      this.#syncOne(bell, fd);
      this.#dirty.delete(fd);
    }
  }

  #syncOne(bell: Epoll, fd: number): void {
    const mask = epollMask(this.#lookup(fd)?.events ?? 0);
    const had = this.#inSet.get(fd);
    if (mask === 0) {
      if (had === undefined) return;
      this.#inSet.delete(fd);
      if (had === UNWATCHED) return;
      try {
        bell.unregister(fd);
      } catch (err) {
        // Closed (EBADF) or closed and reused (ENOENT): epoll already forgot it.
        if (errnoOf(err) === undefined) throw err;
      }
      return;
    }
    if (had === mask || had === UNWATCHED) return;
    try {
      if (had === undefined) bell.register(fd, mask);
      else bell.modify(fd, mask);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EPERM' || code === 'EBADF') {
        this.#inSet.set(fd, UNWATCHED);
        return;
      }
      // The fd number was closed and reused since it was added (ENOENT), or
      // still names the old file through a dup (EEXIST): the other call fits.
      if (code === 'EEXIST') bell.modify(fd, mask);
      else if (code === 'ENOENT') bell.register(fd, mask);
      else throw err;
    }
    this.#inSet.set(fd, mask);
  }
}
