/**
 * `BaseSelector`: the bookkeeping every backend shares (Python's
 * `BaseSelector` + `_BaseSelectorImpl`), and the wait that does not block
 * Node (`selectAsync`, `run`, `events`). Pure: loads without libc; backends
 * bring the system calls.
 */

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { inspect } from 'node:util';
import { CodedError, KeyError } from '../lib/errors.js';
import { fileobjToFd, type FileObject } from '../lib/fileobj.js';
import { monotonicMs, remainingMs, secondsToMs } from '../lib/timeout.js';
import { validateEvents } from './events.js';
import { SelectorKey } from './selector-key.js';
import { SelectorMapping } from './selector-mapping.js';

/** What `select()` returns: each ready key with the events it is ready for. */
export type ReadyList<T = unknown> = Array<[SelectorKey<T>, number]>;

/** Options of {@link BaseSelector.selectAsync}. */
export interface SelectAsyncOptions {
  /** Abort the wait: the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** Options of {@link BaseSelector.run} and {@link BaseSelector.events}. */
export interface RunOptions {
  /** Stop the loop (it resolves; nothing is thrown). */
  signal?: AbortSignal;
}

/** Called by {@link BaseSelector.run} for every ready key. */
export type EventHandler<T> = (key: SelectorKey<T>, events: number) => void;

// A loop that always finds something ready never waits in Node's loop, so
// timers, signal handlers and other I/O would starve: give them a turn at
// least this often (ms).
const FAIRNESS_MS = 5;

function describe(fileobj: unknown): string {
  return inspect(fileobj, { depth: 0, breakLength: Infinity });
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/**
 * The selector API (Python's `selectors.BaseSelector`): register file
 * objects for EVENT_READ/EVENT_WRITE, then wait for readiness with
 * `select()` (blocks the JavaScript thread, as in Python) or
 * `selectAsync()` (waits in Node's own loop). Subclasses provide the
 * kernel side through the protected hooks.
 *
 * @typeParam T - the type of the `data` attached to registrations.
 */
export abstract class BaseSelector<T = unknown> implements Disposable {
  readonly #keys = new Map<number, SelectorKey<T>>();
  #map: SelectorMapping<T> | null;
  #closed = false;
  #waiting = false;
  #cancelWait: (() => void) | null = null;

  constructor() {
    this.#map = new SelectorMapping(this.#keys, (fileobj) => this.#findFd(fileobj));
  }

  // ---- backend hooks ------------------------------------------------------

  /** Add a registration to the kernel side; throw to refuse it (nothing is kept). */
  protected abstract backendRegister(key: SelectorKey<T>): void;
  /** Remove a registration from the kernel side; must tolerate an fd that was closed or reused. */
  protected abstract backendUnregister(key: SelectorKey<T>): void;
  /** Change the events of a registration; throw to refuse (the key is then dropped). */
  protected abstract backendModify(key: SelectorKey<T>, events: number): void;
  /** Wait for readiness and report it through `push` (already masked); returns nothing. */
  protected abstract backendSelect(timeoutMs: number, ready: ReadyList<T>): void;
  /** Release kernel resources (called once, by close()). */
  protected abstract backendClose(): void;
  /**
   * Start waiting in Node's loop until the kernel may have something ready,
   * `timeoutMs` passes (-1: never) or the returned cancel function is called;
   * then call `done` exactly once.
   */
  protected abstract armWait(timeoutMs: number, done: () => void): () => void;
  /** Registrations changed while an `armWait` is pending: make it return if it cannot see the change. */
  protected registrationsChanged(): void {
    // Backends whose wait sees changes by itself (epoll) need nothing.
  }

  /** The key of a registered fd (for backends decoding kernel results). */
  protected keyForFd(fd: number): SelectorKey<T> | undefined {
    return this.#keys.get(fd);
  }

  /** Number of registrations (for sizing kernel buffers). */
  protected get keyCount(): number {
    return this.#keys.size;
  }

  /** All registrations (for backends that rebuild kernel structures). */
  protected registrations(): IterableIterator<SelectorKey<T>> {
    return this.#keys.values();
  }

  // ---- the Python API -----------------------------------------------------

  /**
   * Register a file object for `events` (EVENT_READ, EVENT_WRITE or both),
   * with optional `data`.
   * @returns the new {@link SelectorKey}.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for 0 or unknown event bits (checked first) or a negative fd.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `fileobj` is not an fd or an object with `fileno()`.
   * @throws {KeyError} `ERR_FD_ALREADY_REGISTERED` if its fd is registered (even through another object).
   * @throws {SyscallError} if the kernel refuses it (epoll + regular file: `EPERM`; closed fd: `EBADF`); nothing is kept.
   * @throws {RangeError} `ERR_FD_OUT_OF_RANGE` (SelectSelector) for an fd >= 1024.
   * @throws {Error} `ERR_SELECTOR_CLOSED` after close().
   */
  register(fileobj: FileObject, events: number, data?: T): SelectorKey<T> {
    this.#assertOpen('register');
    validateEvents(events);
    const fd = this.#lookup(fileobj);
    if (this.#keys.has(fd)) {
      throw new KeyError('ERR_FD_ALREADY_REGISTERED', `${describe(fileobj)} (FD ${fd}) is already registered`, fileobj);
    }
    const key = new SelectorKey<T>(fileobj, fd, events, data as T);
    this.backendRegister(key);
    this.#keys.set(fd, key);
    if (this.#waiting) this.registrationsChanged();
    return key;
  }

  /**
   * Unregister a file object. Works after its fd was closed, after the fd
   * number was reused, and for a closed `Socket` (found by identity).
   * @returns the key it had.
   * @throws {KeyError} `ERR_FD_NOT_REGISTERED` if it is not registered.
   * @throws {Error} `ERR_SELECTOR_CLOSED` after close().
   */
  unregister(fileobj: FileObject): SelectorKey<T> {
    this.#assertOpen('unregister');
    const fd = this.#lookup(fileobj);
    const key = this.#keys.get(fd);
    if (key === undefined) throw new KeyError('ERR_FD_NOT_REGISTERED', `${describe(fileobj)} is not registered`, fileobj);
    this.#keys.delete(fd);
    this.backendUnregister(key);
    if (this.#waiting) this.registrationsChanged();
    return key;
  }

  /**
   * Change the events and/or data of a registration. As in Python, `data`
   * is replaced too: omitting it sets it to `undefined`. New data alone
   * makes no system call.
   * @returns the new key (the same key if nothing changed).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for 0 or unknown event bits.
   * @throws {KeyError} `ERR_FD_NOT_REGISTERED` if it is not registered.
   * @throws {SyscallError} if the kernel refuses the change; the registration is then removed.
   * @throws {Error} `ERR_SELECTOR_CLOSED` after close().
   */
  modify(fileobj: FileObject, events: number, data?: T): SelectorKey<T> {
    this.#assertOpen('modify');
    validateEvents(events);
    const fd = this.#lookup(fileobj);
    let key = this.#keys.get(fd);
    if (key === undefined) throw new KeyError('ERR_FD_NOT_REGISTERED', `${describe(fileobj)} is not registered`, fileobj);
    let changed = false;
    if (events !== key.events) {
      try {
        this.backendModify(key, events);
      } catch (err) {
        // Python drops the key when the kernel refuses; we also take the fd
        // out of the kernel set so it cannot report events for a ghost.
        this.#keys.delete(fd);
        try {
          this.backendUnregister(key);
        } catch {
          // Already gone from the kernel side.
        }
        throw err;
      }
      changed = true;
    }
    if (data !== key.data) changed = true;
    if (changed) {
      key = new SelectorKey<T>(key.fileobj, fd, events, data as T);
      this.#keys.set(fd, key);
      if (this.#waiting) this.registrationsChanged();
    }
    return key;
  }

  /**
   * Wait until some registered file objects are ready, or the timeout
   * passes. Blocks the JavaScript thread (as Python does); see
   * {@link selectAsync} for a wait that does not.
   * @param timeout seconds: `undefined`/`null` blocks, `<= 0` polls, positive values round up to whole ms.
   * @returns `[key, events]` for each ready file object, `events` within the key's mask; `[]` on timeout.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a timeout that is not a number.
   * @throws {Error} `ERR_SELECTOR_CLOSED` after close().
   * @throws {SyscallError} if the kernel call fails (EINTR is retried with the time left).
   */
  select(timeout?: number | null): ReadyList<T> {
    this.#assertOpen('select');
    const ready: ReadyList<T> = [];
    this.backendSelect(secondsToMs(timeout), ready);
    return ready;
  }

  /**
   * The key of a registered file object.
   * @throws {KeyError} `ERR_FD_NOT_REGISTERED` if it is not registered.
   * @throws {Error} `ERR_SELECTOR_CLOSED` after close().
   */
  getKey(fileobj: FileObject): SelectorKey<T> {
    this.#assertOpen('getKey');
    const fd = this.#lookup(fileobj);
    const key = this.#keys.get(fd);
    if (key === undefined) throw new KeyError('ERR_FD_NOT_REGISTERED', `${describe(fileobj)} is not registered`, fileobj);
    return key;
  }

  /** A live read-only map of fd → key, or `null` once closed (Python's `None`). */
  getMap(): SelectorMapping<T> | null {
    return this.#map;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Close the selector: forget every registration, release the kernel
   * object, end a pending `selectAsync` with `[]`. The registered file
   * objects are not closed. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const cancel = this.#cancelWait;
    this.#cancelWait = null;
    if (cancel !== null) cancel();
    this.#keys.clear();
    this.#map = null;
    this.backendClose();
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- waiting without blocking Node --------------------------------------

  /**
   * `select()` that does not block the JavaScript thread: it polls first
   * and, when nothing is ready, hands the wait to Node's event loop, so
   * timers, signal handlers and other I/O run meanwhile. Registering,
   * modifying or unregistering from elsewhere (a timer) takes effect in the
   * pending wait; `close()` ends it with `[]`. One pending call per selector.
   * @param timeout seconds, as for {@link select}.
   * @throws {Error} `ERR_SELECTOR_BUSY` if another selectAsync() is pending on this selector.
   * @throws {Error} `ERR_SELECTOR_CLOSED` if called after close().
   * @throws {Error} `AbortError` (code `ABORT_ERR`) when `options.signal` aborts.
   */
  async selectAsync(timeout?: number | null, options: SelectAsyncOptions = {}): Promise<ReadyList<T>> {
    this.#assertOpen('selectAsync');
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    if (this.#waiting) throw new CodedError('ERR_SELECTOR_BUSY', 'selectAsync() is already pending on this selector');
    const ms = secondsToMs(timeout);
    const first = this.select(0);
    if (first.length > 0 || ms === 0) return first;
    const deadline = ms < 0 ? Infinity : monotonicMs() + ms;
    this.#waiting = true;
    const onAbort = (): void => this.#cancelWait?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const left = deadline === Infinity ? -1 : remainingMs(deadline);
        await new Promise<void>((resolve) => {
          this.#cancelWait = this.armWait(left, resolve);
        });
        this.#cancelWait = null;
        if (this.#closed) return [];
        if (signal?.aborted) throw abortError(signal);
        const ready = this.select(0);
        if (ready.length > 0 || (deadline !== Infinity && remainingMs(deadline) === 0)) return ready;
      }
    } finally {
      this.#waiting = false;
      this.#cancelWait = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Async iteration over ready events: `for await (const [key, events] of
   * sel.events())`. Ends (without error) when the selector is closed or
   * `options.signal` aborts.
   * @throws {SyscallError} if a kernel wait fails.
   */
  async *events(options: RunOptions = {}): AsyncGenerator<[SelectorKey<T>, number], void, undefined> {
    let lastYield = monotonicMs();
    for (;;) {
      const batch = await this.#nextBatch(options.signal);
      if (batch === null) return;
      for (const event of batch) {
        if (this.#closed) return;
        yield event;
      }
      if (monotonicMs() - lastYield > FAIRNESS_MS) {
        await yieldToLoop();
        lastYield = monotonicMs();
      }
    }
  }

  /**
   * Run an event loop: call `onEvent(key, events)` for every ready key until
   * the selector is closed (from a handler or elsewhere) or
   * `options.signal` aborts; then resolve. Never blocks Node's loop.
   * @throws {Error} whatever `onEvent` throws (the loop stops), or a failed kernel wait.
   */
  async run(onEvent: EventHandler<T>, options: RunOptions = {}): Promise<void> {
    let lastYield = monotonicMs();
    for (;;) {
      const batch = await this.#nextBatch(options.signal);
      if (batch === null) return;
      for (let i = 0; i < batch.length; i++) {
        if (this.#closed) return;
        onEvent(batch[i][0], batch[i][1]);
      }
      if (monotonicMs() - lastYield > FAIRNESS_MS) {
        await yieldToLoop();
        lastYield = monotonicMs();
      }
    }
  }

  async #nextBatch(signal: AbortSignal | undefined): Promise<ReadyList<T> | null> {
    if (this.#closed || signal?.aborted) return null;
    try {
      const batch = await this.selectAsync(null, { signal });
      return this.#closed ? null : batch;
    } catch (err) {
      if (signal?.aborted && (err as Error).name === 'AbortError') return null;
      throw err;
    }
  }

  // ---- file object lookup -------------------------------------------------

  #assertOpen(method: string): void {
    if (this.#closed) throw new CodedError('ERR_SELECTOR_CLOSED', `Selector is closed (${method})`);
  }

  // Python's _fileobj_lookup: the fd, or, for an object whose fileno() no
  // longer works (a closed socket), the fd it was registered under.
  #lookup(fileobj: FileObject): number {
    try {
      return fileobjToFd(fileobj);
    } catch (err) {
      for (const key of this.#keys.values()) if (key.fileobj === fileobj) return key.fd;
      throw err;
    }
  }

  #findFd(fileobj: FileObject): number | undefined {
    try {
      return this.#lookup(fileobj);
    } catch {
      return undefined;
    }
  }
}
