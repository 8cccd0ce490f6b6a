/**
 * `PollSelector`: selectors on poll(2). Its async wait runs poll() on a
 * libuv threadpool thread with an eventfd that register/close use to wake it.
 */

import { POLLIN, POLLOUT } from '../lib/sys/constants.js';
import { libc, type AsyncCallback, type Libc } from '../lib/sys/libc.js';
import { POLLFD_SIZE, writePollfd } from '../lib/sys/structs.js';
import { Poll } from '../lib/select/poll.js';
import { PollLikeSelector } from './poll-like-selector.js';
import { WorkerWait } from './worker-wait.js';
import type { SelectorOptions } from './epoll-selector.js';

/**
 * Selector backed by poll: no fd limit, O(n) per wait.
 * @typeParam T - the type of registration data.
 */
export class PollSelector<T = unknown> extends PollLikeSelector<T> {
  protected override readonly poller: Poll;
  protected override readonly readBit = POLLIN;
  protected override readonly writeBit = POLLOUT;
  protected override readonly waiter: WorkerWait;
  readonly #sys: Libc;
  // pollfd array handed to the worker thread; only rebuilt between waits.
  #asyncFds = Buffer.alloc(0);

  /** @throws {Error} `ERR_UNSUPPORTED_PLATFORM` off Linux x86-64/arm64. */
  constructor(options: SelectorOptions = {}) {
    super();
    this.#sys = options.sys ?? libc();
    this.poller = new Poll(this.#sys);
    this.waiter = new WorkerWait(this.#sys, (timeoutMs, wakeFd, cb) => this.#startAsync(timeoutMs, wakeFd, cb));
  }

  #startAsync(timeoutMs: number, wakeFd: number, cb: AsyncCallback): void {
    const n = this.keyCount + 1;
    if (this.#asyncFds.length < n * POLLFD_SIZE) this.#asyncFds = Buffer.alloc(n * POLLFD_SIZE * 2);
    const fds = this.#asyncFds;
    let i = 0;
    for (const key of this.registrations()) writePollfd(fds, i++, key.fd, this.kernelMask(key.events));
    writePollfd(fds, i, wakeFd, POLLIN);
    this.#sys.pollAsync(fds, n, timeoutMs, cb);
  }
}
