/**
 * `PollSelector`: selectors on poll(2). Its async wait is woken by a
 * doorbell epoll set watched by libuv, then poll() with timeout 0 decides.
 */

import { POLLIN, POLLOUT } from '../lib/sys/constants.js';
import { libc } from '../lib/sys/libc.js';
import { Poll } from '../lib/select/poll.js';
import { PollLikeSelector } from './poll-like-selector.js';
import { DoorbellWait } from './doorbell-wait.js';
import type { SelectorOptions } from './epoll-selector.js';

/**
 * Selector backed by poll: no fd limit, O(n) per wait.
 * @typeParam T - the type of registration data.
 */
export class PollSelector<T = unknown> extends PollLikeSelector<T> {
  protected override readonly poller: Poll;
  protected override readonly waiter: DoorbellWait;

  /** @throws {Error} `ERR_UNSUPPORTED_PLATFORM` off Linux x86-64/arm64. */
  constructor(options: SelectorOptions = {}) {
    super(POLLIN, POLLOUT);
    const sys = options.sys ?? libc();
    this.poller = new Poll(sys);
    this.waiter = new DoorbellWait(sys, (fd) => this.keyForFd(fd), () => this.registrations());
  }
}
