/**
 * `ServerMessage`: the server side of Real Python's JSON-header app
 * protocol (libserver.py), as a Message.
 */

import { CodedError, invalidArgType, outOfRange, ProtocolError } from '../errors.js';
import type { Socket, SocketAddress } from '../socket/index.js';

import {
  createResponse, encodeMessage, FrameParser, type Frame, type FrameParserOptions, type JsonStyle, type MessageSpec,
} from '../protocol/index.js';
import { Message, TIMEOUT_BETWEEN, TIMEOUT_BUSY, type MessageEvents, type MessageLoop, type MessageOptions } from './message.js';

/** Events of a {@link ServerMessage}. */
export type ServerMessageEvents = MessageEvents & {
  /** A request arrived, decoded. */
  request: (request: Frame) => void;
  /** A response is being sent: what it says and its encoded frame. */
  response: (response: MessageSpec, frame: Buffer) => void;
};

/**
 * Makes the response to a request; `null`/`undefined` means "later": take
 * a handle with {@link ServerMessage.defer} (or call
 * {@link ServerMessage.respond}) and answer when the answer is ready.
 */
export type Responder = (request: Frame, message: ServerMessage) => MessageSpec | null | undefined;

/**
 * Answers one request, whenever it is ready (from {@link ServerMessage.defer}).
 * @throws {ProtocolError} if the response cannot be encoded.
 */
export type Reply = (response: MessageSpec) => void;

/** Options of a {@link ServerMessage}. */
export interface ServerMessageOptions extends MessageOptions, FrameParserOptions {
  /**
   * Serve many requests (pipelined or not) on the connection, answering in
   * order, until the client closes it. Default false: like app-server.py,
   * close after the reply (requests that arrived together with the first
   * one are answered too, never silently dropped).
   */
  keepAlive?: boolean;
  /** The response logic; default libserver.py's ({@link createResponse}). */
  respond?: Responder;
  /** JSON formatting of what is sent; default `'python'` (byte-identical to the Python server). */
  json?: JsonStyle;
  /**
   * Requests received and not yet answered, at most (default 32): at the
   * bound the Message stops parsing and reading until an answer goes out.
   */
  maxPendingRequests?: number;
}

const DEFAULT_MAX_PENDING = 32;
// Frames parsed for one connection before the others get a turn.
const FRAMES_PER_TURN = 64;
const EMPTY = Buffer.alloc(0);

/**
 * One server connection of the app protocol: parse request frames, answer
 * each through the responder, close after the reply (or keep serving with
 * `keepAlive`). Answers go out in request order, whatever order they are
 * produced in. Malformed input is a ProtocolError: 'error', then 'close',
 * for this connection only.
 */
export class ServerMessage extends Message<ServerMessageEvents> {
  readonly #parser: FrameParser;
  readonly #keepAlive: boolean;
  readonly #respond: Responder;
  readonly #json: JsonStyle;
  readonly #maxPending: number;
  #requests = 0;
  #responses = 0;
  #unsolicited = 0;
  #parsing = false;
  #stopped = false;
  #sinceTurn = 0;
  #peerDone = false;
  #draining = false;
  #current = -1;
  // Answers produced ahead of an earlier request's, by sequence number.
  #ready: Map<number, [MessageSpec, Buffer]> | null = null;
  // Requests whose answer was handed to a defer() handle.
  #claimed: Set<number> | null = null;

  /**
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-function `respond`.
   * @throws {RangeError} for bad limits or water marks.
   * @throws {KeyError} `ERR_FD_ALREADY_REGISTERED` if the socket is already registered.
   */
  constructor(selector: MessageLoop, sock: Socket, addr: SocketAddress, options: ServerMessageOptions = {}) {
    const respond = options.respond ?? createResponse;
    if (typeof respond !== 'function') throw invalidArgType('respond', 'a function', respond);
    const maxPending = options.maxPendingRequests ?? DEFAULT_MAX_PENDING;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw outOfRange('maxPendingRequests', 'an integer >= 1', maxPending);
    const parser = new FrameParser(options);
    super(selector, sock, addr, options);
    this.#parser = parser;
    this.#keepAlive = options.keepAlive ?? false;
    this.#respond = respond;
    this.#json = options.json ?? 'python';
    this.#maxPending = maxPending;
  }

