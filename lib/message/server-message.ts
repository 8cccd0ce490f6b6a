/**
 * `ServerMessage`: the server side of Real Python's JSON-header app
 * protocol (libserver.py), as a Message.
 */

import { invalidArgType, ProtocolError } from '../errors.js';
import type { Socket, SocketAddress } from '../socket/index.js';
import type { BaseSelector } from '../../selectors/index.js';
import {
  createResponse, encodeMessage, FrameParser, type Frame, type FrameParserOptions, type JsonStyle, type MessageSpec,
} from '../protocol/index.js';
import { Message, type MessageEvents, type MessageOptions } from './message.js';

/** Events of a {@link ServerMessage}. */
export type ServerMessageEvents = MessageEvents & {
  /** A request arrived, decoded. */
  request: (request: Frame) => void;
  /** A response is being sent: what it says and its encoded frame. */
  response: (response: MessageSpec, frame: Buffer) => void;
};

/**
 * Makes the response to a request; `null`/`undefined` means "later": call
 * {@link ServerMessage.respond} when it is ready.
 */
export type Responder = (request: Frame, message: ServerMessage) => MessageSpec | null | undefined;

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
}

/**
 * One server connection of the app protocol: parse request frames, answer
 * each through the responder, close after the reply (or keep serving with
 * `keepAlive`). Malformed input is a ProtocolError: 'error', then 'close',
 * for this connection only.
 */
export class ServerMessage extends Message<ServerMessageEvents> {
  readonly #parser: FrameParser;
  readonly #keepAlive: boolean;
  readonly #respond: Responder;
  readonly #json: JsonStyle;
  #requests = 0;
  #responses = 0;
  #parsing = false;
  #peerDone = false;

  /**
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-function `respond`.
   * @throws {RangeError} for bad limits or water marks.
   * @throws {KeyError} `ERR_FD_ALREADY_REGISTERED` if the socket is already registered.
   */
  constructor(selector: BaseSelector<unknown>, sock: Socket, addr: SocketAddress, options: ServerMessageOptions = {}) {
    const respond = options.respond ?? createResponse;
    if (typeof respond !== 'function') throw invalidArgType('respond', 'a function', respond);
    const parser = new FrameParser(options);
    super(selector, sock, addr, options);
    this.#parser = parser;
    this.#keepAlive = options.keepAlive ?? false;
    this.#respond = respond;
    this.#json = options.json ?? 'python';
  }

  /** Requests received so far. */
  get requests(): number { return this.#requests; }

  /** Responses sent (or queued) so far. */
  get responses(): number { return this.#responses; }

  /** Whether this connection serves many requests. */
  get keepAlive(): boolean { return this.#keepAlive; }

  /**
   * Send a response (for a responder that answered "later"). Responses go
   * out in the order respond() is called. Without keep-alive the
   * connection closes once the responses to every request received are sent.
   * @throws {ProtocolError} if the response cannot be encoded.
   */
  respond(response: MessageSpec): void {
    if (this.closed) return;
    const frame = encodeMessage({ ...response, json: this.#json });
    this.#responses++;
    this.emit('response', response, frame);
    this.write(frame);
    // While a read is being parsed, every request it completes is answered
    // before the connection may finish.
    if (!this.#parsing) this.#maybeFinish();
  }

  protected override onData(chunk: Buffer): void {
    // The parser may keep the chunk (a partial frame, binary content), and
    // the receive buffer is reused: copy.
    this.#parsing = true;
    try {
      this.#parser.push(Buffer.from(chunk), this.#onFrame);
    } finally {
      this.#parsing = false;
    }
    this.#maybeFinish();
  }

  protected override onEnd(): void {
    this.#parser.end();
    // The client finished sending: close once every request it sent is
    // answered (responses given later, from a timer, still go out).
    this.#peerDone = true;
    if (this.#responses >= this.#requests) this.end();
  }

  readonly #onFrame = (frame: Frame): void => {
    if (this.closed) return;
    this.#requests++;
    this.emit('request', frame);
    if (this.closed) return;
    const response = this.#respond(frame, this);
    if (response !== null && response !== undefined) this.respond(response);
  };

  #maybeFinish(): void {
    if (this.closed) return;
    if (this.#keepAlive) {
      if (this.#peerDone && this.#responses >= this.#requests) this.end();
      return;
    }
    if (this.#requests === 0) return;
    // One request per connection: read no more, close once answered.
    this.stopReading();
    if (this.#responses >= this.#requests) this.end();
  }
}

/** @internal A protocol error for a connection that closed with replies outstanding. */
export function truncatedError(outstanding: number): ProtocolError {
  return new ProtocolError('ERR_PROTOCOL_TRUNCATED', `Connection closed with ${outstanding} response(s) outstanding.`);
}
