/**
 * The completion API on epoll, where io_uring is unavailable: the same
 * `Connection`s as the io_uring engine, driven by readiness instead of
 * completions. The engine makes the calls that io_uring would have made
 * for it (accept4, recv, send, shutdown, close) when epoll says they can
 * go through.
 *
 * - Every fd is registered once, edge-triggered, for
 *   `EPOLLIN | EPOLLOUT | EPOLLRDHUP`, and never modified: pausing is
 *   "do not read", and writability is only looked at while output is
 *   queued, so neither costs an epoll_ctl. (Edge-triggered: the kernel
 *   reports a socket again only when something new happens on it.)
 * - Reading goes on until recv() returns less than the buffer holds (the
 *   socket was emptied: new bytes will be a new edge), EAGAIN, or the
 *   per-event bound; a connection cut off by the bound is carried to the
 *   next turn, so one busy peer cannot starve the others. All connections
 *   share one 64 KiB receive buffer: the data callback gets a view of it.
 * - send() calls send(2) at once; what the kernel does not take is copied
 *   to the connection's queue and flushed on the next EPOLLOUT edge.
 * - close() closes the fd at once (the number may be reused by the next
 *   accept); `onclose` runs at the end of the turn, as the completion of
 *   a close would. epoll_data carries the fd and a per-fd generation, so
 *   an event for a closed fd whose number was reused is dropped.
 * - Listeners accept a bounded number per event; EMFILE/ENFILE (and
 *   other failures that would repeat at once) pause accepting for 100 ms
 *   (the connections wait in the backlog).
 *
 * Calls pass MSG_DONTWAIT (an attached fd may be a blocking socket);
 * listening sockets are made non-blocking, as accept4 has no such flag.
 */

import { CodedError, SyscallError } from '../errors.js';
import {
  EAGAIN, ECONNABORTED, ECONNRESET, EINTR, EPERM, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP,
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPROTO, F_GETFL, F_SETFL, MSG_DONTWAIT, MSG_NOSIGNAL, O_NONBLOCK,
  SHUT_WR, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET, SO_ERROR,
} from '../sys/constants.js';
import { check, errnoOf, kernelWait } from '../sys/call.js';
import { checkInterrupts, interruptsArmed } from '../sys/interrupt.js';
import { closeAtThreadExit, keepAtThreadExit, libc, type Libc } from '../sys/libc.js';

import { EPOLL_EVENT_FD_WORD, EPOLL_EVENT_SIZE, EPOLL_EVENT_WORDS, writeEpollEvent } from '../sys/structs.js';
import {
  Connection, type AcceptErrorHandler, type AttachOptions, type ConnectionOps, type ConnectionState, type EngineCore,
  type ListenHandle, type ProactorStats,
} from './connection.js';
import type { ProactorOptions } from './proactor.js';
import { ReadyWatch } from './ready-watch.js';

const MAX_EVENTS = 256;
const RECV_SIZE = 64 * 1024;
/** recv() calls per connection per turn (fairness: the rest waits for the next turn). */
const READS_PER_TURN = 16;
/** accept4() calls per listener per turn. */
const ACCEPTS_PER_TURN = 64;
/** How long a listener waits before accepting again after EMFILE/ENFILE (no fd to give). */
const ACCEPT_BACKOFF_MS = 100;
/** Turns one Node-loop wake-up runs at most before yielding to Node's other work. */
const TURNS_PER_WAKE = 64;

const CONN_EVENTS = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
const LISTEN_EVENTS = EPOLLIN | EPOLLET;
const READ_BITS = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
const END_BITS = EPOLLRDHUP | EPOLLHUP | EPOLLERR;
const WRITE_BITS = EPOLLOUT | EPOLLHUP | EPOLLERR;

function closedError(): CodedError {
  return new CodedError('ERR_URING_CLOSED', 'the proactor is closed');
}

