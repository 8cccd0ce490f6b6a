/**
 * A completion-driven TCP engine on one io_uring: the application says
 * what it wants done (accept on this socket, keep receiving on that one,
 * send these bytes, close) and is called back when it is done — the
 * proactor pattern, where selectors are the reactor pattern (being told
 * when an fd is ready, then doing the call yourself).
 *
 * - Listening sockets get one multishot ACCEPT: one completion per new
 *   connection, re-armed only when the kernel drops it (no
 *   `IORING_CQE_F_MORE`, e.g. after a CQ overflow).
 * - Each connection gets one multishot RECV that picks its buffers from a
 *   shared provided-buffer ring; the data callback gets a view of the
 *   kernel-filled buffer, recycled as soon as the callback returns.
 * - Sends are serialised per connection (sends to one socket may complete
 *   out of order): one SEND in flight, later bytes staged behind it in the
 *   connection's native chunk, then queued.
 * - close() cancels the connection's requests and closes the fd in one
 *   hard-linked pair, so the cancel can never hit a new socket that reused
 *   the fd number. Every user_data carries the connection's slot and
 *   generation: a completion for an older generation is dropped (its
 *   buffer given back). A slot is reused only after its last request
 *   completed.
 *
 * One loop turn is one io_uring_enter: submit what the callbacks queued
 * and wait for the next completion.
 */

import { CodedError, invalidArgValue, SyscallError } from '../errors.js';
import {
  EFD_CLOEXEC, EFD_NONBLOCK, EMFILE, ENFILE, ENOBUFS, MSG_NOSIGNAL, POLLOUT, SHUT_WR, SOCK_CLOEXEC, SOCK_NONBLOCK,
  SOL_SOCKET, SO_ERROR,
} from '../sys/constants.js';
import { ECANCELED, IORING_CQE_F_BUFFER, IORING_CQE_F_MORE } from '../sys/uring-constants.js';
import { check, errnoOf } from '../sys/check.js';
import { checkInterrupts, interruptsArmed } from '../sys/interrupt.js';
import { closeAtThreadExit, keepAtThreadExit, libc } from '../sys/libc.js';

import { BufferRing, bufferId } from './buffer-ring.js';
import { ReadyWatch } from './ready-watch.js';
import { Ring, uringClosedError, uringSupport } from './ring.js';
import { EpollEngine } from './epoll-engine.js';
import {
  Connection, type AcceptErrorHandler, type AttachOptions, type ConnectionOps, type ConnectionState, type EngineCore,
  type ListenHandle, type ProactorStats,
} from './connection.js';

export { Connection, type AttachOptions, type ListenHandle, type AcceptErrorHandler, type ProactorStats } from './connection.js';
import { SendArena, type SendChunk } from './send-arena.js';

// user_data = generation × 2^23 + slot × 8 + kind (below 2^53).
/** Request kinds in user_data's low 3 bits. */
export const KIND_WAKE = 0;
export const KIND_ACCEPT = 1;
export const KIND_RECV = 2;
export const KIND_SEND = 3;
export const KIND_CANCEL = 4;
export const KIND_CLOSE = 5;
export const KIND_TIMER = 6;
export const KIND_CONNECT = 7;
const SLOT_LIMIT = 1 << 20;
const GEN_UNIT = 1 << 23;
const GEN_LIMIT = 2 ** 30;

/** The user_data of a request of `kind` for connection slot `slot` in generation `gen`. */
export function packUserData(slot: number, gen: number, kind: number): number {
  return gen * GEN_UNIT + slot * 8 + kind;
}

const BGID = 0;
/** How long a listener waits before accepting again after EMFILE/ENFILE (no fd to give). */
const ACCEPT_BACKOFF_MS = 100;

/** Options of a {@link Proactor}. */
export interface ProactorOptions {
  /** SQ entries (default 256). */
  entries?: number;
  /** CQ entries (default 4 × entries; multishot requests post many completions each). */
  cqEntries?: number;
  /** Receive buffers shared by all connections: a power of two (default 1024). */
  bufferCount?: number;
  /** Bytes per receive buffer (default 4096). */
  bufferSize?: number;
  /** Native bytes per connection for sends in flight and staged (default 16384). */
  sendChunkSize?: number;
  /** `send()` returns false once this many bytes wait to be sent (default 1 MiB). */
  highWaterMark?: number;
  /** New connections beyond this many open ones are closed at once (default 10,000). */
  maxConnections?: number;
}

