/**
 * Waiting for readiness in Node's own event loop instead of blocking the
 * JavaScript thread: the loop behind `selectAsync`, `run` and `events`.
 * Pure: loads without libc; the backend brings the kernel side as a
 * {@link LoopWaiter}.
 */

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CodedError } from '../lib/errors.js';
import { monotonicMs, remainingMs, secondsToMs } from '../lib/timeout.js';
import type { EventHandler, ReadyList, RunOptions } from './base-selector.js';
import type { SelectorKey } from './selector-key.js';

/**
 * How a backend waits in Node's loop for its kernel object: the part of
 * the wait that differs between backends (a libuv watch of the epoll fd,
 * or of a doorbell epoll set for poll/select). Neither holds a libuv
 * threadpool thread.
 */
export interface LoopWaiter {
  /**
   * Start waiting in Node's loop until the kernel may have something ready,
   * `timeoutMs` passes (-1: never) or the returned cancel function is called;
   * then call `done` exactly once.
   * @throws {Error} if the wait cannot be started (nothing is then pending).
   */
  arm(timeoutMs: number, done: () => void): () => void;
  /**
   * The registration of `fd` was added, changed or removed (called whether
   * or not a wait is armed): an armed wait must see the change, or return.
   */
  registrationsChanged(fd: number): void;
  /** Release what the waiter holds (called once, by the selector's close()). */
  close(): void;
}

// A loop that always finds something ready never waits in Node's loop, so
// timers, signal handlers and other I/O would starve: give them a turn at
// least this often (ms).
const FAIRNESS_MS = 5;

function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/**
 * The Node-loop wait of one selector: poll without waiting, and only when
 * nothing is ready arm the backend's {@link LoopWaiter}, then poll again.
 * At most one wait is pending at a time.
 * @typeParam T - the type of registration data.
 */
export class NodeLoopWait<T> {
  readonly #pollNow: () => ReadyList<T>;
  readonly #arm: (timeoutMs: number, done: () => void) => () => void;
  #pending = false;
  #cancel: (() => void) | null = null;
  #closed = false;

  /**
   * @param pollNow the selector's `select(0)`.
   * @param arm the backend's {@link LoopWaiter.arm}.
   */
  constructor(pollNow: () => ReadyList<T>, arm: (timeoutMs: number, done: () => void) => () => void) {
    this.#pollNow = pollNow;
    this.#arm = arm;
  }

  /**
   * Wait for readiness without blocking Node (the body of `selectAsync`).
   * @param timeout seconds, as for `select()`.
   * @returns the ready list; `[]` on timeout or when {@link close} ends the wait.
   * @throws {Error} `AbortError` (code `ABORT_ERR`) when `signal` aborts.
   * @throws {Error} `ERR_SELECTOR_BUSY` if another wait is pending.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a timeout that is not a number.
   * @throws {SyscallError} if a kernel call fails.
   */
  async select(timeout: number | null | undefined, signal: AbortSignal | undefined): Promise<ReadyList<T>> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#pending) throw new CodedError('ERR_SELECTOR_BUSY', 'selectAsync() is already pending on this selector');
    const ms = secondsToMs(timeout);
    const first = this.#pollNow();
    if (first.length > 0 || ms === 0) return first;
    const deadline = ms < 0 ? Infinity : monotonicMs() + ms;
    this.#pending = true;
    const onAbort = (): void => this.#cancel?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const left = deadline === Infinity ? -1 : remainingMs(deadline);
        await new Promise<void>((resolve) => {
          this.#cancel = this.#arm(left, resolve);
        });
        this.#cancel = null;
        if (this.#closed) return [];
        if (signal?.aborted) throw abortError(signal);
        const ready = this.#pollNow();
        if (ready.length > 0 || (deadline !== Infinity && remainingMs(deadline) === 0)) return ready;
      }
    } finally {
      this.#pending = false;
      this.#cancel = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Every ready event, one at a time, until {@link close} or the signal
   * aborts (the body of `events`).
   * @throws {SyscallError} if a kernel wait fails.
   */
  async *events(options: RunOptions): AsyncGenerator<[SelectorKey<T>, number], void, undefined> {
    for await (const batch of this.#batches(options.signal)) {
      for (const event of batch) {
        if (this.#closed) return;
        yield event;
      }
    }
  }

  /**
   * Call `onEvent` for every ready event until {@link close} or the signal
   * aborts (the body of `run`).
   * @throws {Error} whatever `onEvent` throws, or a failed kernel wait.
   */
  async run(onEvent: EventHandler<T>, options: RunOptions): Promise<void> {
    for await (const batch of this.#batches(options.signal)) {
      for (let i = 0; i < batch.length; i++) {
        if (this.#closed) return;
        onEvent(batch[i][0], batch[i][1]);
      }
    }
  }

  /** End a pending wait with `[]`, and every later batch loop. Idempotent. */
  close(): void {
    this.#closed = true;
    const cancel = this.#cancel;
    this.#cancel = null;
    if (cancel !== null) cancel();
  }

  // The loop `run` and `events` share: one ready list per turn, and a turn
  // of Node's loop every FAIRNESS_MS even when something is always ready.
  async *#batches(signal: AbortSignal | undefined): AsyncGenerator<ReadyList<T>, void, undefined> {
    let lastYield = monotonicMs();
    for (;;) {
      const batch = await this.#nextBatch(signal);
      if (batch === null) return;
      yield batch;
      if (monotonicMs() - lastYield > FAIRNESS_MS) {
        await yieldToLoop();
        lastYield = monotonicMs();
      }
    }
  }

  async #nextBatch(signal: AbortSignal | undefined): Promise<ReadyList<T> | null> {
    if (this.#closed || signal?.aborted) return null;
    try {
      const batch = await this.select(null, signal);
      return this.#closed ? null : batch;
    } catch (err) {
      if (signal?.aborted && (err as Error).name === 'AbortError') return null;
      throw err;
    }
  }
}
