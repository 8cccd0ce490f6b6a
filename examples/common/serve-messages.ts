/**
 * The part app-server and multiconn-server (seed 002) share: a
 * MessageServer on `host:port` with the `--backend` selector, the
 * `--backlog`, the limits (`--idle-timeout`, `--request-timeout`,
 * `--max-connections`), its "listening on" line, `--trace` lines, and the
 * loop — Python's blocking `select()` by default, Node's loop with
 * `--async` — until Ctrl-C. The first Ctrl-C (or SIGTERM) shuts down
 * gracefully: no new connections, every request received is answered,
 * then exit (at most `--shutdown-timeout` seconds); a second one closes
 * everything at once. `--workers N` runs N such loops, one per worker
 * thread, each with its own SO_REUSEPORT listener on the port: the
 * programs export the function that makes their Messages, and each worker
 * imports it (a thread cannot receive a function).
 */

import {
  KeyboardInterrupt, MessageServer, MessageServerWorkers, formatAddress, type Message, type MessageEngine, type MessageFactory,
  type WorkerFactoryModule,
} from '../../lib/index.js';
import { Proactor } from '../../lib/uring/index.js';
import { engineNotice, type ProgramContext, type ProgramSpec } from './program.js';
import { printListening } from './raw-loop.js';

/** The flags of the limits, for a program's `options`. */
export const LIMIT_OPTIONS: NonNullable<ProgramSpec['options']> = {
  'idle-timeout': { type: 'string', help: 'close a connection silent both ways for this many seconds (default 60; 0: never)' },
  'request-timeout': { type: 'string', help: 'close a connection whose request is not complete after this many seconds (default 30; 0: never)' },
  'max-connections': { type: 'string', help: 'accept and close at once connections beyond this many (default 10000)' },
  'shutdown-timeout': { type: 'string', help: 'on Ctrl-C, seconds to finish the requests in flight before closing them (default 10)' },
};

/** `--workers N`, for a program's `options`. */
export const WORKERS_OPTION: NonNullable<ProgramSpec['options']> = {
  workers: { type: 'string', help: 'run N loops, one per worker thread, each with its own SO_REUSEPORT listener on the port (default 1)' },
};

function seconds(ctx: ProgramContext, flag: string, fallback: number): number {
  const text = ctx.flags[flag];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !(n >= 0)) ctx.usageError(`invalid --${flag} '${String(text)}'`);
  return n;
}

/**
 * Listen on `host:port`, give every accepted connection the Message that
 * `createMessage` makes, and serve until Ctrl-C (a KeyboardInterrupt out
 * of the blocking select(), or SIGINT/SIGTERM with `--async`), then shut
 * down gracefully.
 * @throws {SyscallError} EADDRINUSE, EACCES... from bind/listen (nothing is left open).
 * @throws {KeyboardInterrupt} Ctrl-C in the blocking loop (after everything is closed).
 */
export function serveMessages(
  ctx: ProgramContext, host: string, port: number, factory: WorkerFactoryModule, createMessage: MessageFactory,
): void | Promise<void> {
  const idleTimeout = seconds(ctx, 'idle-timeout', 60) * 1000;
  const requestTimeout = seconds(ctx, 'request-timeout', 30) * 1000;
  const maxConnections = seconds(ctx, 'max-connections', 10_000);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) ctx.usageError(`invalid --max-connections '${String(ctx.flags['max-connections'])}'`);
  const shutdownMs = seconds(ctx, 'shutdown-timeout', 10) * 1000;
  const workers = seconds(ctx, 'workers', 1);
  if (!Number.isInteger(workers) || workers < 1) ctx.usageError(`invalid --workers '${String(ctx.flags.workers)}'`);
  if (workers > 1) {
    if (ctx.flags.backend !== undefined || ctx.flags.trace === true) ctx.usageError('--workers runs the default loop in every worker: no --backend or --trace');
    const limits = { backlog: ctx.backlog(128), idleTimeout, requestTimeout, maxConnections, engine: ctx.engine };
    return serveWithWorkers(host, port, workers, factory, limits, shutdownMs);
  }
  // --engine uring: the server makes its own Proactor (and closes it).
  const selector = ctx.engine === 'uring' ? undefined : ctx.selector();
  let server: MessageServer;
  try {
    server = new MessageServer([host, port], {
      createMessage, selector, engine: ctx.engine, backlog: ctx.backlog(128), idleTimeout, requestTimeout, maxConnections,
    });
  } catch (err) {
    selector?.close();
    throw err;
  }
  // The server leaves a selector it was given open: close both.
  const close = (): void => {
    server.close();
    selector?.close();
  };
  printListening(server.socket, host);
  // A connection refused (too many open, or an fd select() cannot watch): one line each, even with --quiet.
  server.on('rejected', (err, addr) => console.log(`refused connection from ${formatAddress(addr)}: ${err.message}`));
  // Out of fds: the server pauses accepting (and retries); say so in one line, at most every 10 s.
  let lastPauseLine = -Infinity;
  server.on('acceptPaused', (err) => {
    if (performance.now() - lastPauseLine < 10_000) return;
    lastPauseLine = performance.now();
    console.log(`out of file descriptors (${err.code}): pausing accept, retrying every 100 ms`);
  });
  if (ctx.flags.trace === true) {
    if (server.selector instanceof Proactor) {
      // No readiness events to show: the kernel completes the I/O. One
      // line says on what, and one per connection accepted.
      console.log(engineNotice(server.selector));
      server.on('connection', (m) => console.log(`trace: accepted fd ${m.sock.fileno()} ${formatAddress(m.addr)}`));
    } else {
      server.on('dispatch', (key, mask) => ctx.trace(key, mask, key.data === server ? 'listening socket' : (key.data as Message).addr));
    }
  }
  if (ctx.flags.async === true) {
    // Wait in Node's loop. The first signal drains, the second stops the loop.
    const stop = new AbortController();
    let signals = 0;
    const onSignal = (): void => {
      if (++signals === 1) void server.shutdown(shutdownMs).then(() => stop.abort());
      else stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return server.run({ signal: stop.signal }).finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      close();
    });
  }
  try {
    // Python's loop: a blocking select(); Ctrl-C ends it with KeyboardInterrupt.
    server.serveForever();
  } catch (err) {
    if (!(err instanceof KeyboardInterrupt) || server.closed) throw err;
    // Drain; a second Ctrl-C ends this loop too, and everything is closed.
    void server.shutdown(shutdownMs);
    server.serveForever();
    throw err;
  } finally {
    close();
  }
}

/**
 * `--workers N`: N MessageServers in worker threads on one port. The main
 * thread only waits in Node's loop for the signals: the first Ctrl-C (or
 * SIGTERM) drains every worker, a second closes them at once; it returns
 * when every thread has ended.
 */
async function serveWithWorkers(
  host: string, port: number, workers: number, factory: WorkerFactoryModule,
  limits: { backlog: number; idleTimeout: number; requestTimeout: number; maxConnections: number; engine: MessageEngine }, shutdownMs: number,
): Promise<void> {
  const group = new MessageServerWorkers([host, port], { workers, createMessage: factory, ...limits });
  // A worker that fails (after all listened) is reported; the others serve on.
  group.on('error', (err, index) => console.log(`worker ${index} failed: ${err.message}`));
  let signals = 0;
  const onSignal = (): void => {
    if (++signals === 1) void group.shutdown(shutdownMs);
    else void group.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const address = await group.ready;
    console.log('listening on', formatAddress([host, (address as [string, number])[1]]));
    await group.closed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await group.close();
  }
}