/** The engine's record of one connection (kept off the public object). */
class ConnState implements ConnectionState {
  fd: number;
  readonly conn: Connection;
  slot: number;
  gen: number;
  recvArmed = false;
  paused = false;
  closing = false;
  closed = false;
  endAfterFlush = false;
  error: Error | null = null;
  chunk: SendChunk | null = null;
  /** Bytes of the chunk in the SEND in flight, and how many of them were sent. */
  inflight = 0;
  inflightSent = 0;
  /** Bytes staged after the in-flight ones. */
  staged = 0;
  queue: Uint8Array[] = [];
  queued = 0;
  needDrain = false;
  /** ondrain runs once `buffered` is at most this (set with needDrain). */
  drainAt = 0;
  highWaterMark: number;
  lowWaterMark = 0;
  /** Waiting for a non-blocking connect (a POLL_ADD for POLLOUT in flight). */
  connecting = false;
  polling = false;
  /** shutdownWrite() asked: shut the sending side once `buffered` is 0. */
  shutAfterFlush = false;

  constructor(engine: Engine, fd: number, slot: number, gen: number, highWaterMark: number) {
    this.fd = fd;
    this.slot = slot;
    this.gen = gen;
    this.highWaterMark = highWaterMark;
    this.conn = new Connection(engine, this);
  }

  get buffered(): number {
    return this.inflight - this.inflightSent + this.staged + this.queued;
  }
}

interface Listener {
  fd: number;
  slot: number;
  onconnection: (conn: Connection) => void;
  onerror: AcceptErrorHandler | undefined;
  closed: boolean;
  armed: boolean;
  /** A back-off timer is pending (after EMFILE/ENFILE). */
  waiting: boolean;
}

/** The completion loop behind {@link Proactor} (its methods take the engine's connection records). */
class Engine implements ConnectionOps<ConnState>, EngineCore {
  readonly ring: Ring;
  readonly buffers: BufferRing;
  readonly stats: ProactorStats = { accepted: 0, bytesIn: 0, bytesOut: 0, dropped: 0, noBuffers: 0, rearmed: 0, acceptErrors: 0 };
  readonly #arena: SendArena;
  readonly #highWater: number;
  readonly #maxConnections: number;
  readonly #conns: Array<ConnState | null> = [];
  readonly #gens: number[] = [];
  readonly #freeSlots: number[] = [];
  readonly #listeners: Listener[] = [];
  #open = 0;
  #stopped = false;
  #closed = false;
  // Node-loop mode: an eventfd the kernel signals on completions, watched by libuv.
  #efd = -1;
  // The libuv watch of Node-loop mode (start() to stop()).
  #ready: ReadyWatch | null = null;
  #live = false;
  readonly #efdBuf = new Uint8Array(8);
  #kickScheduled = false;
  #draining = false;
  #deferred: Array<() => void> = [];
  #turns = 0;
  #spare: Array<() => void> = [];
  readonly #kick = (): void => {
    this.#kickScheduled = false;
    if (this.#live && !this.#closed) this.#wake();
  };
  readonly #dispatch = (ud: number, res: number, flags: number): void => this.#complete(ud, res, flags);

  /**
   * Open a ring and its buffer ring.
   * @throws {CodedError} `ERR_URING_UNAVAILABLE` where io_uring cannot run (see `uringSupport()`).
   */
  constructor(options: ProactorOptions = {}) {
    this.ring = Ring.open({ entries: options.entries ?? 256, cqEntries: options.cqEntries });
    try {
      this.buffers = new BufferRing(this.ring, BGID, options.bufferCount ?? 1024, options.bufferSize ?? 4096);
    } catch (err) {
      this.ring.close();
      throw err;
    }
    this.#arena = new SendArena(this.ring.sys, options.sendChunkSize ?? 16384);
    this.#highWater = options.highWaterMark ?? 1 << 20;
    this.#maxConnections = options.maxConnections ?? 10_000;
  }

  /** Open connections. */
  get connections(): number {
    return this.#open;
  }

