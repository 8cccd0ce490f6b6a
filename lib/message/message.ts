/**
 * `Message`: one non-blocking connection driven by a selector, with
 * callbacks (Python's `libserver.Message` / `libclient.Message`, made
 * reusable). The protocol classes (EchoMessage, ServerMessage,
 * ClientMessage) build on it.
 */

import { EventEmitter } from 'node:events';
import type { TypedEmitter } from '../typed-emitter.js';
import { CodedError, invalidArgType, invalidArgValue, outOfRange, SyscallError, type ErrorTarget } from '../errors.js';
import { SHUT_WR, SOL_SOCKET, SO_ERROR, Socket, type SocketAddress } from '../socket/index.js';
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from '../../selectors/index.js';
import { Proactor, type Connection } from '../uring/proactor.js';

/**
 * What drives a Message: a selector (the readiness engine: epoll, poll or
 * select) or a {@link Proactor} (the completion engine: io_uring, or its
 * epoll stand-in).
 */
export type MessageLoop = BaseSelector<unknown> | Proactor;

/** The two engines a Message or MessageServer can run on. */
export type MessageEngine = 'epoll' | 'uring';

// Connections a MessageServer on a Proactor accepted, keyed by the socket
// object it hands to the factory: the Message made for it takes the
// Connection over instead of attaching the fd again.
const accepted = new WeakMap<Socket, Connection>();

/** @internal MessageServer: `sock` wraps the fd of `conn`, already driven by the proactor. */
export function handOver(sock: Socket, conn: Connection | null): void {
  if (conn === null) accepted.delete(sock);
  else accepted.set(sock, conn);
}

/** Events every Message emits. */
export type MessageEvents = {
  /** The connection failed: a socket error, a protocol error, or a callback threw. Emitted at most once, then 'close'. */
  error: (err: Error) => void;
  /** The socket was closed and unregistered. Emitted once. */
  close: () => void;
};

/** Options shared by every Message. */
export interface MessageOptions {
  /**
   * Bytes of queued output above which the Message stops reading from its
   * peer (a peer that does not read cannot make us buffer without bound).
   * Default 1 MiB.
   */
  highWaterMark?: number;
  /** Reading resumes when queued output falls to this many bytes. Default highWaterMark / 4. */
  lowWaterMark?: number;
}

/**
 * What {@link Message.timeoutState} reports to the timeout sweep:
 * `BUSY` (we owe the peer an answer: no timeout runs), `BETWEEN` (between
 * requests: only the idle timeout runs), or a number n >= 0: inside the
 * request that follows n complete ones (the request timeout runs too).
 */
export const TIMEOUT_BUSY = -2;
/** See {@link TIMEOUT_BUSY}. */
export const TIMEOUT_BETWEEN = -1;

/** The three masks of Python's `_set_selector_events_mask`. */
export type EventsMode = 'r' | 'w' | 'rw';

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const READ_SIZE = 64 * 1024;
// Reads per readiness event before giving other connections a turn.
const MAX_READS_PER_EVENT = 16;
// Queued chunks are merged into one send up to this size.
const COALESCE_LIMIT = 256 * 1024;

// One receive buffer for every Message: data is handled synchronously and
// subclasses copy what they keep, so it can be shared.
const scratch = Buffer.allocUnsafeSlow(READ_SIZE);
// The view of `scratch` last handed to onData. A read of the same length
// as the one before (an echo, a fixed-size protocol) gets the same view
// back instead of a new one: a Buffer view costs about 100 ns and a young-
// generation object per read (bench/README.md, "Misses explained"). Its
// bytes are only valid during the call in either case.
let lastView = scratch.subarray(0, 0);

function scratchView(n: number): Buffer {
  if (lastView.length !== n) lastView = scratch.subarray(0, n);
  return lastView;
}

type EmitterClass = new <E extends MessageEvents>() => TypedEmitter<E>;

