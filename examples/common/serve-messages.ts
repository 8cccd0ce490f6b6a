/**
 * The part app-server and multiconn-server (seed 002) share: a
 * MessageServer on `host:port` with the `--backend` selector and the
 * `--backlog`, its "listening on" line, `--trace` lines, and the loop —
 * Python's blocking `select()` by default, Node's loop with `--async` —
 * until Ctrl-C, after which every connection is closed.
 */

import { MessageServer, type Message, type MessageFactory } from '../../lib/index.js';
import type { ProgramContext } from './program.js';
import { printListening } from './raw-loop.js';

/**
 * Listen on `host:port`, give every accepted connection the Message that
 * `createMessage` makes, and serve until Ctrl-C (a KeyboardInterrupt out
 * of the blocking select(), or `ctx.signal` with `--async`).
 * @throws {SyscallError} EADDRINUSE, EACCES... from bind/listen (nothing is left open).
 * @throws {KeyboardInterrupt} Ctrl-C in the blocking loop (after everything is closed).
 */
export function serveMessages(ctx: ProgramContext, host: string, port: number, createMessage: MessageFactory): void | Promise<void> {
  const selector = ctx.selector();
  let server: MessageServer;
  try {
    server = new MessageServer([host, port], { createMessage, selector, backlog: ctx.backlog(128) });
  } catch (err) {
    selector.close();
    throw err;
  }
  // The server leaves a selector it was given open: close both.
  const close = (): void => {
    server.close();
    selector.close();
  };
  printListening(server.socket, host);
  if (ctx.flags.trace === true) {
    server.on('dispatch', (key, mask) => ctx.trace(key, mask, key.data === server ? 'listening socket' : (key.data as Message).addr));
  }
  if (ctx.flags.async === true) {
    // Wait in Node's loop: Ctrl-C aborts ctx.signal, which ends run().
    return server.run({ signal: ctx.signal }).finally(close);
  }
  try {
    // Python's loop: a blocking select(); Ctrl-C ends it with KeyboardInterrupt.
    server.serveForever();
  } finally {
    close();
  }
}