/** The engine's record of one connection (kept off the public object). */
class EpConn implements ConnectionState {
  fd: number;
  readonly gen: number;
  readonly conn: Connection;
  paused = false;
  closing = false;
  endAfterFlush = false;
  shutAfterFlush = false;
  highWaterMark: number;
  lowWaterMark = 0;
  connecting = false;
  /** Bytes may be waiting in the kernel (an edge was seen and not read to the end). */
  readable = false;
  /** The peer closed, reset or failed: read until recv() says so, even after a short read. */
  hangup = false;
  /** recv() returned 0: never read again. */
  eof = false;
  /** In the engine's carried-over list. */
  listed = false;
  /** A send(2) made inside send() failed: the connection closes with this at the end of the turn. */
  failed: Error | null = null;
  error: Error | null = null;
  queue: Uint8Array[] = [];
  queued = 0;
  needDrain = false;
  /** ondrain runs once `buffered` is at most this (set with needDrain). */
  drainAt = 0;

  constructor(ops: EpollEngine, fd: number, gen: number, highWaterMark: number) {
    this.fd = fd;
    this.gen = gen;
    this.highWaterMark = highWaterMark;
    this.conn = new Connection(ops, this);
  }

  get buffered(): number {
    return this.queued;
  }
}

class EpListener {
  fd: number;
  readonly gen: number;
  readonly onconnection: (conn: Connection) => void;
  readonly onerror: AcceptErrorHandler | undefined;
  closed = false;
  /** A back-off after a failed accept runs until this monotonic time (0: none). */
  resumeAt = 0;
  listed = false;

  constructor(fd: number, gen: number, onconnection: (conn: Connection) => void, onerror: AcceptErrorHandler | undefined) {
    this.fd = fd;
    this.gen = gen;
    this.onconnection = onconnection;
    this.onerror = onerror;
  }
}

type Entry = EpConn | EpListener;

/** The readiness (epoll) engine behind a Proactor without io_uring (see the file comment). */
export class EpollEngine implements EngineCore, ConnectionOps<EpConn> {
  readonly stats: ProactorStats = { accepted: 0, bytesIn: 0, bytesOut: 0, dropped: 0, noBuffers: 0, rearmed: 0, acceptErrors: 0 };
  readonly #sys: Libc;
  readonly #epfd: number;
  readonly #highWater: number;
  readonly #maxConnections: number;
  /** fd -> its record, and the generation of the fd's latest registration. */
  readonly #byFd: Array<Entry | undefined> = [];
  readonly #gens: number[] = [];
  readonly #listeners: EpListener[] = [];
  readonly #events = Buffer.alloc(EPOLL_EVENT_SIZE * MAX_EVENTS);
  readonly #words = new Int32Array(this.#events.buffer, this.#events.byteOffset, this.#events.length / 4);
  readonly #ctl = new Int32Array(4);
  readonly #ctlBytes = new Uint8Array(this.#ctl.buffer);
  readonly #recvBuf = Buffer.alloc(RECV_SIZE);
  readonly #int = new Int32Array(1);
  readonly #intBytes = new Uint8Array(this.#int.buffer);
  readonly #intLen = new Uint32Array(1);
  readonly #waitOnce = (ms: number): number => this.#sys.epoll_wait(this.#epfd, this.#events, MAX_EVENTS, ms);
  /** Connections and listeners with work carried to the next turn. */
  #carried: Entry[] = [];
  #carriedSpare: Entry[] = [];
  /** Closed connections whose `onclose` has not run yet. */
  #closedList: EpConn[] = [];
  #closedSpare: EpConn[] = [];
  #deferred: Array<() => void> = [];
  #deferredSpare: Array<() => void> = [];
  #open = 0;
  #turns = 0;
  #stopped = false;
  #closed = false;
  // Node-loop mode.
  // The libuv watch of Node-loop mode (start() to stop()).
  #ready: ReadyWatch | null = null;
  // Node-loop mode (start() until stop()). The libuv watch itself is only
  // armed while no JavaScript of ours runs (closed when it fires, armed
  // again after the wake-up): a worker terminated while stuck in a callback
  // must not have a watch that fires into its dying environment.
  #live = false;
  #kickScheduled = false;
  #draining = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #kick = (): void => {
    this.#kickScheduled = false;
    if (this.#live && !this.#closed) this.#wake();
  };

