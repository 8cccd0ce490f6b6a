/**
 * A kernel wait (poll/select) run by koffi on a libuv threadpool thread,
 * with an eventfd that wakes it: how PollSelector and SelectSelector wait
 * without blocking Node's loop.
 */

import { EFD_CLOEXEC, EFD_NONBLOCK } from '../lib/sys/constants.js';
import { check } from '../lib/sys/check.js';
import type { AsyncCallback, Libc } from '../lib/sys/libc.js';
import type { LoopWaiter } from './node-loop-wait.js';

/**
 * Starts one asynchronous kernel wait that also watches `wakeFd` for
 * reading, and calls `cb` when it returns.
 * @throws {Error} if the wait cannot be started (e.g. `wakeFd` does not fit the backend).
 */
type StartWait = (timeoutMs: number, wakeFd: number, cb: AsyncCallback) => void;

/**
 * One eventfd plus the state of at most one in-flight worker wait. The
 * eventfd stays open until the worker has returned, since the worker may
 * still be polling it.
 */
export class WorkerWait implements LoopWaiter {
  readonly #sys: Libc;
  readonly #start: StartWait;
  #fd = -1;
  #inFlight = false;
  #closing = false;
  readonly #counter = new BigUint64Array(1);

  /**
   * @param sys the libc binding (eventfd, read, write, close).
   * @param start issues the backend's asynchronous poll() or select().
   */
  constructor(sys: Libc, start: StartWait) {
    this.#sys = sys;
    this.#start = start;
  }

  /**
   * Start a worker wait; `done` runs once it returns (woken, ready, or
   * timed out).
   * @returns a function that wakes the wait early.
   * @throws {SyscallError} if eventfd() fails (e.g. EMFILE).
   * @throws {Error} whatever the backend's `start` throws.
   */
  arm(timeoutMs: number, done: () => void): () => void {
    // The eventfd is created on first use, so that a selector never waited
    // on asynchronously costs no fd.
    if (this.#fd < 0) this.#fd = check(this.#sys, this.#sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 'eventfd');
    this.#inFlight = true;
    try {
      this.#start(timeoutMs, this.#fd, () => {
        this.#inFlight = false;
        this.#drain();
        if (this.#closing) this.#closeNow();
        done();
      });
    } catch (err) {
      this.#inFlight = false;
      throw err;
    }
    return () => this.#wake();
  }

  /** A poll()/select() on a worker thread sees no later change: wake it so that it is armed again. */
  registrationsChanged(): void {
    this.#wake();
  }

  /** Close the eventfd now, or as soon as the in-flight wait returns. */
  close(): void {
    if (this.#inFlight) {
      this.#closing = true;
      this.#wake();
    } else {
      this.#closeNow();
    }
  }

  // Make an in-flight wait return now (no-op when none is in flight).
  #wake(): void {
    if (!this.#inFlight || this.#fd < 0) return;
    this.#counter[0] = 1n;
    // A full counter (EAGAIN) already means "wake up".
    this.#sys.write(this.#fd, new Uint8Array(this.#counter.buffer), 8);
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
