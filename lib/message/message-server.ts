/**
 * `MessageServer`: a listening socket that accepts connections and gives
 * each one a Message — the accept_wrapper + event loop of app-server.py
 * and multiconn-server.py, usable with select() and with selectAsync().
 */

import { EventEmitter } from 'node:events';
import type { TypedEmitter } from '../typed-emitter.js';
import { CodedError, invalidArgType, invalidArgValue, outOfRange, SyscallError } from '../errors.js';
import { createServer, familyOf, Socket, SOCK_STREAM, type Address, type SocketAddress } from '../socket/index.js';
import { DefaultSelector, EVENT_READ, type BaseSelector, type RunOptions, type SelectorKey } from '../../selectors/index.js';
import { monotonicMs } from '../timeout.js';
import { Proactor, type Connection, type ListenHandle, type ProactorBackend } from '../uring/proactor.js';
import { handOver, Message, type MessageEngine, type MessageLoop } from './message.js';

/** Events of a {@link MessageServer}. */
export type MessageServerEvents = {
  /** A connection was accepted and its Message created. */
  connection: (message: Message, addr: SocketAddress) => void;
  /** A connection failed (its Message's 'error'); the server carries on. */
  clientError: (err: Error, message: Message) => void;
  /** accept() failed (out of fds or memory, or unexpectedly): accepting pauses for a while. */
  acceptPaused: (err: SyscallError) => void;
  /** Accepting resumed after a pause. */
  acceptResumed: () => void;
  /**
   * A connection was accepted and closed at once, and no Message was made:
   * `maxConnections` were open (`err.code === 'ERR_TOO_MANY_CONNECTIONS'`), or
   * the selector cannot watch its fd (`'ERR_FD_OUT_OF_RANGE'`: a select()
   * backend and an fd >= 1024). Every other connection is served as before.
   */
  rejected: (err: Error & { code: string }, addr: SocketAddress) => void;
  /**
   * A ready event of this server is about to be handled: `key.data` is the
   * server itself for the listening socket, else the connection's Message;
   * also the first read of a connection, made right after accept() (as
   * EVENT_READ). For tracing (the examples' `--trace`); without a listener
   * it costs nothing.
   */
  dispatch: (key: SelectorKey<unknown>, mask: number) => void;
  /** The server was closed. */
  close: () => void;
};

/** Makes the Message for an accepted connection. */
export type MessageFactory = (selector: MessageLoop, sock: Socket, addr: SocketAddress) => Message;

/** Options of a {@link MessageServer}. */
export interface MessageServerOptions {
  /** Makes each connection's Message (e.g. `(sel, sock, addr) => new ServerMessage(sel, sock, addr)`). */
  createMessage: MessageFactory;
  /**
   * AF_INET, AF_INET6 or AF_UNIX; default: from the address (a path is
   * AF_UNIX, a host with ':' is AF_INET6, anything else AF_INET).
   */
  family?: number;
  /**
   * `'epoll'` (default): a selector tells when sockets are ready and each
   * Message makes its own recv/send calls. `'uring'`: a {@link Proactor}
   * completes accepts, receives and sends (io_uring; where the machine
   * does not allow io_uring, the same completion API on epoll — see
   * {@link MessageServer.backend}). The Messages are the same classes.
   */
  engine?: MessageEngine;
  /** The selector to use (engine 'epoll'); default a new DefaultSelector, closed with the server. */
  selector?: BaseSelector<unknown>;
  /** The proactor to use (engine 'uring'); default a new Proactor, closed with the server. */
  proactor?: Proactor;
  /** listen() backlog. */
  backlog?: number;
  /** Set SO_REUSEPORT. */
  reuseport?: boolean;
  /** How long accepting pauses after EMFILE/ENFILE/ENOBUFS/ENOMEM, in ms (default 100). */
  acceptRetryMs?: number;
  /**
   * Close a connection (`ERR_IDLE_TIMEOUT`) when no byte moved in either
   * direction for this many ms while no request awaits our answer.
   * Default 60000; 0 or Infinity: never.
   */
  idleTimeout?: number;
  /**
   * Close a connection (`ERR_REQUEST_TIMEOUT`) when a request begun is not
   * complete after this many ms: the slowloris defence. Default 30000; 0 or
   * Infinity: never. Only Messages that know requests (ServerMessage) have one.
   */
  requestTimeout?: number;
  /**
   * Open connections at most (default 10000; Infinity: no bound). Beyond it
   * a new connection is accepted and closed at once ('rejected').
   */
  maxConnections?: number;
}