  /**
   * Open an epoll instance.
   * @throws {SyscallError} from epoll_create1 (EMFILE, ENOMEM).
   */
  constructor(options: ProactorOptions = {}, sys: Libc = libc()) {
    this.#highWater = options.highWaterMark ?? 1 << 20;
    this.#maxConnections = options.maxConnections ?? 10_000;
    this.#sys = sys;
    this.#epfd = check(sys, sys.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
    closeAtThreadExit(this.#epfd);
  }

  /** Open connections. */
  get connections(): number {
    return this.#open;
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }

  /** Add `fd` to the epoll set with `events`, tagged with a new generation of the fd. */
  #register(fd: number, events: number, syscall: string): number {
    const gen = ((this.#gens[fd] ?? 0) + 1) & 0x7fffffff;
    writeEpollEvent(this.#ctl, 0, events, fd);
    this.#ctl[EPOLL_EVENT_FD_WORD + 1] = gen;
    check(this.#sys, this.#sys.epoll_ctl(this.#epfd, EPOLL_CTL_ADD, fd, this.#ctlBytes), syscall);
    this.#gens[fd] = gen;
    return gen;
  }

  /** Take `fd` out of the set and close it. */
  #release(fd: number): void {
    this.#byFd[fd] = undefined;
    this.#sys.epoll_ctl(this.#epfd, EPOLL_CTL_DEL, fd, null);
    keepAtThreadExit(fd);
    this.#sys.close(fd);
  }

  /**
   * Accept connections on a listening socket fd (the proactor owns it from
   * now on; it is made non-blocking).
   * @throws {SyscallError} from fcntl or epoll_ctl (e.g. EBADF, EPERM for a regular file).
   */
  listen(fd: number, onconnection: (conn: Connection) => void, onerror?: AcceptErrorHandler): ListenHandle {
    this.#assertOpen();
    const sys = this.#sys;
    const flags = check(sys, sys.fcntl(fd, F_GETFL, 0), 'fcntl');
    if ((flags & O_NONBLOCK) === 0) check(sys, sys.fcntl(fd, F_SETFL, flags | O_NONBLOCK), 'fcntl');
    const l = new EpListener(fd, this.#register(fd, LISTEN_EVENTS, 'epoll_ctl'), onconnection, onerror);
    this.#byFd[fd] = l;
    this.#listeners.push(l);
    // Owned from now on: in a worker, closed when the thread ends.
    closeAtThreadExit(fd);
    return {
      get fd() { return l.closed ? -1 : l.fd; },
      close: () => this.#closeListener(l),
    };
  }

  #closeListener(l: EpListener): void {
    if (l.closed || this.#closed) return;
    l.closed = true;
    l.resumeAt = 0;
    this.#release(l.fd);
    const i = this.#listeners.indexOf(l);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /**
   * Drive a connected (or, with `connecting`, connecting) socket fd.
   * @throws {SyscallError} from epoll_ctl (e.g. EBADF).
   */
  attach(fd: number, options: AttachOptions = {}): Connection {
    this.#assertOpen();
    const c = this.#adopt(fd, 'epoll_ctl');
    c.connecting = options.connecting === true;
    return c.conn;
  }

  #adopt(fd: number, syscall: string): EpConn {
    const c = new EpConn(this, fd, this.#register(fd, CONN_EVENTS, syscall), this.#highWater);
    this.#byFd[fd] = c;
    this.#open++;
    closeAtThreadExit(fd);
    return c;
  }

  /** Run `callback` after the events of this turn, before waiting again. */
  defer(callback: () => void): void {
    this.#assertOpen();
    this.#deferred.push(callback);
    this.#soon();
  }

  /** In Node-loop mode, run a turn for work queued outside one, once the current JavaScript is done. */
  #soon(): void {
    if (this.#live && !this.#kickScheduled && !this.#draining) {
      this.#kickScheduled = true;
      queueMicrotask(this.#kick);
    }
  }

  #carry(e: Entry): void {
    if (e.listed) return;
    e.listed = true;
    this.#carried.push(e);
    this.#soon();
  }

  /** @internal {@link Connection.send}. */
  send(c: EpConn, data: Uint8Array): boolean {
    if (c.closing || c.endAfterFlush) throw new CodedError('ERR_URING_CLOSED', 'send() on a closed connection');
    if (c.failed !== null) return true; // the bytes go nowhere: the connection is closing with its error
    let off = 0;
    if (c.queued === 0 && !c.connecting && data.length > 0) {
      const n = this.#sendNow(c, data);
      if (n < 0) {
        if (-n !== EAGAIN) {
          c.failed = new SyscallError(-n, 'send');
          this.#carry(c);
          return true;
        }
      } else {
        off = n;
        this.stats.bytesOut += n;
      }
    }
    if (off < data.length) {
      // A copy: the caller may reuse its buffer (and a receive view is reused
      // by the next recv). Small ones share Node's pooled slabs.
      const rest = Buffer.from(data.subarray(off));
      c.queue.push(rest);
      c.queued += rest.length;
    }
    const ok = c.queued < c.highWaterMark;
    if (!ok) this.#wantDrain(c, c.lowWaterMark);
    return ok;
  }

  /** @internal `Connection.requestDrain()`: `ondrain` once at most `bytes` are buffered. */
  requestDrain(c: EpConn, bytes = c.lowWaterMark): boolean {
    if (c.closing || c.queued <= bytes) return true;
    this.#wantDrain(c, bytes);
    return false;
  }

  #wantDrain(c: EpConn, bytes: number): void {
    c.drainAt = c.needDrain ? Math.max(c.drainAt, bytes) : bytes;
    c.needDrain = true;
  }

  /** send(2) of `data`, EINTR retried: the bytes taken, or -errno. */
  #sendNow(c: EpConn, data: Uint8Array): number {
    const sys = this.#sys;
    for (;;) {
      const n = sys.send(c.fd, data, data.length, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) return n;
      const errno = errnoOf(sys, n);
      if (errno !== EINTR) return -errno;
    }
  }

  /** Send what is queued until the kernel takes no more; then end, shut down or drain as asked. */
  #flush(c: EpConn): void {
    while (c.queue.length > 0) {
      const head = c.queue[0];
      const n = this.#sendNow(c, head);
      if (n < 0) {
        if (-n === EAGAIN) break;
        this.closeConnection(c, new SyscallError(-n, 'send'));
        return;
      }
      this.stats.bytesOut += n;
      c.queued -= n;
      if (n === head.length) {
        c.queue.shift();
      } else {
        // A short send: the socket buffer is full; the rest goes on the next edge.
        c.queue[0] = head.subarray(n);
        break;
      }
    }
    this.#flushed(c);
  }

  /** After a flush: end or shut down once nothing is queued; `ondrain` at the low-water mark. */
  #flushed(c: EpConn): void {
    if (c.queued === 0) {
      if (c.endAfterFlush) {
        c.endAfterFlush = false;
        this.closeConnection(c, null);
        return;
      }
      if (c.shutAfterFlush) this.#sys.shutdown(c.fd, SHUT_WR);
    }
    if (c.needDrain && c.queued <= c.drainAt) {
      c.needDrain = false;
      c.conn.ondrain?.();
    }
  }