  /** Requests received so far. */
  get requests(): number { return this.#requests; }

  /** Responses sent (or queued) so far. */
  get responses(): number { return this.#responses + this.#unsolicited; }

  /** Requests received and not yet answered. */
  get pendingRequests(): number { return this.#requests - this.#responses; }

  /** Bytes received and not yet parsed into requests (at most about one read while paused). */
  get bufferedInput(): number { return this.#parser.bufferedLength; }

  /** Whether this connection serves many requests. */
  get keepAlive(): boolean { return this.#keepAlive; }

  /**
   * Inside the responder: take over the answer to the request being
   * handled, and return `null` from the responder. Call the returned
   * function once, whenever the answer is ready; answers still go out in
   * request order (a later request answered first waits for this one).
   * Later calls of the handle, or calls after the connection closed, do nothing.
   * @throws {Error} `ERR_NO_CURRENT_REQUEST` outside a responder call.
   */
  defer(): Reply {
    const seq = this.#current;
    if (seq < 0) throw new CodedError('ERR_NO_CURRENT_REQUEST', 'defer() must be called while the responder handles a request.');
    (this.#claimed ??= new Set()).add(seq);
    return (response) => {
      if (this.#claimed?.delete(seq) === true) this.#answer(seq, response);
    };
  }

  /**
   * Answer the oldest request still waiting for an answer that was not
   * taken over by {@link ServerMessage.defer} (for a responder that
   * answered "later"). Answers go out in request order. With no request
   * waiting, the response is sent at once. Without keep-alive the
   * connection closes once every request received is answered.
   * @throws {ProtocolError} if the response cannot be encoded.
   */
  respond(response: MessageSpec): void {
    if (this.closed) return;
    let seq = this.#responses;
    while (seq < this.#requests && (this.#ready?.has(seq) === true || this.#claimed?.has(seq) === true)) seq++;
    if (seq < this.#requests) {
      this.#answer(seq, response);
      return;
    }
    const frame = encodeMessage({ ...response, json: this.#json });
    this.#unsolicited++;
    this.emit('response', response, frame);
    this.write(frame);
  }

  /** Answer what was received, then close (MessageServer.shutdown). */
  protected override onShutdown(): void {
    this.#draining = true;
    this.stopReading();
    this.#maybeFinish();
  }

  /** As {@link Message.processEvents}; each call may parse up to 64 requests. */
  override processEvents(mask: number): void {
    this.#sinceTurn = 0;
    super.processEvents(mask);
  }

  protected override onData(chunk: Buffer): void {
    // The parser may keep the chunk (a partial frame, binary content), and
    // the receive buffer is reused: copy.
    this.#parse(Buffer.from(chunk));
  }

  protected override onEnd(): void {
    // The client finished sending: close once every request it sent is
    // answered (responses given later, from a timer, still go out).
    this.#peerDone = true;
    if (!this.#stopped) this.#parser.end();
    this.#maybeFinish();
  }

  protected override onTurn(): void {
    // On the completion engine there is no processEvents: a turn (which
    // comes once the kernel took our output) is the new allowance.
    if (this.engine === 'uring') this.#sinceTurn = 0;
    if (this.#stopped && this.pendingRequests < this.#maxPending) this.#resume();
  }

  protected override timeoutState(): number {
    if (this.#requests > this.#responses) return TIMEOUT_BUSY;
    return this.#parser.inFrame ? this.#requests : TIMEOUT_BETWEEN;
  }

  // Parse what is buffered (plus chunk), stopping at the pending bound or
  // after FRAMES_PER_TURN frames; reading is held while stopped.
  #parse(chunk: Buffer): void {
    this.#stopped = false;
    this.#parsing = true;
    try {
      this.#parser.push(chunk, this.#onFrame);
      if (!this.#stopped && this.#peerDone) this.#parser.end();
    } catch (err) {
      this.fail(err);
      return;
    } finally {
      this.#parsing = false;
    }
    if (this.closed) return;
    this.holdReading(this.#stopped);
    if (this.#stopped && this.pendingRequests < this.#maxPending) this.requestTurn();
    this.#maybeFinish();
  }

  readonly #onFrame = (frame: Frame): boolean => {
    if (this.closed) return false;
    const seq = this.#requests++;
    this.emit('request', frame);
    if (this.closed) return false;
    this.#current = seq;
    let response: MessageSpec | null | undefined;
    try {
      response = this.#respond(frame, this);
    } finally {
      this.#current = -1;
    }
    if (response !== null && response !== undefined) {
      this.#claimed?.delete(seq);
      this.#answer(seq, response);
    }
    if (this.closed) return false;
    // Output above the high-water mark stops parsing too, not just reading:
    // the rest of a read could hold many requests, each with a big answer.
    if (this.#requests - this.#responses >= this.#maxPending || ++this.#sinceTurn >= FRAMES_PER_TURN || this.readPaused) {
      this.#stopped = true;
      return false;
    }
    return true;
  };

  #answer(seq: number, response: MessageSpec): void {
    if (this.closed) return;
    const frame = encodeMessage({ ...response, json: this.#json });
    if (seq !== this.#responses) {
      (this.#ready ??= new Map()).set(seq, [response, frame]);
      return;
    }
    this.#send(response, frame);
    const ready = this.#ready;
    if (ready !== null) {
      for (let next = ready.get(this.#responses); next !== undefined; next = ready.get(this.#responses)) {
        ready.delete(this.#responses);
        this.#send(next[0], next[1]);
      }
    }
    // While a read is being parsed, every request it completes is answered
    // before the connection may finish.
    if (this.#parsing || this.closed) return;
    if (this.#stopped && this.pendingRequests < this.#maxPending) this.#resume();
    else this.#maybeFinish();
  }

  // Parse what is buffered, unless output is still above the high-water
  // mark: then wait for another turn (it comes with writability, as the
  // queue drains; a peer that never reads never gives one).
  #resume(): void {
    if (this.readPaused) this.requestTurn();
    else this.#parse(EMPTY);
  }

  #send(response: MessageSpec, frame: Buffer): void {
    this.#responses++;
    this.emit('response', response, frame);
    this.write(frame);
  }

  #maybeFinish(): void {
    if (this.closed) return;
    const answered = this.#responses >= this.#requests && !this.#stopped;
    if (this.#draining || this.#peerDone) {
      if (answered) this.end();
      return;
    }
    if (this.#keepAlive || this.#requests === 0) return;
    // One request per connection: read no more, close once answered.
    this.stopReading();
    if (answered) this.end();
  }
}

/** @internal A protocol error for a connection that closed with replies outstanding. */
export function truncatedError(outstanding: number): ProtocolError {
  return new ProtocolError('ERR_PROTOCOL_TRUNCATED', `Connection closed with ${outstanding} response(s) outstanding.`);
}