type ServerEmitter = new () => TypedEmitter<MessageServerEvents>;

const DEFAULT_ACCEPT_RETRY_MS = 100;
const DEFAULT_IDLE_TIMEOUT = 60_000;
const DEFAULT_REQUEST_TIMEOUT = 30_000;
const DEFAULT_MAX_CONNECTIONS = 10_000;
const DEFAULT_SHUTDOWN_MS = 10_000;
// Connections accepted per readiness event of the listening socket, so that
// a burst of connects cannot keep the open ones waiting.
const MAX_ACCEPTS_PER_PASS = 128;
// The sweep runs every quarter of the smaller timeout, at least this often.
const MIN_SWEEP_MS = 10;

function timeoutOption(name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw invalidArgType(name, 'a number', ms);
  if (ms < 0) throw outOfRange(name, '>= 0', ms);
  return ms === Infinity ? 0 : ms;
}
// accept(2) ERRORS: a connection that was reset (or refused by a firewall
// rule) before we took it; skip it, the listening socket is fine.
const SKIPPED_ACCEPT_ERRORS = new Set(['ECONNABORTED', 'EPROTO', 'EPERM']);

/**
 * Listens on an address and serves connections with Messages.
 *
 * ```text
 * for each ready [key, mask]:
 *   key.data === server  → accept until would-block, new Message per connection
 *   key.data is Message  → message.processEvents(mask)
 * ```
 *
 * Drive it with {@link MessageServer.run} (waits in Node's loop),
 * {@link MessageServer.serveForever} (blocking, like Python's loop), or
 * your own loop calling {@link MessageServer.dispatch} for every event.
 * accept() failing with EMFILE/ENFILE (out of fds) or ENOBUFS/ENOMEM does
 * not spin the loop or stop the server: accepting pauses for
 * `acceptRetryMs` (or until a connection closes and frees an fd) and then
 * resumes. A failing connection closes alone ('clientError').
 */
export class MessageServer extends (EventEmitter as unknown as ServerEmitter) {
  /** The selector everything is registered with, or (engine 'uring') the Proactor. */
  readonly selector: MessageLoop;
  /** The engine serving the connections. */
  readonly engine: MessageEngine;
  #listen: ListenHandle | null = null;
  // While run() waits in Node's loop on a Proactor: how an exception thrown
  // from a callback (createMessage, a 'connection' listener) ends it, as it
  // ends selector.run() on the other engine.
  #runFailed: ((err: unknown) => void) | null = null;
  #acceptErrored = false;
  /** The listening socket (non-blocking). */
  readonly socket: Socket;
  /** Open connections. */
  readonly connections = new Set<Message>();
  readonly #createMessage: MessageFactory;
  readonly #ownsSelector: boolean;
  readonly #retryMs: number;
  #closed = false;
  #acceptPausedUntil = 0;
  #resumeTimer: NodeJS.Timeout | undefined;
  #accepted = 0;
  readonly #idleTimeout: number;
  readonly #requestTimeout: number;
  readonly #maxConnections: number;
  readonly #sweepMs: number;
  #sweepTimer: NodeJS.Timeout | undefined;
  #nextSweep = 0;
  #draining = false;
  #shutdownDeadline = 0;
  #shutdownTimer: NodeJS.Timeout | undefined;
  #shutdownDone: Promise<void> | null = null;
  #resolveShutdown: (() => void) | null = null;