  /** @internal {@link Connection.pause}. */
  pause(c: EpConn): void {
    if (c.closing) return;
    c.paused = true;
  }

  /** @internal {@link Connection.resume}: read what arrived meanwhile in the next turn. */
  resume(c: EpConn): void {
    if (!c.paused) return;
    c.paused = false;
    if (c.readable && !c.closing && !c.connecting) this.#carry(c);
  }

  /** @internal {@link Connection.shutdownWrite}. */
  shutdownWrite(c: EpConn): void {
    if (c.closing || c.shutAfterFlush) return;
    c.shutAfterFlush = true;
    // A failure (ENOTCONN after a reset) shows as the peer's EOF or error anyway.
    if (c.queued === 0 && !c.connecting) this.#sys.shutdown(c.fd, SHUT_WR);
  }

  /** @internal {@link Connection.end}. */
  end(c: EpConn): void {
    if (c.closing || c.endAfterFlush) return;
    if (c.queued === 0 && !c.connecting) this.closeConnection(c, null);
    else c.endAfterFlush = true;
  }

  /** @internal {@link Connection.close}: close the fd now; `onclose` runs at the end of the turn. */
  closeConnection(c: EpConn, err: Error | null): void {
    if (c.closing) return;
    c.closing = true;
    c.error = err;
    c.queue = [];
    c.queued = 0;
    c.needDrain = false;
    this.#release(c.fd);
    this.#closedList.push(c);
    this.#soon();
  }

