/**
 * `EpollSelector`: selectors on epoll(7). Its async wait watches the epoll
 * fd itself with libuv (an epoll fd is readable when it has ready events).
 */

import { EPOLL_CLOEXEC, EPOLLIN, EPOLLOUT } from '../lib/sys/constants.js';
import { check } from '../lib/sys/check.js';
import { libc, type Libc } from '../lib/sys/libc.js';
import { Epoll } from '../lib/select/epoll.js';
import { FdWatch } from './fd-watch.js';
import { loopOwnedFd } from '../lib/sys/loop-owned-fd.js';
import { PollLikeSelector } from './poll-like-selector.js';

/** Options of the selector constructors. */
export interface SelectorOptions {
  /** The libc binding to use (tests pass a fake to script failures). */
  sys?: Libc;
}

/**
 * Selector backed by epoll: O(ready) waits, handles tens of thousands of
 * fds. The default on Linux.
 * @typeParam T - the type of registration data.
 */
export class EpollSelector<T = unknown> extends PollLikeSelector<T> {
  protected override readonly poller: Epoll;
  protected override readonly waiter: FdWatch;

  /**
   * @throws {SyscallError} if epoll_create1 fails (EMFILE, ENOMEM).
   * @throws {Error} `ERR_UNSUPPORTED_PLATFORM` off Linux x86-64/arm64.
   */
  constructor(options: SelectorOptions = {}) {
    super(EPOLLIN, EPOLLOUT);
    const sys = options.sys ?? libc();
    // In a worker thread the epoll fd is owned by Node's loop, so that it
    // is closed even if the worker is terminated during a wait.
    const owned = loopOwnedFd(sys, check(sys, sys.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1'));
    this.poller = Epoll.fromfd(owned.fd, owned.sys);
    this.waiter = new FdWatch(sys, owned.fd);
  }

  /**
   * The epoll fd (Python's `EpollSelector.fileno()`).
   * @throws {Error} `ERR_EPOLL_CLOSED` after close().
   */
  fileno(): number {
    return this.poller.fileno();
  }

  protected override backendClose(): void {
    this.poller.close();
  }
}