  /**
   * Bind, listen and register for accepting.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if createMessage is not a function.
   * @throws {SyscallError} `EADDRINUSE`, `EACCES`, ... from bind/listen (nothing is left open).
   */
  constructor(address: Address, options: MessageServerOptions) {
    super();
    const workers = (options as { workers?: unknown } | undefined)?.workers;
    if (workers !== undefined && workers !== 1) {
      // A worker thread cannot receive a function: n loops need a module that makes the factory.
      throw invalidArgValue('workers', 'is an option of MessageServerWorkers (one loop per worker thread, createMessage given as { module, export })', workers);
    }
    if (typeof options?.createMessage !== 'function') throw invalidArgType('createMessage', 'a function', options?.createMessage);
    const engine = options.engine ?? 'epoll';
    if (engine !== 'epoll' && engine !== 'uring') throw invalidArgValue('engine', "must be 'epoll' or 'uring'", engine);
    if (engine === 'uring' && options.selector !== undefined) throw invalidArgValue('selector', "cannot be given with engine 'uring' (give a proactor)", options.selector);
    if (engine === 'epoll' && options.proactor !== undefined) throw invalidArgValue('proactor', "needs engine 'uring'", options.proactor);
    this.engine = engine;
    this.#createMessage = options.createMessage;
    this.#retryMs = options.acceptRetryMs ?? DEFAULT_ACCEPT_RETRY_MS;
    this.#idleTimeout = timeoutOption('idleTimeout', options.idleTimeout, DEFAULT_IDLE_TIMEOUT);
    this.#requestTimeout = timeoutOption('requestTimeout', options.requestTimeout, DEFAULT_REQUEST_TIMEOUT);
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (typeof maxConnections !== 'number' || Number.isNaN(maxConnections)) throw invalidArgType('maxConnections', 'a number', maxConnections);
    if (maxConnections < 1) throw outOfRange('maxConnections', '>= 1', maxConnections);
    this.#maxConnections = maxConnections;
    const timeouts = [this.#idleTimeout, this.#requestTimeout].filter((ms) => ms > 0);
    this.#sweepMs = timeouts.length === 0 ? 0 : Math.max(MIN_SWEEP_MS, Math.floor(Math.min(...timeouts) / 4));
    const listening = createServer(address, { family: options.family ?? familyOf(address), backlog: options.backlog, reuseport: options.reuseport });
    try {
      listening.setblocking(false);
      if (engine === 'uring') {
        this.#ownsSelector = options.proactor === undefined;
        // Connections beyond maxConnections are refused here ('rejected'), not by the proactor.
        const proactor = options.proactor ?? new Proactor({ maxConnections: Number.MAX_SAFE_INTEGER });
        this.selector = proactor;
        const { family, type, proto } = listening;
        let fd = -1;
        try {
          fd = listening.detach();
          this.#listen = proactor.listen(fd, (conn) => this.#onConnection(conn), (errno) => this.#acceptFailed(errno));
        } catch (err) {
          if (fd >= 0 && this.#listen === null) new Socket(family, type, proto, fd).close();
          if (this.#ownsSelector) proactor.close();
          throw err;
        }
        // The proactor owns the fd; this view of it answers getsockname() & co.
        this.socket = new Socket(family, type, proto, fd, { borrowed: true });
      } else {
        this.socket = listening;
        this.#ownsSelector = options.selector === undefined;
        const selector = options.selector ?? new DefaultSelector();
        this.selector = selector;
        selector.register(this.socket, EVENT_READ, this);
      }
    } catch (err) {
      listening.close();
      throw err;
    }
    if (this.#sweepMs > 0) {
      this.#nextSweep = monotonicMs() + this.#sweepMs;
      // One coarse timer for every connection's timeouts; unref'd so that
      // it never keeps a process alive.
      this.#sweepTimer = setInterval(() => this.#sweep(monotonicMs()), this.#sweepMs).unref();
    }
  }

  /** The address the server listens on (with the port the kernel chose for port 0). */
  address(): SocketAddress {
    return this.socket.getsockname();
  }

  /**
   * What runs underneath: `'selector'` for engine 'epoll', else the
   * proactor's backend (`'io_uring'`, or `'epoll'` where io_uring is
   * unavailable: then {@link MessageServer.fallbackReason} says why).
   */
  get backend(): 'selector' | ProactorBackend {
    return this.selector instanceof Proactor ? this.selector.backend : 'selector';
  }

  /** Why engine 'uring' runs on epoll (io_uring unavailable), else null. */
  get fallbackReason(): string | null {
    return this.selector instanceof Proactor ? this.selector.fallbackReason : null;
  }

  /** Connections accepted so far. */
  get accepted(): number { return this.#accepted; }

  /** Whether close() ran. */
  get closed(): boolean { return this.#closed; }

  /** Whether shutdown() was called and the server is draining its connections. */
  get draining(): boolean { return this.#draining; }

  /** The limits in force: timeouts in ms (0 = off) and the connection bound. */
  get limits(): { idleTimeout: number; requestTimeout: number; maxConnections: number } {
    return { idleTimeout: this.#idleTimeout, requestTimeout: this.#requestTimeout, maxConnections: this.#maxConnections };
  }

  /** Whether accepting is paused (after EMFILE & co). */
  get acceptPaused(): boolean {
    return this.#acceptPausedUntil !== 0;
  }

  /**
   * Handle one ready event: accept on the listening socket, or pass the mask
   * to the connection's Message ('dispatch' first). Events of other keys
   * are left alone.
   * @returns whether the event belonged to this server.
   * @throws whatever `createMessage` or a 'dispatch' listener throws.
   */
  dispatch(key: SelectorKey<unknown>, mask: number): boolean {
    const data = key.data;
    const message = data instanceof Message && this.connections.has(data) ? data : null;
    if (data !== this && message === null) return false;
    if (this.listenerCount('dispatch') > 0) this.emit('dispatch', key, mask);
    if (message === null) this.acceptAll();
    else message.processEvents(mask);
    return true;
  }

  /** The bound handler, for `selector.run(server.handler)`. */
  readonly handler = (key: SelectorKey<unknown>, mask: number): void => {
    this.dispatch(key, mask);
    if (this.#acceptPausedUntil !== 0) this.#checkPause(monotonicMs());
  };

  /**
   * The timed work: resume accepting if a pause (after EMFILE & co) has
   * run out, sweep the connections' timeouts when due, end a shutdown
   * whose deadline passed. `run()` and `serveForever()` do it themselves
   * (a timer does it while the process waits in Node's loop); a loop of
   * your own that calls {@link MessageServer.dispatch} should call it once
   * per iteration and cap its select() timeout with
   * {@link MessageServer.pauseRemaining}.
   * @returns whether accepting is on.
   */
  tick(): boolean {
    const now = monotonicMs();
    this.#checkPause(now);
    if (this.#sweepMs > 0 && now >= this.#nextSweep) this.#sweep(now);
    if (this.#shutdownDeadline !== 0 && now >= this.#shutdownDeadline) this.#forceShutdown();
    return this.#acceptPausedUntil === 0 && !this.#draining && !this.#closed;
  }

  /**
   * Seconds until {@link MessageServer.tick} has work (a pause ending, a
   * timeout sweep, a shutdown deadline), or null when none is scheduled.
   */
  get nextTick(): number | null {
    let at = Infinity;
    if (this.#acceptPausedUntil !== 0) at = this.#acceptPausedUntil;
    if (this.#sweepMs > 0) at = Math.min(at, this.#nextSweep);
    if (this.#shutdownDeadline !== 0) at = Math.min(at, this.#shutdownDeadline);
    return at === Infinity ? null : Math.max(0, (at - monotonicMs()) / 1e3);
  }

  /** Seconds until a paused server retries accepting (null when not paused). */
  get pauseRemaining(): number | null {
    return this.#acceptPausedUntil === 0 ? null : Math.max(0, (this.#acceptPausedUntil - monotonicMs()) / 1e3);
  }

  /**
   * Accept the pending connections: until accept() would block, or 128 in
   * this call (the rest wait for the next loop pass, so the connections
   * already open get their turn). Beyond `maxConnections` a connection is
   * accepted and closed at once ('rejected'), and so is one the selector
   * cannot watch (fd >= 1024 on select()). Never throws for a failed
   * accept: fd/memory exhaustion (or another accept error) pauses
   * accepting, an aborted handshake is skipped.
   * @throws whatever else `createMessage` throws (the accepted socket is closed first).
   */
  acceptAll(): void {
    for (let n = 0; n < MAX_ACCEPTS_PER_PASS && !this.#closed && !this.#draining && this.#acceptPausedUntil === 0; n++) {
      let pair: [Socket, SocketAddress] | null;
      try {
        pair = this.socket.accept();
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        if (SKIPPED_ACCEPT_ERRORS.has(err.code)) continue;
        // EMFILE/ENFILE/ENOBUFS/ENOMEM and anything unexpected: pause rather
        // than spin on a listening socket that stays readable.
        this.#pauseAccepting(err);
        return;
      }
      if (pair === null) return;
      const [sock, addr] = pair;
      this.#accepted++;
      if (this.connections.size >= this.#maxConnections) {
        // Closed at once rather than left in the backlog: the client learns
        // now, and the backlog holds no stale connections when a slot frees.
        sock.close();
        if (this.listenerCount('rejected') > 0) {
          this.emit('rejected', new CodedError('ERR_TOO_MANY_CONNECTIONS', `${this.connections.size} connections open (maxConnections).`), addr);
        }
        continue;
      }
      let message: Message;
      try {
        message = this.#createMessage(this.selector, sock, addr);
      } catch (err) {
        sock.close();
        // A select() selector cannot watch an fd >= FD_SETSIZE: refuse this
        // one connection rather than stop serving everyone.
        if ((err as { code?: unknown }).code !== 'ERR_FD_OUT_OF_RANGE') throw err;
        if (this.listenerCount('rejected') > 0) this.emit('rejected', err as RangeError & { code: string }, addr);
        continue;
      }
      this.#adopt(message, addr);
      // Clients usually send right after connecting: read now rather than
      // after another trip round the loop (a recv that may find nothing).
      // A tracer sees this read as a READ event like any other.
      if (this.listenerCount('dispatch') > 0) this.emit('dispatch', (this.selector as BaseSelector<unknown>).getKey(sock), EVENT_READ);
      message.processEvents(EVENT_READ);
    }
  }

  #adopt(message: Message, addr: SocketAddress): void {
    this.connections.add(message);
    message.on('error', (e) => this.emit('clientError', e, message));
    // First in line, so that the bookkeeping happens whatever other
    // listeners do.
    message.prependListener('close', () => {
      this.connections.delete(message);
      if (this.#draining) {
        if (this.connections.size === 0) this.close();
      } else if (this.#acceptPausedUntil !== 0 && !this.#closed) this.#resumeAccepting();
    });
    this.emit('connection', message, addr);
  }

  #onConnection(conn: Connection): void {
    if (this.#runFailed === null) {
      this.#acceptConnection(conn);
      return;
    }
    try {
      this.#acceptConnection(conn);
    } catch (err) {
      this.#runFailed(err);
    }
  }

  // Engine 'uring': the proactor accepted a connection (and receives on it already).
  #acceptConnection(conn: Connection): void {
    this.#accepted++;
    if (this.#acceptErrored) {
      this.#acceptErrored = false;
      this.emit('acceptResumed');
    }
    if (this.#closed || this.#draining) {
      conn.close();
      return;
    }
    const listening = this.socket;
    const sock = new Socket(listening.family, SOCK_STREAM, listening.proto, conn.fd, { borrowed: true });
    let addr: SocketAddress;
    try {
      addr = sock.getpeername();
    } catch {
      // Reset before we looked: nothing to serve.
      sock.detach();
      conn.close();
      return;
    }
    if (this.connections.size >= this.#maxConnections) {
      sock.detach();
      conn.close();
      if (this.listenerCount('rejected') > 0) {
        this.emit('rejected', new CodedError('ERR_TOO_MANY_CONNECTIONS', `${this.connections.size} connections open (maxConnections).`), addr);
      }
      return;
    }
    let message: Message;
    handOver(sock, conn);
    try {
      message = this.#createMessage(this.selector, sock, addr);
    } catch (err) {
      handOver(sock, null);
      sock.detach();
      conn.close();
      throw err;
    }
    this.#adopt(message, addr);
  }

  // Engine 'uring': accept failed; the proactor pauses accepting for a while on EMFILE/ENFILE.
  #acceptFailed(errno: number): void {
    this.#acceptErrored = true;
    this.emit('acceptPaused', new SyscallError(errno, 'accept'));
  }

  /**
   * Serve in Node's loop until close() or `options.signal` aborts
   * (selectAsync underneath; timers and signal handlers keep running).
   * @throws {SyscallError} if a kernel wait fails.
   */
  async run(options: RunOptions = {}): Promise<void> {
    const loop = this.selector;
    if (!(loop instanceof Proactor)) {
      await loop.run(this.handler, options);
      return;
    }
    if (this.#closed) return;
    const { signal } = options;
    if (signal?.aborted === true) return;
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: unknown): void => {
          signal?.removeEventListener('abort', ok);
          this.off('close', ok);
          this.#runFailed = null;
          if (err === undefined) resolve();
          else reject(err);
        };
        const ok = (): void => done();
        signal?.addEventListener('abort', ok, { once: true });
        this.once('close', ok);
        this.#runFailed = (err) => done(err ?? new Error('a callback threw undefined'));
        loop.start();
      });
    } finally {
      if (!this.#closed) loop.stop();
    }
  }

  /**
   * Serve with blocking select() calls (Python's `while True: events =
   * sel.select(timeout=None)`), until close() is called from a handler.
   * Blocks the JavaScript thread: timers and signal handlers do not run.
   * @param timeout seconds per select() call (default: block).
   */
  serveForever(timeout?: number | null): void {
    const loop = this.selector;
    while (!this.#closed) {
      let wait = timeout;
      const left = this.nextTick;
      if (left !== null) wait = wait === undefined || wait === null ? left : Math.min(wait, left);
      if (loop instanceof Proactor) {
        loop.turn(wait === undefined || wait === null ? -1 : Math.ceil(wait * 1000));
        if (!this.#closed) this.tick();
        continue;
      }
      for (const [key, mask] of loop.select(wait)) {
        this.handler(key, mask);
        if (this.#closed) return;
      }
      this.tick();
    }
  }

  /**
   * Graceful stop: stop accepting (the listening socket is closed), let
   * every connection finish what is in flight (a ServerMessage answers the
   * requests it received and sends its output; idle keep-alive connections
   * close at once), and close the server when the last connection closed.
   * At the deadline, the connections still busy fail with
   * `ERR_SERVER_SHUTDOWN`, those only waiting for their peer to close
   * (lingering) are closed, and the server closes. The loop must keep running
   * meanwhile (`run()`, `serveForever()` or yours calling `tick()`).
   * Calling it again returns the same promise.
   * @param timeoutMs the deadline, in ms (default 10000).
   * @returns a promise resolved once the server is closed.
   */
  shutdown(timeoutMs = DEFAULT_SHUTDOWN_MS): Promise<void> {
    if (this.#shutdownDone !== null) return this.#shutdownDone;
    if (this.#closed) return Promise.resolve();
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw invalidArgType('timeoutMs', 'a number', timeoutMs);
    this.#shutdownDone = new Promise((resolve) => { this.#resolveShutdown = resolve; });
    this.#draining = true;
    this.#stopListening();
    this.#shutdownDeadline = monotonicMs() + Math.max(0, timeoutMs);
    this.#shutdownTimer = setTimeout(() => this.#forceShutdown(), Math.max(0, timeoutMs));
    for (const message of [...this.connections]) message.shutdown();
    if (this.connections.size === 0) this.close();
    return this.#shutdownDone;
  }

  /**
   * Stop listening, close every connection (each emits 'close'), close the
   * selector if the server made it, emit 'close'. Idempotent. Queued
   * output is dropped: see {@link MessageServer.shutdown} for a graceful stop.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#resumeTimer);
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#shutdownTimer);
    this.#shutdownDeadline = 0;
    for (const message of [...this.connections]) message.close();
    this.#stopListening();
    if (this.#ownsSelector) this.selector.close();
    else if (this.selector instanceof Proactor) this.selector.stop();
    this.emit('close');
    this.#resolveShutdown?.();
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #stopListening(): void {
    if (this.socket.fileno() < 0) return;
    if (this.#listen !== null) {
      this.#listen.close();
      this.socket.detach();
      return;
    }
    const selector = this.selector as BaseSelector<unknown>;
    try {
      if (!selector.closed && this.#acceptPausedUntil === 0) selector.unregister(this.socket);
    } catch {
      // Not registered.
    }
    this.socket.close();
  }

  #sweep(now: number): void {
    this.#nextSweep = now + this.#sweepMs;
    for (const message of this.connections) message.sweep(now, this.#idleTimeout, this.#requestTimeout);
  }

  #forceShutdown(): void {
    if (this.#closed) return;
    for (const message of [...this.connections]) {
      // A lingering connection has delivered everything: not a failure.
      if (message.lingering) message.close();
      else message.fail(new CodedError('ERR_SERVER_SHUTDOWN', 'The server shut down before this connection finished.'));
    }
    this.close();
  }

  #checkPause(now: number): void {
    if (this.#acceptPausedUntil !== 0 && now >= this.#acceptPausedUntil) this.#resumeAccepting();
  }

  #pauseAccepting(err: SyscallError): void {
    // The listening socket stays readable while the backlog is full, so a
    // level-triggered loop would spin: take it out of the selector.
    (this.selector as BaseSelector<unknown>).unregister(this.socket);
    this.#acceptPausedUntil = monotonicMs() + this.#retryMs;
    this.#resumeTimer = setTimeout(() => this.#resumeAccepting(), this.#retryMs);
    this.emit('acceptPaused', err);
  }

  #resumeAccepting(): void {
    if (this.#acceptPausedUntil === 0 || this.#closed || this.#draining) return;
    clearTimeout(this.#resumeTimer);
    this.#acceptPausedUntil = 0;
    (this.selector as BaseSelector<unknown>).register(this.socket, EVENT_READ, this);
    this.emit('acceptResumed');
  }
}
