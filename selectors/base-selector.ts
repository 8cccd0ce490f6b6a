/**
 * `BaseSelector`: the selector API and the fd → key bookkeeping every
 * backend shares (Python's `BaseSelector` + `_BaseSelectorImpl`). The wait
 * that does not block Node (`selectAsync`, `run`, `events`) is in
 * node-loop-wait.ts. Pure: loads without libc; backends bring the system
 * calls.
 */

import { inspect } from 'node:util';
import { CodedError, KeyError } from '../lib/errors.js';
import { fileobjToFd, type FileObject } from '../lib/fileobj.js';
import { secondsToMs } from '../lib/timeout.js';
import { validateEvents } from './events.js';
import { NodeLoopWait, type LoopWaiter } from './node-loop-wait.js';
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

function describe(fileobj: unknown): string {
  return inspect(fileobj, { depth: 0, breakLength: Infinity });
}

/**
 * The selector API (Python's `selectors.BaseSelector`): register file
 * objects for EVENT_READ/EVENT_WRITE, then wait for readiness with
 * `select()` (blocks the JavaScript thread, as in Python) or
 * `selectAsync()` (waits in Node's own loop). Subclasses provide the
 * kernel side through the protected hooks and their `waiter`.
 *
 * @typeParam T - the type of the `data` attached to registrations.
 */
export abstract class BaseSelector<T = unknown> implements Disposable {
  readonly #keys = new Map<number, SelectorKey<T>>();
  #map: SelectorMapping<T> | null;
  #closed = false;
  readonly #wait: NodeLoopWait<T>;

  constructor() {
    this.#map = new SelectorMapping(this.#keys, (fileobj) => this.#findFd(fileobj));
    this.#wait = new NodeLoopWait<T>(
      () => this.select(0),
      (timeoutMs, done) => this.waiter.arm(timeoutMs, done),
    );
  }

  // ---- backend hooks ------------------------------------------------------

  /** Add a registration to the kernel side; throw to refuse it (nothing is kept). */
  protected abstract backendRegister(key: SelectorKey<T>): void;
  /** Remove a registration from the kernel side; must tolerate an fd that was closed or reused. */
  protected abstract backendUnregister(key: SelectorKey<T>): void;
  /** Change the events of a registration; throw to refuse (the key is then dropped). */
  protected abstract backendModify(key: SelectorKey<T>, events: number): void;
  /** Wait for readiness (EINTR retried) and append each ready key, its events already masked by the key's, to `ready`. */
  protected abstract backendSelect(timeoutMs: number, ready: ReadyList<T>): void;
  /** Release kernel resources (called once, by close()); nothing by default. */
  protected backendClose(): void {
    // Backends without a kernel object (poll, select) have nothing to release.
  }
  /** How this backend waits in Node's loop (used by selectAsync, run and events). */
  protected abstract readonly waiter: LoopWaiter;

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
    this.waiter.registrationsChanged(fd);
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
    const key = this.#registered(fileobj);
    this.#keys.delete(key.fd);
    this.backendUnregister(key);
    this.waiter.registrationsChanged(key.fd);
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
    let key = this.#registered(fileobj);
    const fd = key.fd;
    const eventsChanged = events !== key.events;
    if (eventsChanged) {
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
        this.waiter.registrationsChanged(fd);
        throw err;
      }
    }
    if (eventsChanged || data !== key.data) {
      key = new SelectorKey<T>(key.fileobj, fd, events, data as T);
      this.#keys.set(fd, key);
      if (eventsChanged) this.waiter.registrationsChanged(fd);
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
    return this.#registered(fileobj);
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
    this.#wait.close();
    this.#keys.clear();
    this.#map = null;
    this.waiter.close();
    this.backendClose();
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- waiting without blocking Node (node-loop-wait.ts) -----------------

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
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a timeout that is not a number.
   * @throws {SyscallError} if a kernel call fails (poll, select: also the doorbell epoll set, e.g. EMFILE).
   */
  async selectAsync(timeout?: number | null, options: SelectAsyncOptions = {}): Promise<ReadyList<T>> {
    this.#assertOpen('selectAsync');
    return this.#wait.select(timeout, options.signal);
  }

  /**
   * Async iteration over ready events: `for await (const [key, events] of
   * sel.events())`. Ends (without error) when the selector is closed or
   * `options.signal` aborts.
   * @throws {SyscallError} if a kernel wait fails.
   */
  events(options: RunOptions = {}): AsyncGenerator<[SelectorKey<T>, number], void, undefined> {
    return this.#wait.events(options);
  }

  /**
   * Run an event loop: call `onEvent(key, events)` for every ready key until
   * the selector is closed (from a handler or elsewhere) or
   * `options.signal` aborts; then resolve. Never blocks Node's loop.
   * @throws {Error} whatever `onEvent` throws (the loop stops), or a failed kernel wait.
   */
  async run(onEvent: EventHandler<T>, options: RunOptions = {}): Promise<void> {
    return this.#wait.run(onEvent, options);
  }

  // ---- helpers ------------------------------------------------------------

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

  #registered(fileobj: FileObject): SelectorKey<T> {
    const key = this.#keys.get(this.#lookup(fileobj));
    if (key === undefined) throw new KeyError('ERR_FD_NOT_REGISTERED', `${describe(fileobj)} is not registered`, fileobj);
    return key;
  }

  #findFd(fileobj: FileObject): number | undefined {
    try {
      return this.#lookup(fileobj);
    } catch {
      return undefined;
    }
  }
}
