/**
 * `ClientMessage`: the client side of Real Python's JSON-header app
 * protocol (libclient.py), as a Message.
 */

import type { Socket, SocketAddress } from '../socket/index.js';

import { encodeMessage, FrameParser, type Frame, type FrameParserOptions, type JsonStyle, type MessageSpec } from '../protocol/index.js';
import { Message, type MessageEvents, type MessageLoop, type MessageOptions } from './message.js';
import { truncatedError } from './server-message.js';

/** Events of a {@link ClientMessage}. */
export type ClientMessageEvents = MessageEvents & {
  /** A request is being sent: what it says and its encoded frame. */
  request: (request: MessageSpec, frame: Buffer) => void;
  /** A response arrived, decoded (responses come in request order). */
  response: (response: Frame) => void;
};

/** Options of a {@link ClientMessage}. */
export interface ClientMessageOptions extends MessageOptions, FrameParserOptions {
  /**
   * Keep the connection open after every response came back, for more
   * {@link ClientMessage.request} calls (the server must keep it open too).
   * Default false: like app-client.py, close after the last response.
   */
  keepAlive?: boolean;
  /** JSON formatting of requests; default `'python'` (byte-identical to the Python client). */
  json?: JsonStyle;
}

/**
 * One client connection of the app protocol. Give it a connecting (or
 * connected) non-blocking socket and the request(s): they are sent once the
 * connection is writable, pipelined when there are several; each response
 * is a 'response' event; the connection closes after the last one (unless
 * `keepAlive`). A connection that ends early is a ProtocolError
 * `ERR_PROTOCOL_TRUNCATED`; a refused connect is the SyscallError
 * (`ECONNREFUSED`) — both as 'error', then 'close'.
 */
export class ClientMessage extends Message<ClientMessageEvents> {
  readonly #parser: FrameParser;
  readonly #keepAlive: boolean;
  readonly #json: JsonStyle;
  readonly #queued: MessageSpec[];
  #outstanding = 0;
  #started = false;

  /**
   * @throws {RangeError} for bad limits or water marks.
   * @throws {KeyError} `ERR_FD_ALREADY_REGISTERED` if the socket is already registered.
   */
  constructor(selector: MessageLoop, sock: Socket, addr: SocketAddress, requests: MessageSpec | MessageSpec[], options: ClientMessageOptions = {}) {
    const parser = new FrameParser(options);
    super(selector, sock, addr, options, true);
    this.#parser = parser;
    this.#keepAlive = options.keepAlive ?? false;
    this.#json = options.json ?? 'python';
    this.#queued = Array.isArray(requests) ? [...requests] : [requests];
  }

  /** Requests sent and not answered yet. */
  get outstanding(): number { return this.#outstanding; }

  /**
   * Send another request on this connection (keep-alive use).
   * @throws {ProtocolError} if it cannot be encoded.
   */
  request(request: MessageSpec): void {
    if (this.closed) return;
    if (!this.#started) {
      this.#queued.push(request);
      return;
    }
    this.#send(request);
  }

  protected override onWritable(): void {
    this.#started = true;
    const queued = this.#queued.splice(0);
    // Pipelined requests leave in one write, so they arrive together.
    const frames = queued.map((request) => this.#encode(request));
    if (frames.length > 0) this.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  protected override onData(chunk: Buffer): void {
    this.#parser.push(Buffer.from(chunk), this.#onFrame);
  }

  protected override onEnd(): void {
    this.#parser.end();
    if (this.#outstanding > 0) throw truncatedError(this.#outstanding);
    this.end();
  }

  #send(request: MessageSpec): void {
    this.write(this.#encode(request));
  }

  #encode(request: MessageSpec): Buffer {
    const frame = encodeMessage({ ...request, json: this.#json });
    this.#outstanding++;
    this.emit('request', request, frame);
    return frame;
  }

  readonly #onFrame = (frame: Frame): void => {
    if (this.closed) return;
    if (this.#outstanding > 0) this.#outstanding--;
    this.emit('response', frame);
    if (!this.closed && this.#outstanding === 0 && this.#queued.length === 0 && !this.#keepAlive) this.close();
  };
}
