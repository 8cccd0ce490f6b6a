/**
 * The connection object of the completion API, and the contract an engine
 * behind a {@link Proactor} keeps: the io_uring engine (proactor.ts) and
 * the epoll engine that stands in where io_uring is unavailable
 * (epoll-engine.ts) both drive `Connection`s through these operations, so
 * a program cannot tell them apart except by `proactor.backend`.
 */

/** What a {@link Connection} reads of its engine's record. */
export interface ConnectionState {
  fd: number;
  closing: boolean;
  endAfterFlush: boolean;
  paused: boolean;
  /** Bytes accepted by send() and not yet taken by the kernel. */
  readonly buffered: number;
  /** send() returns false once `buffered` reaches this. */
  highWaterMark: number;
  /** After a send() returned false, `ondrain` runs once `buffered` falls to this. */
  lowWaterMark: number;
}

/** The per-connection operations every engine implements. */
export interface ConnectionOps<S extends ConnectionState = ConnectionState> {
  send(c: S, data: Uint8Array): boolean;
  requestDrain(c: S, bytes?: number): boolean;
  pause(c: S): void;
  resume(c: S): void;
  end(c: S): void;
  shutdownWrite(c: S): void;
  closeConnection(c: S, err: Error | null): void;
}

/** Options of {@link EngineCore.attach}. */
export interface AttachOptions {
  /**
   * The socket is still connecting (a non-blocking connect() returned
   * EINPROGRESS): nothing is received until it is connected, then
   * `onconnect` runs with 0 or the connect's errno (the connection is
   * closed after a failure).
   */
  connecting?: boolean;
}

/** A listening socket driven by an engine. */
export interface ListenHandle {
  /** The listening fd (-1 once closed). */
  readonly fd: number;
  /** Stop accepting and close the listening socket (connections stay). Idempotent. */
  close(): void;
}

/** Accept errors a listener reports (out of fds: accepting pauses for a while). */
export type AcceptErrorHandler = (errno: number) => void;

/** Counters, for tests and benchmarks. */
export interface ProactorStats {
  accepted: number;
  /** Bytes delivered to data callbacks / handed to the kernel by completed sends. */
  bytesIn: number;
  bytesOut: number;
  /** Completions dropped because their connection was closed (or its slot reused). */
  dropped: number;
  /** RECV completions that found the buffer ring empty (-ENOBUFS; the recv is re-armed). */
  noBuffers: number;
  /** Multishot requests re-armed because the kernel ended them (CQ overflow, ENOBUFS). */
  rearmed: number;
  /** Failed accepts (EMFILE/ENFILE back off for 100 ms before the next one). */
  acceptErrors: number;
}

/** The loop behind a {@link Proactor}: io_uring, or epoll as the fallback. */
export interface EngineCore {
  readonly stats: ProactorStats;
  readonly connections: number;
  listen(fd: number, onconnection: (conn: Connection) => void, onerror?: AcceptErrorHandler): ListenHandle;
  attach(fd: number, options?: AttachOptions): Connection;
  defer(callback: () => void): void;
  turn(timeoutMs: number): number;
  run(): void;
  start(): void;
  stop(): void;
  close(): void;
}

/** One TCP connection driven by a {@link Proactor}. */
export class Connection {
  /** Bytes received: a view valid only during the call (copy what you keep). */
  ondata: ((data: Buffer) => void) | null = null;
  /** The peer closed its side (recv returned 0). Default: close. */
  onend: (() => void) | null = null;
  /**
   * A send() returned false, and the bytes buffered have since fallen to
   * {@link lowWaterMark} (by default: everything was sent).
   */
  ondrain: (() => void) | null = null;
  /** A connection attached with `{ connecting: true }` finished connecting: 0, or the errno of the failure. */
  onconnect: ((errno: number) => void) | null = null;
  /** The fd was closed; `err` says why when it was not asked for. */
  onclose: ((err: Error | null) => void) | null = null;

  readonly #ops: ConnectionOps;
  readonly #state: ConnectionState;

  /** Made by the engine (`listen()` callbacks, `attach()`). */
  constructor(ops: ConnectionOps, state: ConnectionState) {
    this.#ops = ops;
    this.#state = state;
  }

  /** The socket fd (-1 once closed). */
  get fd(): number {
    return this.#state.fd;
  }

  /** Bytes accepted by `send()` and not yet taken by the kernel. */
  get bufferedAmount(): number {
    return this.#state.buffered;
  }

  /** Whether close() or end() was called, or the connection failed. */
  get isClosing(): boolean {
    return this.#state.closing || this.#state.endAfterFlush;
  }

  /** Whether {@link pause} is in effect. */
  get isPaused(): boolean {
    return this.#state.paused;
  }

  /** `send()` returns false once this many bytes are buffered (default: the proactor's `highWaterMark`). */
  get highWaterMark(): number {
    return this.#state.highWaterMark;
  }

  set highWaterMark(bytes: number) {
    this.#state.highWaterMark = bytes;
  }

  /** `ondrain` runs once the buffered bytes fall to this many (default 0). */
  get lowWaterMark(): number {
    return this.#state.lowWaterMark;
  }

  set lowWaterMark(bytes: number) {
    this.#state.lowWaterMark = bytes;
  }

  /**
   * Queue `data` for sending (copied at once: the caller may reuse it).
   * @returns false when the buffered bytes reached the high-water mark (wait for `ondrain`).
   * @throws {CodedError} `ERR_URING_CLOSED` after close() or end().
   */
  send(data: Uint8Array): boolean {
    return this.#ops.send(this.#state, data);
  }

  /**
   * Ask for `ondrain` once the bytes buffered fall to `bytes` (default
   * {@link lowWaterMark}, as after a send() that returned false; 0: once
   * the kernel took everything).
   * @returns true (and nothing is scheduled) when they already are that low.
   */
  requestDrain(bytes?: number): boolean {
    return this.#ops.requestDrain(this.#state, bytes);
  }

  /**
   * Stop receiving (back-pressure): the kernel's socket buffer fills and
   * the peer's sends slow down. Data the kernel had already completed may
   * still be delivered.
   */
  pause(): void {
    this.#ops.pause(this.#state);
  }

  /** Receive again after {@link pause}. */
  resume(): void {
    this.#ops.resume(this.#state);
  }

  /** Close after everything queued was sent. */
  end(): void {
    this.#ops.end(this.#state);
  }

  /**
   * Half-close: once everything queued was sent, shut down the sending
   * side (the peer reads EOF); receiving goes on until the peer closes
   * (`onend`). Idempotent.
   */
  shutdownWrite(): void {
    this.#ops.shutdownWrite(this.#state);
  }

  /** Close now: requests in flight are cancelled, unsent bytes dropped. */
  close(): void {
    this.#ops.closeConnection(this.#state, null);
  }
}
