/**
 * A kernel wait (poll/select) run on a koffi worker thread, with an eventfd
 * that wakes it: how PollSelector and SelectSelector wait without blocking
 * Node's loop.
 */

import { EFD_CLOEXEC, EFD_NONBLOCK } from '../lib/sys/constants.js';
import { check } from '../lib/sys/check.js';
import type { AsyncCallback, Libc } from '../lib/sys/libc.js';

/**
 * One eventfd plus the state of at most one in-flight worker wait. The
 * eventfd stays open until the worker has returned, since the worker may
 * still be polling it.
 */
export class WorkerWait {
  readonly #sys: Libc;
  #fd = -1;
  #inFlight = false;
  #closing = false;
  readonly #counter = new BigUint64Array(1);

  constructor(sys: Libc) {
    this.#sys = sys;
  }

  /**
   * The wake-up eventfd (created on first use), to include in the wait.
   * @throws {SyscallError} if eventfd() fails (e.g. EMFILE).
   */
  eventFd(): number {
    if (this.#fd < 0) this.#fd = check(this.#sys, this.#sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 'eventfd');
    return this.#fd;
  }

  /**
   * Start a worker wait: `call` issues the async libc call with the given
   * callback; `done` runs once it returns (woken, ready, or timed out).
   * @returns a function that wakes the wait early.
   */
  arm(call: (cb: AsyncCallback) => void, done: () => void): () => void {
    this.#inFlight = true;
    call(() => {
      this.#inFlight = false;
      this.#drain();
      if (this.#closing) this.#closeNow();
      done();
    });
    return () => this.wake();
  }

  /** Make an in-flight wait return now (no-op when none is in flight). */
  wake(): void {
    if (!this.#inFlight || this.#fd < 0) return;
    this.#counter[0] = 1n;
    // A full counter (EAGAIN) already means "wake up".
    this.#sys.write(this.#fd, new Uint8Array(this.#counter.buffer), 8);
  }

  /** Close the eventfd now, or as soon as the in-flight wait returns. */
  close(): void {
    if (this.#inFlight) {
      this.#closing = true;
      this.wake();
    } else {
      this.#closeNow();
    }
  }

  #drain(): void {
    if (this.#fd < 0) return;
    // EAGAIN (nothing to drain) is the common case; any other failure
    // would show up again in the next wait, so the result is not checked.
    this.#sys.read(this.#fd, new Uint8Array(this.#counter.buffer), 8);
  }

  #closeNow(): void {
    if (this.#fd >= 0) {
      this.#sys.close(this.#fd);
      this.#fd = -1;
    }
  }
}
