/**
 * `PollSelector`: selectors on poll(2). Its async wait runs poll() on a
 * koffi worker thread with an eventfd that register/close use to wake it.
 */

import { POLLIN, POLLOUT } from '../lib/sys/constants.js';
import { libc, type Libc } from '../lib/sys/libc.js';
import { POLLFD_EVENTS_OFFSET, POLLFD_SIZE } from '../lib/sys/structs.js';
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
  readonly #sys: Libc;
  readonly #worker: WorkerWait;
  // pollfd array handed to the worker thread; only rebuilt between waits.
  #asyncFds = Buffer.alloc(0);

  /** @throws {Error} `ERR_UNSUPPORTED_PLATFORM` off Linux x86-64/arm64. */
  constructor(options: SelectorOptions = {}) {
    super();
    this.#sys = options.sys ?? libc();
    this.poller = new Poll(this.#sys);
    this.#worker = new WorkerWait(this.#sys);
  }

  protected override backendClose(): void {
    this.#worker.close();
  }

  protected override registrationsChanged(): void {
    this.#worker.wake();
  }

  protected override armWait(timeoutMs: number, done: () => void): () => void {
    const wakeFd = this.#worker.eventFd();
    const n = this.keyCount + 1;
    if (this.#asyncFds.length < n * POLLFD_SIZE) this.#asyncFds = Buffer.alloc(n * POLLFD_SIZE * 2);
    const fds = this.#asyncFds;
    let off = 0;
    for (const key of this.registrations()) {
      fds.writeInt32LE(key.fd, off);
      fds.writeInt32LE(this.kernelMask(key.events), off + POLLFD_EVENTS_OFFSET); // events, revents = 0
      off += POLLFD_SIZE;
    }
    fds.writeInt32LE(wakeFd, off);
    fds.writeInt32LE(POLLIN, off + POLLFD_EVENTS_OFFSET);
    return this.#worker.arm((cb) => this.#sys.pollAsync(fds, n, timeoutMs, cb), done);
  }
}