/**
 * A connection and its selector registration. Subclasses implement
 * {@link Message.onData} (bytes received) and may override
 * {@link Message.onEnd} (peer finished sending) and
 * {@link Message.onWritable} (first writability, e.g. connect completed).
 *
 * The event loop calls {@link Message.processEvents} with the ready mask
 * (the Message registers itself with `data` = the Message). Output goes
 * through {@link Message.write}: sent at once when possible, the rest
 * queued; write interest is on only while output is queued, and reading
 * pauses while more than `highWaterMark` bytes wait. Any exception —
 * socket error, protocol error, or one thrown by your listeners — closes
 * this connection only: 'error' (at most once, only if someone listens),
 * then 'close'.
 *
 * @typeParam E - the event map of the subclass.
 */
export abstract class Message<E extends MessageEvents = MessageEvents> extends (EventEmitter as unknown as EmitterClass)<E> {
  /** The selector the socket is registered with, or the Proactor that drives it. */
  readonly selector: MessageLoop;
  /** The connection (non-blocking). */
  readonly sock: Socket;
  /** The peer's address, as accept()/connect got it. */
  readonly addr: SocketAddress;
  /** The error that ended the connection, if one did. */
  error: Error | null = null;

  readonly #highWaterMark: number;
  readonly #lowWaterMark: number;
  #out: Buffer[] = [];
  #outOffset = 0;
  #outBytes = 0;
  #mask = 0;
  #closed = false;
  #readPaused = false;
  #inputDone = false;
  #closeWhenFlushed = false;
  #writable: boolean;
  // Set by every recv/send that moved bytes; the sweep reads and clears it
  // (no clock read per message).
  #active = false;
  #lastActive = -1;
  #requestMark = TIMEOUT_BETWEEN;
  #requestSince = 0;
  #held = false;
  #turn = false;
  #eof = false;
  #linger = false;
  #lingering = false;
  // The completion engine's connection (null on a selector), data that
  // arrived while reading was off, and an EOF that came behind it.
  readonly #conn: Connection | null = null;
  #pendingIn: Buffer[] | null = null;
  #pendingInBytes = 0;
  #pendingEof = false;
  #replayQueued = false;
  readonly #onTurnDeferred = (): void => this.#deferredTurn();
  readonly #onReplay = (): void => this.#replay();