  /** An event for a connection. */
  #connEvent(c: EpConn, events: number): void {
    if ((events & READ_BITS) !== 0) {
      c.readable = true;
      if ((events & END_BITS) !== 0) c.hangup = true;
    }
    if (c.connecting) {
      if ((events & WRITE_BITS) === 0) return;
      this.#connected(c, events);
      if (c.closing) return;
    } else if ((events & WRITE_BITS) !== 0 && c.queue.length > 0) {
      this.#flush(c);
      if (c.closing) return;
    }
    if (c.readable && !c.paused) this.#read(c);
  }

  /** A connecting socket became writable or failed: the connect's outcome is in SO_ERROR. */
  #connected(c: EpConn, events: number): void {
    const sys = this.#sys;
    this.#intLen[0] = 4;
    this.#int[0] = 0;
    let errno = errnoOf(sys, sys.getsockopt(c.fd, SOL_SOCKET, SO_ERROR, this.#intBytes, this.#intLen)) ||
      this.#int[0];
    // A hang-up without an error and without writability: not connected after all.
    if (errno === 0 && (events & EPOLLOUT) === 0) errno = ECONNRESET;
    c.connecting = false;
    c.conn.onconnect?.(errno);
    if (c.closing) return;
    if (errno !== 0) {
      this.closeConnection(c, new SyscallError(errno, 'connect'));
      return;
    }
    this.#flush(c);
  }

  /** recv() until the socket is empty, closed, paused, or the per-turn bound. */
  #read(c: EpConn): void {
    if (c.eof) {
      c.readable = false;
      return;
    }
    const sys = this.#sys;
    const buf = this.#recvBuf;
    for (let i = 0; i < READS_PER_TURN; i++) {
      const n = sys.recv(c.fd, buf, RECV_SIZE, MSG_DONTWAIT);
      if (n > 0) {
        this.stats.bytesIn += n;
        c.conn.ondata?.(buf.subarray(0, n));
        if (c.closing) return;
        // Less than asked: the socket was emptied, and what comes next is a new edge
        // (unless the peer is gone: then read on to the EOF or the error).
        if (n < RECV_SIZE && !c.hangup) {
          c.readable = false;
          return;
        }
        if (c.paused) return;
        continue;
      }
      if (n === 0) {
        c.readable = false;
        c.eof = true;
        if (c.conn.onend !== null) c.conn.onend();
        else this.closeConnection(c, null);
        return;
      }
      const errno = errnoOf(sys, n);
      if (errno === EINTR) continue;
      if (errno === EAGAIN) {
        c.readable = false;
        return;
      }
      this.closeConnection(c, new SyscallError(errno, 'recv'));
      return;
    }
    // The bound: the rest is read in the next turn, after the others had theirs.
    this.#carry(c);
  }

  /** accept4() until EAGAIN, a back-off, or the per-turn bound. */
  #accept(l: EpListener): void {
    const sys = this.#sys;
    for (let i = 0; i < ACCEPTS_PER_TURN; i++) {
      if (l.closed || this.#closed) return;
      const fd = sys.accept4(l.fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const errno = errnoOf(sys, fd);
        if (errno === EAGAIN) return;
        if (errno === EINTR) continue;
        this.stats.acceptErrors++;
        if (errno === ECONNABORTED || errno === EPROTO || errno === EPERM) {
          // That connection is gone (or refused by a firewall rule): the next may be fine.
          l.onerror?.(errno);
          continue;
        }
        // EMFILE/ENFILE: no fd to give, and accepting again at once would fail
        // again at once; ENOBUFS, ENOMEM, EINVAL (not listening) likewise.
        // Wait a little (the connections stay in the backlog meanwhile).
        this.#backOff(l);
        l.onerror?.(errno);
        return;
      }
      if (this.#open >= this.#maxConnections) {
        sys.close(fd);
        continue;
      }
      let c: EpConn;
      try {
        c = this.#adopt(fd, 'epoll_ctl');
      } catch (err) {
        sys.close(fd);
        throw err;
      }
      this.stats.accepted++;
      l.onconnection(c.conn);
    }
    this.#carry(l);
  }

  #backOff(l: EpListener): void {
    l.resumeAt = performance.now() + ACCEPT_BACKOFF_MS;
    if (this.#live) this.#armTimer();
  }

  /** The earliest back-off end, or 0 if none. */
  #nextResume(): number {
    let t = 0;
    for (const l of this.#listeners) if (l.resumeAt > 0 && (t === 0 || l.resumeAt < t)) t = l.resumeAt;
    return t;
  }

  /** Accept again on listeners whose back-off is over. */
  #resumeListeners(): void {
    const now = performance.now();
    for (const l of this.#listeners) {
      if (l.resumeAt > 0 && l.resumeAt <= now) {
        l.resumeAt = 0;
        this.#accept(l);
      }
    }
  }

  /** In Node-loop mode: a timer for the next back-off end (the epoll fd does not fire for it). */
  #armTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const at = this.#nextResume();
    if (at === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#kick();
    }, Math.max(0, Math.ceil(at - performance.now())));
  }

  /**
   * One loop turn: wait up to `timeoutMs` (-1: without limit, 0: not at
   * all; never while work is carried over or deferred) for events, handle
   * them, then the work carried from the last turn, the `onclose` of the
   * connections closed, and the deferred callbacks.
   * @returns the number of events and carried-over items handled.
   * @throws {CodedError} `ERR_URING_CLOSED` after close().
   */
  turn(timeoutMs = -1): number {
    this.#assertOpen();
    let wait = this.#carried.length > 0 || this.#closedList.length > 0 || this.#deferred.length > 0 ? 0 : timeoutMs;
    const resumeAt = this.#nextResume();
    if (resumeAt > 0 && wait !== 0) {
      const left = Math.max(0, Math.ceil(resumeAt - performance.now()));
      if (wait < 0 || left < wait) wait = left;
    }
    // Ctrl-C: a wait that may block checks first (kernelWait); a loop kept
    // busy (always work carried or deferred) never waits: every 64th turn.
    if (wait === 0 && interruptsArmed && (++this.#turns & 63) === 0) checkInterrupts('epoll_wait');
    const n = kernelWait(this.#sys, 'epoll_wait', wait, 1, this.#waitOnce);
    const words = this.#words;
    for (let i = 0; i < n; i++) {
      const w = i * EPOLL_EVENT_WORDS;
      const fd = words[w + EPOLL_EVENT_FD_WORD];
      const e = this.#byFd[fd];
      if (e === undefined || e.gen !== words[w + EPOLL_EVENT_FD_WORD + 1]) {
        this.stats.dropped++;
        continue;
      }
      if (e instanceof EpConn) {
        if (!e.closing) this.#connEvent(e, words[w]);
      } else if (!e.closed && e.resumeAt === 0) {
        this.#accept(e);
      }
    }
    if (resumeAt > 0) this.#resumeListeners();
    const handled = n + this.#runCarried();
    this.#notifyClosed();
    if (this.#deferred.length > 0) this.#runDeferred();
    return handled;
  }

  /** Work carried over from the previous turn (bounded reads and accepts, resumes, failed sends). */
  #runCarried(): number {
    const list = this.#carried;
    if (list.length === 0) return 0;
    this.#carried = this.#carriedSpare;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      e.listed = false;
      if (e instanceof EpConn) {
        if (e.closing) continue;
        if (e.failed !== null) this.closeConnection(e, e.failed);
        else if (e.readable && !e.paused && !e.connecting) this.#read(e);
      } else if (!e.closed && e.resumeAt === 0) {
        this.#accept(e);
      }
    }
    const count = list.length;
    list.length = 0;
    this.#carriedSpare = list;
    return count;
  }

  /** `onclose` of the connections closed since the last turn (their fd is -1 from now on). */
  #notifyClosed(): void {
    while (this.#closedList.length > 0) {
      const list = this.#closedList;
      this.#closedList = this.#closedSpare;
      for (let i = 0; i < list.length; i++) {
        const c = list[i];
        c.fd = -1;
        this.#open--;
        c.conn.onclose?.(c.error);
      }
      list.length = 0;
      this.#closedSpare = list;
    }
  }

  #runDeferred(): void {
    const list = this.#deferred;
    this.#deferred = this.#deferredSpare;
    for (let i = 0; i < list.length; i++) list[i]();
    list.length = 0;
    this.#deferredSpare = list;
  }

  /**
   * Run turns until {@link stop} is called or nothing is left to wait for
   * (no listener, no connection). Blocks the JavaScript thread; Ctrl-C
   * ends it when keyboard interrupts are armed.
   */
  run(): void {
    this.#stopped = false;
    while (!this.#stopped && !this.#closed && (this.#open > 0 || this.#listeners.length > 0)) this.turn(-1);
    if (!this.#closed && (this.#closedList.length > 0 || this.#deferred.length > 0)) this.turn(0);
  }

  /**
   * Run in Node's own loop: libuv watches the epoll fd (readable while an
   * event is pending), and each wake-up runs turns without waiting until
   * none is left. {@link stop} or {@link close} ends it.
   */
  start(): void {
    this.#assertOpen();
    if (this.#live) return;
    this.#stopped = false;
    this.#live = true;
    this.#armTimer();
    this.#wake();
  }

  #watch(): void {
    if (!this.#live || this.#closed) return;
    (this.#ready ??= new ReadyWatch(this.#sys.watch, this.#epfd, this.#kick)).arm();
  }

  #unwatch(): void {
    this.#ready?.disarm();
  }

  /** A wake-up in Node-loop mode: drain, then watch the epoll fd again. */
  #wake(): void {
    this.#unwatch();
    // Not in a finally: a worker terminated inside a callback must stay unwatched.
    this.#drain();
    this.#watch();
  }

  /** One Node-loop wake-up: turns without waiting while there is work, bounded. */
  #drain(): void {
    this.#draining = true;
    try {
      for (let i = 0; i < TURNS_PER_WAKE && !this.#closed && this.#live; i++) {
        if (this.turn(0) === 0 && this.#carried.length === 0 && this.#closedList.length === 0 &&
          this.#deferred.length === 0) break;
      }
      if (this.#closed || !this.#live) return;
      // Work left after the bound: another wake-up, after Node's other I/O.
      if ((this.#carried.length > 0 || this.#closedList.length > 0 || this.#deferred.length > 0) && !this.#kickScheduled) {
        this.#kickScheduled = true;
        setImmediate(this.#kick);
      }
      if (this.#timer === null && this.#nextResume() > 0) this.#armTimer();
    } finally {
      this.#draining = false;
    }
  }

  /** Make {@link run} return after the current turn, and end Node-loop mode ({@link start}). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#live = false;
    this.#ready?.close();
    this.#ready = null;
  }

  /** Close every connection (their `onclose` runs now) and listener, then the epoll fd. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.stop();
    // Bounded: an onclose or deferred callback may attach again.
    for (let round = 0; round < 8; round++) {
      for (const e of this.#byFd) if (e instanceof EpConn && !e.closing) this.closeConnection(e, null);
      if (this.#closedList.length === 0 && this.#deferred.length === 0) break;
      this.#notifyClosed();
      if (this.#deferred.length > 0) this.#runDeferred();
    }
    for (const l of [...this.#listeners]) this.#closeListener(l);
    this.#closed = true;
    this.#deferred.length = 0;
    this.#carried.length = 0;
    keepAtThreadExit(this.#epfd);
    this.#sys.close(this.#epfd);
  }
}