  /**
   * Accept connections on a listening socket fd (the proactor owns it from
   * now on and closes it with {@link close}).
   */
  listen(fd: number, onconnection: (conn: Connection) => void, onerror?: AcceptErrorHandler): ListenHandle {
    this.#assertOpen();
    const listener: Listener = { fd, slot: this.#listeners.length, onconnection, onerror, closed: false, armed: false, waiting: false };
    // Owned from now on: in a worker, closed when the thread ends (a
    // REUSEPORT listener left open would keep getting connections).
    closeAtThreadExit(fd);
    this.#listeners.push(listener);
    this.#armAccept(listener);
    this.#soon();
    return {
      get fd() { return listener.closed ? -1 : listener.fd; },
      close: () => this.#closeListener(listener),
    };
  }

  #closeListener(l: Listener): void {
    if (l.closed || this.#closed) return;
    l.closed = true;
    keepAtThreadExit(l.fd);
    const cancel = this.ring.prepCancelFd(l.fd, this.#ud(0, 0, KIND_WAKE));
    this.ring.link(cancel, true);
    this.ring.prepClose(l.fd, this.#ud(0, 0, KIND_WAKE));
    this.#soon();
  }

  /** Drive an already connected (or, with `connecting`, connecting) socket fd. */
  attach(fd: number, options: AttachOptions = {}): Connection {
    this.#assertOpen();
    const c = this.#adopt(fd, options.connecting === true);
    this.#soon();
    return c.conn;
  }

  /** Run `callback` after the completions of this turn, before waiting again. */
  defer(callback: () => void): void {
    this.#assertOpen();
    this.#deferred.push(callback);
    this.#soon();
  }

  #runDeferred(): void {
    const list = this.#deferred;
    this.#deferred = this.#spare;
    for (let i = 0; i < list.length; i++) list[i]();
    list.length = 0;
    this.#spare = list;
  }

  #assertOpen(): void {
    if (this.#closed) throw uringClosedError();
  }

  /** In Node-loop mode, submit what was queued outside a completion callback once the current JavaScript is done. */
  #soon(): void {
    if (this.#live && !this.#kickScheduled && !this.#draining) {
      this.#kickScheduled = true;
      queueMicrotask(this.#kick);
    }
  }

  #ud(slot: number, gen: number, kind: number): number {
    return packUserData(slot, gen, kind);
  }

  #armAccept(l: Listener): void {
    l.armed = true;
    this.ring.prepAccept(l.fd, this.#ud(l.slot, 0, KIND_ACCEPT), SOCK_CLOEXEC | SOCK_NONBLOCK, true);
  }

  #armRecv(c: ConnState): void {
    c.recvArmed = true;
    this.ring.prepRecvSelect(c.fd, BGID, this.#ud(c.slot, c.gen, KIND_RECV), true);
  }

  #adopt(fd: number, connecting = false): ConnState {
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      slot = this.#conns.length;
      if (slot >= SLOT_LIMIT) throw new CodedError('ERR_TOO_MANY_CONNECTIONS', 'too many connections for one proactor');
      this.#conns.push(null);
      this.#gens.push(0);
    }
    const gen = (this.#gens[slot] + 1) % GEN_LIMIT;
    this.#gens[slot] = gen;
    const c = new ConnState(this, fd, slot, gen, this.#highWater);
    closeAtThreadExit(fd);
    this.#conns[slot] = c;
    this.#open++;
    if (connecting) {
      c.connecting = true;
      c.polling = true;
      this.ring.prepPollAdd(fd, POLLOUT, this.#ud(slot, gen, KIND_CONNECT), false);
    } else {
      this.#armRecv(c);
    }
    return c;
  }

  /** @internal {@link Connection.send}. */
  send(c: ConnState, data: Uint8Array): boolean {
    if (c.closing || c.endAfterFlush) throw new CodedError('ERR_URING_CLOSED', 'send() on a closed connection');
    let off = 0;
    if (c.queued === 0) {
      const chunk = c.chunk ?? (c.chunk = this.#arena.take());
      const room = chunk.bytes.length - c.inflight - c.staged;
      const n = Math.min(room, data.length);
      if (n > 0) {
        chunk.bytes.set(n === data.length ? data : data.subarray(0, n), c.inflight + c.staged);
        c.staged += n;
        off = n;
      }
      if (c.inflight === 0 && !c.connecting) this.#flush(c);
    }
    if (off < data.length) {
      // A copy (small ones share Node's pooled slabs).
      const rest = Buffer.from(data.subarray(off));
      c.queue.push(rest);
      c.queued += rest.length;
    }
    const ok = c.buffered < c.highWaterMark;
    if (!ok) this.#wantDrain(c, c.lowWaterMark);
    this.#soon();
    return ok;
  }

  /** Start a SEND of the staged bytes (moving them to the chunk's front) and refill the stage from the queue. */
  #flush(c: ConnState): void {
    const chunk = c.chunk as SendChunk;
    if (c.inflight > 0) {
      if (c.staged > 0) chunk.bytes.copyWithin(0, c.inflight, c.inflight + c.staged);
      c.inflight = 0;
      c.inflightSent = 0;
    }
    while (c.queue.length > 0 && c.staged < chunk.bytes.length) {
      const head = c.queue[0];
      const n = Math.min(head.length, chunk.bytes.length - c.staged);
      chunk.bytes.set(n === head.length ? head : head.subarray(0, n), c.staged);
      c.staged += n;
      c.queued -= n;
      if (n === head.length) c.queue.shift();
      else c.queue[0] = head.subarray(n);
    }
    if (c.staged === 0) return;
    c.inflight = c.staged;
    c.staged = 0;
    this.ring.prepSend(c.fd, chunk.address, c.inflight, MSG_NOSIGNAL, this.#ud(c.slot, c.gen, KIND_SEND));
  }

  /** @internal {@link Connection.pause}. */
  pause(c: ConnState): void {
    if (c.paused || c.closing) return;
    c.paused = true;
    if (c.recvArmed) {
      this.ring.prepCancel(this.#ud(c.slot, c.gen, KIND_RECV), this.#ud(c.slot, c.gen, KIND_CANCEL));
      this.#soon();
    }
  }

  /** @internal {@link Connection.resume}. */
  resume(c: ConnState): void {
    if (!c.paused) return;
    c.paused = false;
    // If the cancelled RECV has not completed yet, its last completion re-arms.
    if (!c.recvArmed && !c.closing) {
      this.#armRecv(c);
      this.#soon();
    }
  }

  /** @internal {@link Connection.requestDrain}. */
  requestDrain(c: ConnState, bytes = c.lowWaterMark): boolean {
    if (c.closing || c.buffered <= bytes) return true;
    this.#wantDrain(c, bytes);
    return false;
  }

  #wantDrain(c: ConnState, bytes: number): void {
    c.drainAt = c.needDrain ? Math.max(c.drainAt, bytes) : bytes;
    c.needDrain = true;
  }

  /** @internal {@link Connection.shutdownWrite}. */
  shutdownWrite(c: ConnState): void {
    if (c.closing || c.shutAfterFlush) return;
    c.shutAfterFlush = true;
    if (c.buffered === 0 && !c.connecting) this.#shutWrite(c);
  }

  #shutWrite(c: ConnState): void {
    // Synchronous: nothing is in flight to be overtaken, and a failure
    // (ENOTCONN after a reset) shows as the peer's EOF or error anyway.
    libc().shutdown(c.fd, SHUT_WR);
  }

  /** @internal {@link Connection.end}. */
  end(c: ConnState): void {
    if (c.closing || c.endAfterFlush) return;
    if (c.buffered === 0 && !c.connecting) this.closeConnection(c, null);
    else c.endAfterFlush = true;
  }

  /** @internal {@link Connection.close}: cancel everything on the fd, then close it (hard-linked). */
  closeConnection(c: ConnState, err: Error | null): void {
    if (c.closing) return;
    c.closing = true;
    c.error = err;
    c.queue = [];
    c.queued = 0;
    c.staged = 0;
    const cancel = this.ring.prepCancelFd(c.fd, this.#ud(c.slot, c.gen, KIND_CANCEL));
    // Hard link: the close runs even if the cancel found nothing.
    this.ring.link(cancel, true);
    keepAtThreadExit(c.fd);
    this.ring.prepClose(c.fd, this.#ud(c.slot, c.gen, KIND_CLOSE));
    this.#soon();
  }

  #complete(ud: number, res: number, flags: number): void {
    const kind = ud % 8;
    const slot = Math.floor(ud / 8) % SLOT_LIMIT;
    const gen = Math.floor(ud / GEN_UNIT);
    if (kind === KIND_ACCEPT) {
      this.#accepted(this.#listeners[slot], res, flags);
      return;
    }
    if (kind === KIND_WAKE) return;
    if (kind === KIND_TIMER) {
      const l = this.#listeners[slot];
      l.waiting = false;
      if (!l.closed && !l.armed) this.#armAccept(l);
      return;
    }
    const c = this.#conns[slot];
    if (c === null || c === undefined || c.gen !== gen) {
      // A completion for a connection that is gone: give its buffer back.
      if ((flags & IORING_CQE_F_BUFFER) !== 0) {
        this.buffers.taken();
        this.buffers.recycle(bufferId(flags));
      }
      this.stats.dropped++;
      return;
    }
    switch (kind) {
      case KIND_RECV: this.#received(c, res, flags); break;
      case KIND_SEND: this.#sent(c, res); break;
      case KIND_CONNECT: this.#connected(c, res); break;
      case KIND_CLOSE:
        c.closed = true;
        this.#maybeRelease(c);
        break;
      default: break; // KIND_CANCEL: its count is not needed.
    }
  }

  #accepted(l: Listener | undefined, res: number, flags: number): void {
    if (l === undefined) return;
    if ((flags & IORING_CQE_F_MORE) === 0) {
      l.armed = false;
      if (res === -EMFILE || res === -ENFILE) {
        // No fd to give: accepting again at once would fail again at once.
        // Wait a little (the connection stays in the backlog meanwhile).
        if (!l.closed && !l.waiting) {
          l.waiting = true;
          this.ring.prepTimeout(ACCEPT_BACKOFF_MS, this.#ud(l.slot, 0, KIND_TIMER));
        }
      } else if (!l.closed && !this.#stopped && res !== -ECANCELED) {
        this.stats.rearmed++;
        this.#armAccept(l);
      }
    }
    if (res < 0) {
      // EMFILE, ENFILE, ECONNABORTED: nothing to adopt (ECANCELED: closing).
      if (res !== -ECANCELED) {
        this.stats.acceptErrors++;
        l.onerror?.(-res);
      }
      return;
    }
    if (l.closed || this.#open >= this.#maxConnections) {
      this.ring.prepClose(res, this.#ud(0, 0, KIND_WAKE));
      return;
    }
    this.stats.accepted++;
    const c = this.#adopt(res);
    l.onconnection(c.conn);
  }

  #received(c: ConnState, res: number, flags: number): void {
    const more = (flags & IORING_CQE_F_MORE) !== 0;
    if (!more) c.recvArmed = false;
    if (res > 0) {
      this.buffers.taken();
      const bid = bufferId(flags);
      if (c.closing) {
        this.stats.dropped++;
        this.buffers.recycle(bid);
      } else {
        this.stats.bytesIn += res;
        try {
          c.conn.ondata?.(this.buffers.view(bid, res));
        } finally {
          this.buffers.recycle(bid);
        }
      }
      if (!more && !c.closing && !c.paused) {
        this.stats.rearmed++;
        this.#armRecv(c);
      }
    } else if (res === 0) {
      if (!c.closing) {
        if (c.conn.onend !== null) c.conn.onend();
        else this.closeConnection(c, null);
      }
    } else if (res === -ENOBUFS) {
      this.stats.noBuffers++;
      // Every buffer of the window was taken: give the kernel more.
      this.buffers.starved();
      if (!more && !c.closing && !c.paused) {
        this.stats.rearmed++;
        this.#armRecv(c);
      }
    } else if (res === -ECANCELED) {
      // Cancelled by pause(); resumed before this arrived: arm again.
      if (!more && !c.closing && !c.paused) this.#armRecv(c);
    } else if (!c.closing) {
      this.closeConnection(c, new SyscallError(-res, 'recv'));
    }
    if (c.closing) this.#maybeRelease(c);
  }

  #sent(c: ConnState, res: number): void {
    if (res < 0) {
      c.inflight = 0;
      c.inflightSent = 0;
      if (!c.closing && res !== -ECANCELED) this.closeConnection(c, new SyscallError(-res, 'send'));
      this.#maybeRelease(c);
      return;
    }
    this.stats.bytesOut += res;
    c.inflightSent += res;
    if (c.closing) {
      if (c.inflightSent < c.inflight) return; // cannot happen once cancelled, but keep the chunk until done
      c.inflight = 0;
      this.#maybeRelease(c);
      return;
    }
    const chunk = c.chunk as SendChunk;
    if (c.inflightSent < c.inflight) {
      // A short send: the rest of the same bytes, still in order.
      this.ring.prepSend(c.fd, chunk.address + c.inflightSent, c.inflight - c.inflightSent, MSG_NOSIGNAL,
        this.#ud(c.slot, c.gen, KIND_SEND));
      return;
    }
    this.#flush(c);
    const buffered = c.buffered;
    if (buffered === 0) {
      if (c.endAfterFlush) {
        c.endAfterFlush = false;
        this.closeConnection(c, null);
        return;
      }
      if (c.shutAfterFlush) this.#shutWrite(c);
    }
    if (c.needDrain && buffered <= c.drainAt) {
      c.needDrain = false;
      c.conn.ondrain?.();
    }
  }

  /** The POLLOUT of a connecting socket fired (or failed): the connect's outcome is in SO_ERROR. */
  #connected(c: ConnState, res: number): void {
    c.polling = false;
    c.connecting = false;
    if (c.closing) {
      this.#maybeRelease(c);
      return;
    }
    let errno = res < 0 ? -res : 0;
    if (errno === 0) {
      const sys = libc();
      const value = new Int32Array(1);
      const len = new Uint32Array([4]);
      errno = errnoOf(sys, sys.getsockopt(c.fd, SOL_SOCKET, SO_ERROR, new Uint8Array(value.buffer), len)) || value[0];
    }
    c.conn.onconnect?.(errno);
    if (c.closing) return;
    if (errno !== 0) {
      this.closeConnection(c, new SyscallError(errno, 'connect'));
      return;
    }
    if (!c.paused) this.#armRecv(c);
    if (c.inflight === 0) this.#flush(c);
    if (c.buffered === 0) {
      if (c.endAfterFlush) this.closeConnection(c, null);
      else if (c.shutAfterFlush) this.#shutWrite(c);
    }
    this.#soon();
  }

  /** Free a closing connection's slot once its close and its last RECV/SEND completed. */
  #maybeRelease(c: ConnState): void {
    if (!c.closed || c.recvArmed || c.inflight > 0 || c.polling) return;
    if (this.#conns[c.slot] !== c) return;
    this.#conns[c.slot] = null;
    this.#freeSlots.push(c.slot);
    this.#open--;
    if (c.chunk !== null) {
      this.#arena.give(c.chunk);
      c.chunk = null;
    }
    c.fd = -1;
    c.conn.onclose?.(c.error);
  }

  /**
   * One loop turn: submit what is queued, wait up to `timeoutMs` (-1:
   * without limit, 0: not at all) for a completion, and dispatch every
   * completion present.
   * @returns the number of completions handled.
   */
  turn(timeoutMs = -1): number {
    this.#assertOpen();
    const wait = this.#deferred.length > 0 ? 0 : timeoutMs;
    // Ctrl-C: a signal that came while JavaScript ran is seen before the
    // next wait, and (a loop kept busy never waits) every 64th turn.
    if (interruptsArmed && (wait !== 0 || (++this.#turns & 63) === 0)) checkInterrupts('io_uring_enter');
    if (this.ring.ready === 0) this.ring.submit(wait === 0 ? 0 : 1, wait);
    else if (this.ring.pending > 0) this.ring.submit(0);
    const n = this.ring.reap(this.#dispatch);
    if (this.#deferred.length > 0) this.#runDeferred();
    return n;
  }

  /**
   * Run turns until {@link stop} is called or nothing is left to wait for
   * (no listener, no connection). Blocks the JavaScript thread, like
   * Python's `selector.select()` loop; Ctrl-C ends it when keyboard
   * interrupts are armed.
   */
  run(): void {
    this.#stopped = false;
    while (!this.#stopped && !this.#closed && (this.#open > 0 || this.#listeners.some((l) => !l.closed))) {
      this.turn(-1);
    }
    if (!this.#closed && this.ring.pending > 0) this.turn(0);
  }

  /**
   * Run in Node's own loop instead: the kernel signals an eventfd
   * (IORING_REGISTER_EVENTFD) when completions are posted, libuv watches
   * it, and each wake-up runs turns without waiting until none is left.
   * Timers, other I/O and signal handlers keep running. {@link stop} or
   * {@link close} ends it; while it runs the process stays alive.
   * @throws {SyscallError} from eventfd or io_uring_register.
   */
  start(): void {
    this.#assertOpen();
    if (this.#live) return;
    const sys = libc();
    this.#efd = check(sys, sys.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), 'eventfd');
    // In a worker: closed when the thread ends, after Node's loop is done
    // with it (a Node handle owning it would close it under libuv's watch).
    closeAtThreadExit(this.#efd);
    try {
      this.ring.registerEventfd(this.#efd);
    } catch (err) {
      keepAtThreadExit(this.#efd);
      sys.close(this.#efd);
      this.#efd = -1;
      throw err;
    }
    this.#stopped = false;
    this.#live = true;
    this.#wake();
  }

  // The libuv watch of the eventfd is armed only while no JavaScript of
  // ours runs (closed when it fires, armed again after the wake-up): a
  // worker terminated while stuck in a callback must not have a watch that
  // fires into its dying environment.
  #watch(): void {
    if (!this.#live || this.#closed) return;
    (this.#ready ??= new ReadyWatch(libc().watch, this.#efd, this.#kick)).arm();
  }

  #unwatch(): void {
    this.#ready?.disarm();
  }

  #wake(): void {
    this.#unwatch();
    // Not in a finally: a worker terminated inside a callback must stay unwatched.
    this.#drain();
    this.#watch();
  }

  /** One wake-up in Node-loop mode: clear the eventfd, then turn without waiting while there is work. */
  #drain(): void {
    libc().read(this.#efd, this.#efdBuf, 8);
    this.#draining = true;
    try {
      // Bounded, so that a flood of completions cannot starve Node's loop;
      // what is left signals the eventfd again.
      for (let i = 0; i < 64 && !this.#closed; i++) {
        if (this.turn(0) === 0 && this.ring.pending === 0 && this.#deferred.length === 0) break;
      }
      if (!this.#closed && this.ring.pending > 0) this.ring.submit(0);
      // Deferred work left after the bound: another wake-up, after Node's other I/O.
      if (!this.#closed && this.#deferred.length > 0 && !this.#kickScheduled) {
        this.#kickScheduled = true;
        setImmediate(this.#kick);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Make {@link run} return after the current turn, and end Node-loop mode ({@link start}). */
  stop(): void {
    this.#stopped = true;
    if (!this.#live) return;
    this.#live = false;
    this.#ready?.close();
    this.#ready = null;
    try {
      this.ring.unregisterEventfd();
    } catch {
      // The ring is closing anyway.
    }
    keepAtThreadExit(this.#efd);
    libc().close(this.#efd);
    this.#efd = -1;
  }

  /**
   * Close every connection and listener, wait (bounded) for the kernel to
   * finish with their memory, then release the ring. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.stop();
    for (const c of this.#conns) if (c !== null && !c.closing) this.closeConnection(c, null);
    for (const l of this.#listeners) {
      if (l.closed) continue;
      l.closed = true;
      keepAtThreadExit(l.fd);
      const cancel = this.ring.prepCancelFd(l.fd, this.#ud(0, 0, KIND_WAKE));
      this.ring.link(cancel, true);
      this.ring.prepClose(l.fd, this.#ud(0, 0, KIND_WAKE));
    }
    const deadline = Date.now() + 2000;
    while ((this.#open > 0 || this.#listeners.some((l) => l.armed || l.waiting) || this.ring.pending > 0) && Date.now() < deadline) {
      this.turn(50);
    }
    this.#closed = true;
    // A request still in flight after the bound is cancelled by the kernel when the ring goes.
    this.buffers.close();
    this.ring.close();
    this.#arena.close();
  }
}

/** Which engine a {@link Proactor} runs on. */
export type ProactorBackend = 'io_uring' | 'epoll';

/** Options of a {@link Proactor}: the engine's, and which engine. */
export interface ProactorConstructorOptions extends ProactorOptions {
  /**
   * `'auto'` (default): io_uring where the machine allows it, else epoll
   * (see {@link Proactor.fallbackReason}); `'io_uring'`: io_uring or throw;
   * `'epoll'`: the readiness fallback.
   */
  backend?: 'auto' | ProactorBackend;
}

/**
 * A completion loop: TCP listeners and connections whose work is
 * completed for you (see the module comment, and docs/uring.md). On
 * io_uring where the machine allows it; elsewhere (`kernel.io_uring_disabled`,
 * seccomp, an old kernel, `NODE_SELECTORS_NO_URING=1`) the same API runs
 * on epoll, and {@link fallbackReason} says why.
 * @example
 *   const p = new Proactor();
 *   p.listen(server.detach(), (conn) => { conn.ondata = (d) => conn.send(d); });
 *   p.run();
 */
export class Proactor {
  readonly #engine: EngineCore;
  readonly #ring: Ring | null;
  readonly #buffers: BufferRing | null;
  /** The engine in use. */
  readonly backend: ProactorBackend;
  /** Why io_uring is not used (`backend === 'epoll'` under `'auto'`), else null. */
  readonly fallbackReason: string | null;

  /**
   * Open a ring and its buffer ring, or the epoll fallback.
   * @throws {CodedError} `ERR_URING_UNAVAILABLE` with `backend: 'io_uring'` where io_uring cannot run (see `uringSupport()`).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a `bufferCount` that is not a power of two, or a bad `bufferSize`.
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an unknown `backend`.
   */
  constructor(options: ProactorConstructorOptions = {}) {
    const wanted = options.backend ?? 'auto';
    if (wanted !== 'auto' && wanted !== 'io_uring' && wanted !== 'epoll') {
      throw invalidArgValue('backend', "must be 'auto', 'io_uring' or 'epoll'", wanted);
    }
    let reason: string | null = null;
    if (wanted !== 'epoll') {
      const support = uringSupport();
      if (support.ok) {
        try {
          const engine = new Engine(options);
          this.#engine = engine;
          this.#ring = engine.ring;
          this.#buffers = engine.buffers;
          this.backend = 'io_uring';
          this.fallbackReason = null;
          return;
        } catch (err) {
          if (wanted === 'io_uring' || (err as { code?: unknown }).code !== 'ERR_URING_UNAVAILABLE') throw err;
          reason = (err as Error).message;
        }
      } else {
        if (wanted === 'io_uring') throw new CodedError('ERR_URING_UNAVAILABLE', `io_uring unavailable: ${support.reason}`);
        reason = support.reason;
      }
    }
    this.#engine = new EpollEngine(options);
    this.#ring = null;
    this.#buffers = null;
    this.backend = 'epoll';
    this.fallbackReason = reason;
  }

  /** The ring (its `stats.enters` counts io_uring_enter calls); null on the epoll backend. */
  get ring(): Ring | null {
    return this.#ring;
  }

  /** The receive buffers shared by every connection; null on the epoll backend. */
  get buffers(): BufferRing | null {
    return this.#buffers;
  }

  /** Counters (see {@link ProactorStats}). */
  get stats(): ProactorStats {
    return this.#engine.stats;
  }

  /** Open connections. */
  get connections(): number {
    return this.#engine.connections;
  }

  /**
   * Accept connections on a listening socket fd (the proactor owns it from
   * now on and closes it with the handle's `close()` or {@link close}).
   * `onerror` hears accept failures (EMFILE/ENFILE: accepting pauses 100 ms).
   * @throws {CodedError} `ERR_URING_CLOSED` after close().
   */
  listen(fd: number, onconnection: (conn: Connection) => void, onerror?: AcceptErrorHandler): ListenHandle {
    return this.#engine.listen(fd, onconnection, onerror);
  }

  /**
   * Drive a connected socket fd (a client, or one accepted elsewhere); with
   * `{ connecting: true }`, one whose non-blocking connect() is under way
   * (`onconnect` tells the outcome). The proactor owns the fd from now on.
   * @throws {CodedError} `ERR_URING_CLOSED` after close().
   */
  attach(fd: number, options?: AttachOptions): Connection {
    return this.#engine.attach(fd, options);
  }

  /**
   * Run `callback` once the completions being handled are done, before the
   * loop waits again (work left for the next turn, so that other
   * connections get theirs).
   * @throws {CodedError} `ERR_URING_CLOSED` after close().
   */
  defer(callback: () => void): void {
    this.#engine.defer(callback);
  }

  /**
   * One loop turn: submit what is queued, wait up to `timeoutMs` (-1:
   * without limit, 0: not at all) for a completion, and dispatch every
   * completion present.
   * @returns the number of completions handled.
   * @throws {CodedError} `ERR_URING_CLOSED` after close().
   */
  turn(timeoutMs = -1): number {
    return this.#engine.turn(timeoutMs);
  }

  /**
   * Run turns until {@link stop} is called or nothing is left to wait for
   * (no listener, no connection). Blocks the JavaScript thread, like
   * Python's `selector.select()` loop; Ctrl-C ends it when keyboard
   * interrupts are armed.
   */
  run(): void {
    this.#engine.run();
  }

  /**
   * Run in Node's own loop instead: the kernel signals an eventfd
   * (IORING_REGISTER_EVENTFD) when completions are posted, libuv watches
   * it (on epoll: libuv watches the epoll fd), and each wake-up runs turns
   * without waiting until none is left. Timers, other I/O and signal
   * handlers keep running. {@link stop} or {@link close} ends it; while it
   * runs the process stays alive.
   * @throws {SyscallError} from eventfd or io_uring_register.
   */
  start(): void {
    this.#engine.start();
  }

  /** Make {@link run} return after the current turn, and end Node-loop mode ({@link start}). */
  stop(): void {
    this.#engine.stop();
  }

  /**
   * Close every connection and listener, wait (bounded) for the kernel to
   * finish with their memory, then release the ring. Idempotent.
   */
  close(): void {
    this.#engine.close();
  }
}