  /**
   * Take over `sock`: make it non-blocking and register it (for reading,
   * plus writing when `waitWritable`) with `data` = this Message.
   * @param waitWritable the socket is still connecting: hold output until the first WRITE event.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad option.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or inconsistent water mark.
   * @throws {KeyError} `ERR_FD_ALREADY_REGISTERED` if the socket is already registered.
   */
  constructor(selector: MessageLoop, sock: Socket, addr: SocketAddress, options: MessageOptions = {}, waitWritable = false) {
    super();
    this.selector = selector;
    this.addr = addr;
    const high = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (typeof high !== 'number' || Number.isNaN(high)) throw invalidArgType('highWaterMark', 'a number', high);
    if (high < 0) throw outOfRange('highWaterMark', '>= 0', high);
    const low = options.lowWaterMark ?? Math.floor(high / 4);
    if (typeof low !== 'number' || Number.isNaN(low)) throw invalidArgType('lowWaterMark', 'a number', low);
    if (low < 0 || low > high) throw outOfRange('lowWaterMark', `>= 0 and <= highWaterMark (${high})`, low);
    this.#highWaterMark = high;
    this.#lowWaterMark = low;
    this.#writable = !waitWritable;
    if (selector instanceof Proactor) {
      let conn = accepted.get(sock);
      if (conn === undefined) {
        // The proactor owns the fd from now on; `sock` becomes a borrowed
        // view of it (getpeername, setsockopt, ... keep working).
        sock.setblocking(false);
        const { family, type, proto } = sock;
        const fd = sock.detach();
        conn = selector.attach(fd, { connecting: waitWritable });
        sock = new Socket(family, type, proto, fd, { borrowed: true });
      } else {
        accepted.delete(sock);
      }
      this.sock = sock;
      this.#conn = conn;
      this.#wire(conn, high, low);
      return;
    }
    this.sock = sock;
    sock.setblocking(false);
    this.#mask = waitWritable ? EVENT_READ | EVENT_WRITE : EVENT_READ;
    selector.register(sock, this.#mask, this);
  }

  /** The engine driving this Message: `'uring'` on a Proactor (whatever its backend), else `'epoll'`. */
  get engine(): MessageEngine {
    return this.#conn === null ? 'epoll' : 'uring';
  }

  // Completion mode: the connection's callbacks are this Message's events.
  #wire(conn: Connection, high: number, low: number): void {
    // Told (ondrain) when the bytes buffered fall to the low-water mark
    // after passing the high one; a subclass that wants onDrain is told
    // whenever everything was sent.
    const wantsDrain = this.onDrain !== Message.prototype.onDrain;
    conn.highWaterMark = wantsDrain ? 1 : high + 1;
    conn.lowWaterMark = wantsDrain ? 0 : low;
    conn.ondata = (data) => {
      this.#active = true;
      if (this.#closed || this.#lingering) return;
      if (this.#readable() && this.#pendingIn === null) {
        try {
          this.onData(data);
        } catch (err) {
          this.fail(err);
        }
      } else if (!this.#inputDone) {
        // Reading is off (held, or too much output queued), or earlier
        // input waits: keep it for later, in order. Held only for a turn,
        // the engine keeps receiving until 64 KiB wait; then (and at once
        // for the high-water mark) it pauses, so what waits here is
        // bounded by that plus what the kernel had already completed.
        (this.#pendingIn ??= []).push(Buffer.from(data));
        this.#pendingInBytes += data.byteLength;
        if (this.#pendingInBytes > READ_SIZE && !conn.isPaused) conn.pause();
      }
    };
    conn.onend = () => {
      this.#active = true;
      if (this.#closed) return;
      if (this.#lingering) this.close();
      else if (this.#pendingIn !== null) this.#pendingEof = true;
      else this.#eofArrived();
    };
    conn.ondrain = () => {
      if (this.#closed) return;
      this.#active = true;
      try {
        if (this.#readPaused && conn.bufferedAmount <= this.#lowWaterMark) this.#readPaused = false;
        if (conn.bufferedAmount === 0) this.onDrain();
        if (this.#turn && !this.#closed) this.#takeTurn();
        else this.#updateMask();
      } catch (err) {
        this.fail(err);
      }
    };
    conn.onconnect = (errno) => {
      if (this.#closed) return;
      try {
        if (errno !== 0) {
          this.#checkConnect(errno);
          return;
        }
        this.#writable = true;
        this.onWritable();
        this.#updateMask();
      } catch (err) {
        this.fail(err);
      }
    };
    conn.onclose = (err) => {
      if (err !== null) this.fail(err);
      else this.close();
    };
  }

  #readable(): boolean {
    return !this.#inputDone && !this.#readPaused && !this.#held;
  }

  #eofArrived(): void {
    this.#eof = true;
    this.#inputDone = true;
    try {
      this.#updateMask();
      this.onEnd();
    } catch (err) {
      this.fail(err);
    }
  }

  // Completion mode: hand over what arrived while reading was off.
  #replay(): void {
    this.#replayQueued = false;
    let queue = this.#pendingIn;
    while (queue !== null && !this.#closed && this.#readable()) {
      const data = queue.shift() as Buffer;
      this.#pendingInBytes -= data.byteLength;
      if (queue.length === 0) {
        this.#pendingIn = queue = null;
        this.#pendingInBytes = 0;
      }
      try {
        this.onData(data);
      } catch (err) {
        this.fail(err);
        return;
      }
    }
    if (this.#pendingIn === null && this.#pendingEof && !this.#closed) {
      this.#pendingEof = false;
      this.#eofArrived();
    }
    this.#updateMask();
  }

  #deferredTurn(): void {
    if (this.#closed || !this.#turn) return;
    try {
      this.#takeTurn();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Whether close() ran. */
  get closed(): boolean { return this.#closed; }

  /** Bytes queued and not yet accepted by the kernel. */
  get pendingBytes(): number { return this.#conn === null ? this.#outBytes : this.#conn.bufferedAmount; }

  /**
   * Bytes received but not yet handed to {@link Message.onData} because
   * reading was off when they came (the completion engine only: a
   * selector leaves them in the kernel).
   */
  get heldInput(): number { return this.#pendingInBytes; }

  /** Whether reading is paused because too much output is queued. */
  get readPaused(): boolean { return this.#readPaused; }

  /** Whether a {@link Message.shutdown} has sent everything and waits for the peer to close (lingering). */
  get lingering(): boolean { return this.#lingering; }

  /**
   * Check the timeouts at monotonic time `now` (ms): close with
   * `ERR_IDLE_TIMEOUT` when no byte moved in either direction for
   * `idleTimeout` ms, or with `ERR_REQUEST_TIMEOUT` when the request being
   * received was begun more than `requestTimeout` ms ago. MessageServer
   * calls it from its sweep timer (every quarter of the smaller timeout),
   * so a timeout fires up to a sweep period late; call it from a timer of
   * yours for Messages you drive yourself. 0 or Infinity turns a timeout off.
   */
  sweep(now: number, idleTimeout: number, requestTimeout: number): void {
    if (this.#closed) return;
    if (this.#active || this.#lastActive < 0) {
      this.#active = false;
      this.#lastActive = now;
    }
    if (this.#lingering) {
      // Everything was delivered: a peer that neither closes nor talks is dropped quietly.
      if (idleTimeout > 0 && now - this.#lastActive >= idleTimeout) this.close();
      return;
    }
    const state = this.timeoutState();
    if (state === TIMEOUT_BUSY) {
      this.#lastActive = now;
      this.#requestMark = TIMEOUT_BETWEEN;
      return;
    }
    if (state !== this.#requestMark) {
      this.#requestMark = state;
      this.#requestSince = now;
    }
    if (state >= 0 && requestTimeout > 0 && now - this.#requestSince >= requestTimeout) {
      this.fail(new CodedError('ERR_REQUEST_TIMEOUT', `Request not complete after ${requestTimeout} ms.`));
    } else if (idleTimeout > 0 && now - this.#lastActive >= idleTimeout) {
      this.fail(new CodedError('ERR_IDLE_TIMEOUT', `No data in either direction for ${idleTimeout} ms.`));
    }
  }

  /**
   * Graceful stop (MessageServer.shutdown): finish what is in flight, then
   * close ({@link Message.onShutdown}: by default stop reading and close
   * once queued output is sent; ServerMessage first answers every request
   * it received). If the peer may still be sending, the close is a
   * lingering one: our side is shut down (FIN) and what the peer still
   * sends is read and dropped until it closes too, because closing a
   * socket with unread input sends a reset, which can destroy answers the
   * peer has not read yet.
   */
  shutdown(): void {
    if (this.#closed) return;
    this.#linger = true;
    this.onShutdown();
  }

  /**
   * Handle a readiness mask from the selector (Python's `process_events`).
   * Never throws: failures close this connection and emit 'error'.
   */
  processEvents(mask: number): void {
    if (this.#closed || this.#conn !== null) return;
    // A turn asked for in this very pass waits for the next one.
    const turn = this.#turn;
    try {
      if (!this.#writable) this.#checkConnect();
      if ((mask & EVENT_READ) !== 0) {
        if (!this.#inputDone && !this.#readPaused && !this.#held) this.#handleRead();
        else if (this.#lingering) this.#discard();
      }
      if (turn && !this.#closed) this.#takeTurn();
      if ((mask & EVENT_WRITE) !== 0 && !this.#closed) this.#handleWrite();
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Send `data`: as much as the kernel takes now, the rest queued (copied:
   * the caller may reuse its buffer). Returns false when the queue is above
   * the high-water mark, or when the Message is closed (then nothing is
   * sent). A broken connection (EPIPE, ECONNRESET) does not throw, even
   * from a timer: the Message fails ('error', then 'close') and false is
   * returned.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for data that is not a Uint8Array.
   */
  write(data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'a Buffer or Uint8Array', data);
    if (this.#closed) return false;
    const conn = this.#conn;
    if (conn !== null) {
      // After end(): the connection closes once flushed, nothing more is taken.
      if (conn.isClosing) return false;
      conn.send(data);
      if (conn.bufferedAmount > this.#highWaterMark && !this.#readPaused) {
        this.#readPaused = true;
        this.#updateMask();
      }
      return !this.#readPaused;
    }
    let rest = data;
    if (this.#outBytes === 0 && this.#writable) {
      let sent: number;
      try {
        sent = this.sock.send(data) ?? 0;
      } catch (err) {
        this.fail(err);
        return false;
      }
      if (sent > 0) this.#active = true;
      if (sent === data.byteLength) return true;
      rest = data.subarray(sent);
    }
    this.#out.push(Buffer.from(rest));
    this.#outBytes += rest.byteLength;
    if (this.#outBytes > this.#highWaterMark) this.#readPaused = true;
    this.#updateMask();
    return !this.#readPaused;
  }

  /**
   * Stop reading and close once queued output is sent (at once if none is).
   */
  end(): void {
    if (this.#closed) return;
    this.#inputDone = true;
    if (this.#conn !== null) {
      this.#pendingIn = null;
      this.#pendingInBytes = 0;
      this.#finish();
      return;
    }
    if (this.#outBytes === 0) this.#finish();
    else {
      this.#closeWhenFlushed = true;
      this.#updateMask();
    }
  }

  /**
   * Set the selector events directly (Python's `_set_selector_events_mask`):
   * `'r'`, `'w'` or `'rw'`.
   * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for another mode.
   */
  setEventsMask(mode: EventsMode): void {
    const mask = mode === 'r' ? EVENT_READ : mode === 'w' ? EVENT_WRITE : mode === 'rw' ? EVENT_READ | EVENT_WRITE : 0;
    if (mask === 0) throw invalidArgValue('mode', "must be 'r', 'w' or 'rw'", mode);
    this.#setMask(mask);
  }

  /**
   * Unregister and close the socket, then emit 'close'. Idempotent. An
   * exception thrown by a 'close' listener does not stop the others; it is
   * reported as a process warning.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    this.#outBytes = 0;
    try {
      if (this.#mask !== 0) (this.selector as BaseSelector<unknown>).unregister(this.sock);
    } catch {
      // Already unregistered, or the selector was closed first.
    }
    this.#mask = 0;
    this.#pendingIn = null;
    this.#pendingInBytes = 0;
    if (this.#conn !== null) {
      // The proactor closes the fd (after cancelling what is in flight on
      // it); this view of it lets go.
      this.#conn.close();
      this.sock.detach();
    } else {
      this.sock.close();
    }
    this.#notify('close', []);
  }

  /**
   * End the connection because of `err`: remember it, emit 'error' (once,
   * and only if there is a listener, so a server never crashes on it), then
   * close. Never throws: an exception thrown by an 'error' listener is
   * reported as a process warning.
   */
  fail(err: unknown): void {
    if (this.#closed) return;
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.error === null) {
      this.error = error;
      if (this.listenerCount('error') > 0) this.#notify('error', [error]);
    }
    this.close();
  }

  // Call every listener of 'close'/'error' even if one throws: a listener's
  // bug must neither stop the event loop nor skip the owner's bookkeeping
  // (MessageServer forgets a connection on 'close').
  #notify(event: 'close' | 'error', args: unknown[]): void {
    for (const listener of this.rawListeners(event) as Array<(...a: unknown[]) => void>) {
      try {
        listener.apply(this, args);
      } catch (err) {
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'ERR_LISTENER_THREW', detail: `a '${event}' listener of a Message threw` });
      }
    }
  }

  /** Bytes arrived (a view valid only during the call: copy what you keep). */
  protected abstract onData(chunk: Buffer): void;

  /** The peer finished sending (EOF). Default: close once output is flushed. */
  protected onEnd(): void {
    this.end();
  }

  /** First WRITE event of a Message created with `waitWritable` (the connect completed). */
  protected onWritable(): void {
    // Nothing by default: queued output is flushed right after.
  }

  /** What {@link Message.shutdown} does. Default: {@link Message.end}. */
  protected onShutdown(): void {
    this.end();
  }

  /** All queued output was sent. */
  protected onDrain(): void {
    // Nothing by default.
  }

  /**
   * What the timeout sweep should check now: {@link TIMEOUT_BUSY},
   * {@link TIMEOUT_BETWEEN}, or the number of requests completed before
   * the one being received. Default: between requests (idle timeout only).
   */
  protected timeoutState(): number {
    return TIMEOUT_BETWEEN;
  }

  /** Hold reading (while on, nothing is read; the water marks work as before). */
  protected holdReading(on: boolean): void {
    if (this.#held === on) return;
    this.#held = on;
    this.#updateMask();
  }

  /**
   * Ask for {@link Message.onTurn} in the next loop pass (work left for
   * later so that other connections get their turn): the Message asks for
   * WRITE, which a connected socket reports at once.
   */
  protected requestTurn(): void {
    const conn = this.#conn;
    if (conn !== null) {
      if (!this.#turn && !this.#closed) {
        this.#turn = true;
        // As a selector's turn comes with writability: while the kernel
        // has not taken all our output, the turn waits until it has, so a
        // peer that does not read stops the work.
        if (conn.requestDrain(0)) (this.selector as Proactor).defer(this.#onTurnDeferred);
      }
      return;
    }
    this.#turn = true;
    this.#updateMask();
  }

  /** The turn asked for with {@link Message.requestTurn}. */
  protected onTurn(): void {
    // Nothing by default.
  }

  /** Stop reading (keep writing); used after the last request a Message will accept. */
  protected stopReading(): void {
    this.#inputDone = true;
    this.#updateMask();
  }

  // Still connecting and an event came: a failed connect shows in
  // SO_ERROR (connect(2), EINPROGRESS); report it as the connect error.
  #checkConnect(known?: number): void {
    const errno = known ?? this.sock.getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (errno === 0) return;
    const addr = this.addr;
    const target: ErrorTarget = typeof addr === 'string' ? { path: addr }
      : Array.isArray(addr) ? { address: String(addr[0]), port: Number(addr[1]) } : {};
    throw new SyscallError(errno, 'connect', target);
  }

  #handleRead(): void {
    const sock = this.sock;
    for (let i = 0; i < MAX_READS_PER_EVENT; i++) {
      const n = sock.recvInto(scratch);
      if (n === null) return;
      this.#active = true;
      if (n === 0) {
        this.#eof = true;
        this.#inputDone = true;
        this.#updateMask();
        this.onEnd();
        return;
      }
      this.onData(scratchView(n));
      if (n < READ_SIZE || this.#closed || this.#readPaused || this.#inputDone || this.#held) return;
    }
  }

  #handleWrite(): void {
    if (!this.#writable) {
      this.#writable = true;
      this.onWritable();
      if (this.#closed) return;
    }
    const sock = this.sock;
    while (this.#outBytes > 0) {
      let chunk = this.#out[0];
      if (this.#out.length > 1 && chunk.byteLength - this.#outOffset < COALESCE_LIMIT) chunk = this.#coalesce();
      const view = this.#outOffset === 0 ? chunk : chunk.subarray(this.#outOffset);
      const sent = sock.send(view);
      if (sent === null) break;
      this.#active = true;
      this.#outBytes -= sent;
      if (sent === view.byteLength) {
        this.#out.shift();
        this.#outOffset = 0;
      } else {
        this.#outOffset += sent;
        break;
      }
    }
    if (this.#readPaused && this.#outBytes <= this.#lowWaterMark) this.#readPaused = false;
    if (this.#outBytes === 0) {
      if (this.#closeWhenFlushed) {
        this.#finish();
        return;
      }
      this.onDrain();
      if (this.#closed) return;
    }
    this.#updateMask();
  }

  // Merge the head of the queue into one buffer of at most COALESCE_LIMIT
  // bytes, so many small writes cost one send().
  #coalesce(): Buffer {
    const parts: Buffer[] = [];
    let size = 0;
    let i = 0;
    for (; i < this.#out.length; i++) {
      const part = i === 0 ? this.#out[0].subarray(this.#outOffset) : this.#out[i];
      if (i > 0 && size + part.byteLength > COALESCE_LIMIT) break;
      parts.push(part);
      size += part.byteLength;
    }
    // Only the head fits (the next chunk is big): send it as it is, rather
    // than copy it again at every writable event.
    if (i === 1) return this.#out[0];
    const merged = Buffer.concat(parts, size);
    this.#out.splice(0, i, merged);
    this.#outOffset = 0;
    return merged;
  }

  // Close after end(); after shutdown(), linger: FIN, then drop what the
  // peer still sends until its EOF (or a timeout, or the shutdown deadline).
  #finish(): void {
    const conn = this.#conn;
    if (conn !== null) {
      if (!this.#linger || this.#eof || this.#lingering) {
        if (conn.bufferedAmount === 0) this.close();
        else conn.end(); // onclose closes this Message
        return;
      }
      this.#lingering = true;
      conn.shutdownWrite();
      this.#updateMask();
      return;
    }
    if (!this.#linger || this.#eof || this.#lingering) {
      this.close();
      return;
    }
    this.#lingering = true;
    this.#closeWhenFlushed = false;
    try {
      this.sock.shutdown(SHUT_WR);
    } catch {
      this.close();
      return;
    }
    this.#updateMask();
  }

  #discard(): void {
    for (let i = 0; i < MAX_READS_PER_EVENT; i++) {
      const n = this.sock.recvInto(scratch);
      if (n === null) return;
      if (n === 0) {
        this.close();
        return;
      }
      this.#active = true;
    }
  }

  #takeTurn(): void {
    this.#turn = false;
    this.onTurn();
    this.#updateMask();
  }

  #updateMask(): void {
    if (this.#closed) return;
    const conn = this.#conn;
    if (conn !== null) {
      const waiting = this.#pendingIn !== null || this.#pendingEof;
      if (this.#lingering || (this.#readable() && !waiting)) {
        if (conn.isPaused) conn.resume();
      } else if (this.#readable()) {
        // Hand over what waits first (in a turn of its own), then receive again.
        if (!this.#replayQueued) {
          this.#replayQueued = true;
          (this.selector as Proactor).defer(this.#onReplay);
        }
      } else if (this.#readPaused && !conn.isPaused) {
        conn.pause();
      }
      return;
    }
    let mask = 0;
    if ((!this.#inputDone && !this.#readPaused && !this.#held) || this.#lingering) mask |= EVENT_READ;
    if (this.#outBytes > 0 || !this.#writable || this.#turn) mask |= EVENT_WRITE;
    this.#setMask(mask);
  }

  // Mask 0 (nothing to read, nothing to write: e.g. waiting for an
  // asynchronous reply) means unregistered, so a level-triggered READ
  // cannot spin the loop while we are not reading.
  #setMask(mask: number): void {
    if (mask === this.#mask || this.#closed) return;
    if (this.#conn !== null) {
      // Completion mode: 'r' reads, 'w' alone holds reading.
      this.holdReading((mask & EVENT_READ) === 0);
      return;
    }
    const selector = this.selector as BaseSelector<unknown>;
    if (mask === 0) selector.unregister(this.sock);
    else if (this.#mask === 0) selector.register(this.sock, mask, this);
    else selector.modify(this.sock, mask, this);
    this.#mask = mask;
  }
}
