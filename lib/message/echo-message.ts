/**
 * `EchoMessage`: the echo protocol of Real Python's multiconn programs, as
 * a Message. Server side: every byte received is sent back. Client side:
 * send some messages, read until as many bytes came back, close.
 */

import { invalidArgType } from '../errors.js';
import type { Socket, SocketAddress } from '../socket/index.js';

import { Message, type MessageEvents, type MessageLoop, type MessageOptions } from './message.js';

/** Events of an {@link EchoMessage}. */
export type EchoMessageEvents = MessageEvents & {
  /** Bytes received (a copy; only made when someone listens). */
  data: (chunk: Buffer) => void;
  /** Client side: a message is about to be sent. */
  send: (message: Buffer) => void;
};

/** Options of an {@link EchoMessage}. */
export interface EchoMessageOptions extends MessageOptions {
  /**
   * Client side: the messages to send once connected (strings are UTF-8).
   * The connection closes when as many bytes have come back (or at EOF).
   * Without it the Message is the server side and echoes what it gets.
   */
  messages?: Array<Uint8Array | string>;
}

/**
 * The echo protocol over one connection (multiconn-server.py's
 * `service_connection`, multiconn-client.py's per-connection state).
 */
export class EchoMessage extends Message<EchoMessageEvents> {
  readonly #messages: Buffer[] | null;
  /** Client side: bytes sent so far. */
  bytesSent = 0;
  /** Bytes received so far. */
  bytesReceived = 0;
  readonly #total: number;
  // Whether a 'data' listener was ever added. Looking the listeners up on
  // every read costs a probe of the emitter's listener table (a dictionary
  // object per connection: a cache miss each at 1,000 connections, 3% of
  // the server's CPU); an echo server that never listens skips it.
  #dataWanted = false;

  /**
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if a message is not bytes or a string.
   * @throws {KeyError} `ERR_FD_ALREADY_REGISTERED` if the socket is already registered.
   */
  constructor(selector: MessageLoop, sock: Socket, addr: SocketAddress, options: EchoMessageOptions = {}) {
    const messages = options.messages?.map((m, i) => {
      if (typeof m === 'string') return Buffer.from(m);
      if (m instanceof Uint8Array) return Buffer.from(m);
      throw invalidArgType(`messages[${i}]`, 'a Buffer, Uint8Array or string', m);
    }) ?? null;
    super(selector, sock, addr, options, messages !== null);
    this.#messages = messages;
    this.#total = messages?.reduce((n, m) => n + m.byteLength, 0) ?? 0;
  }

  /** Whether this is the client side. */
  get isClient(): boolean {
    return this.#messages !== null;
  }

  /** Client side: total bytes the messages add up to. */
  get expectedBytes(): number { return this.#total; }

  // once() and prependOnceListener() add through on() and prependListener().
  /** EventEmitter's `on` (a 'data' listener turns the copies on). */
  override on<K extends keyof EchoMessageEvents>(event: K, listener: EchoMessageEvents[K]): this {
    if (event === 'data') this.#dataWanted = true;
    return super.on(event, listener);
  }

  /** EventEmitter's `addListener` (a 'data' listener turns the copies on). */
  override addListener<K extends keyof EchoMessageEvents>(event: K, listener: EchoMessageEvents[K]): this {
    if (event === 'data') this.#dataWanted = true;
    return super.addListener(event, listener);
  }

  /** EventEmitter's `prependListener` (a 'data' listener turns the copies on). */
  override prependListener<K extends keyof EchoMessageEvents>(event: K, listener: EchoMessageEvents[K]): this {
    if (event === 'data') this.#dataWanted = true;
    return super.prependListener(event, listener);
  }

  protected override onWritable(): void {
    const messages = this.#messages;
    if (messages === null) return;
    for (const m of messages) {
      this.emit('send', m);
      this.bytesSent += m.byteLength;
      this.write(m);
    }
    if (this.#total === 0) this.end();
  }

  protected override onData(chunk: Buffer): void {
    this.bytesReceived += chunk.byteLength;
    if (this.#dataWanted && this.listenerCount('data') > 0) this.emit('data', Buffer.from(chunk));
    if (this.closed) return;
    if (this.#messages === null) this.write(chunk);
    else if (this.bytesReceived >= this.#total) this.close();
  }
}
