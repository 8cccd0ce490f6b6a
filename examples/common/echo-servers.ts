/**
 * Helpers shared by the echo servers of seed 002 (echo-server) and seed
 * 004 (the server models: single-process, multi-process, multi-thread,
 * non-blocking, select, epoll): opening the listening socket, accepting on
 * a socket the loop said is ready, the blocking "serve one client until it
 * hangs up" loop that the single-process server runs itself and the
 * multi-process/multi-thread servers run in a child process or a worker
 * thread, and the parent loop that hands connections to those.
 */

import {
  DefaultSelector,
  EVENT_READ,
  SyscallError,
  createServer,
  familyOf,
  formatAddress,
  pythonRepr,
  type Socket,
  type SocketAddress,
} from '../../lib/index.js';
import { setTimeout as delay } from 'node:timers/promises';
import { AcceptPause, printListening } from './raw-loop.js';

/**
 * Open a listening TCP socket on `host:port` with the library's
 * `createServer` (SO_REUSEADDR, as the seeds do, so a restarted server
 * does not fail on connections in TIME_WAIT), print `listening on (host,
 * port)` with the port the kernel chose, and return it. The socket is
 * closed again if bind or listen fails.
 * @throws {SyscallError} EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND (bad host)...
 */
export function listenTcp(host: string, port: number, backlog: number): Socket {
  const sock = createServer([host, port], { family: familyOf([host, port]), backlog });
  printListening(sock, host);
  return sock;
}

// accept(2) errors that concern one connection (reset before it was taken,
// or refused by a firewall rule), not the listening socket: skip it.
const SKIPPED_ACCEPT_ERRORS = new Set(['ECONNABORTED', 'EPROTO', 'EPERM']);

/**
 * accept() on a listening socket that select()/poll()/epoll said is ready.
 * A non-blocking socket with nobody waiting gives `null`; a client that
 * gave up between the readiness event and the call (ECONNABORTED) is
 * skipped, not treated as a server failure.
 * @throws {SyscallError} EMFILE (out of fds) and other real failures.
 */
export function acceptReady(sock: Socket): [Socket, SocketAddress] | null {
  for (;;) {
    try {
      return sock.accept();
    } catch (err) {
      if (!(err instanceof SyscallError && SKIPPED_ACCEPT_ERRORS.has(err.code))) throw err;
    }
  }
}

/**
 * The most connections a loop accepts for one readiness event of the
 * listening socket: the connections already open get their turn before
 * more are taken (a level-triggered loop is told again about the rest).
 */
export const MAX_ACCEPTS_PER_PASS = 64;

/**
 * Accept what is pending on a ready, non-blocking listening socket, until
 * accept() would block, {@link MAX_ACCEPTS_PER_PASS}, or `full()` says
 * there is no room for another, handing each connection to `take`. Out of fds (EMFILE & co) it starts `pause` (one
 * line is printed) and returns false: the caller must stop watching the
 * listening socket until `pause.due()`.
 * @returns true, or false when accepting is paused.
 * @throws {SyscallError} accept() failures other than running out of fds.
 */
export function acceptPending(
  sock: Socket,
  pause: AcceptPause,
  take: (conn: Socket, addr: SocketAddress) => void,
  full: () => boolean = () => false,
): boolean {
  for (let n = 0; n < MAX_ACCEPTS_PER_PASS && !full(); n++) {
    let accepted: [Socket, SocketAddress] | null;
    try {
      accepted = acceptReady(sock);
    } catch (err) {
      if (err instanceof SyscallError && pause.failed(err)) return false;
      throw err;
    }
    if (accepted === null) break;
    pause.accepted();
    take(...accepted);
  }
  return true;
}

/** Where the per-client lines of {@link serveClient} go (`ctx.log`, or a prefixed logger). */
export type LineWriter = (...parts: unknown[]) => void;

/**
 * Serve one connected client with blocking calls: `recv(1024)` until it
 * returns no bytes (the client closed its end — how the seed's servers
 * tell that a client went away), sending each chunk back with sendall().
 * The socket is closed on return (unless `close` is false: the caller owns
 * it, as the multi-thread server's main thread does). A connection that fails (ECONNRESET,
 * EPIPE) ends only this client and is returned; anything else —
 * KeyboardInterrupt included — propagates after the socket is closed.
 * @returns null when the client hung up normally, else the error that ended the connection.
 */
export function serveClient(sock: Socket, addr: SocketAddress, log: LineWriter, close = true): SyscallError | null {
  const peer = formatAddress(addr);
  try {
    for (;;) {
      const data = sock.recv(1024); // a blocking socket: never null
      if (data === null || data.length === 0) {
        log('client', peer, 'closed');
        return null;
      }
      log('received', pythonRepr(data), 'from', peer);
      sock.sendall(data);
    }
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    return err;
  } finally {
    if (close) sock.close();
  }
}

/**
 * The parent loop of the process- and thread-per-connection servers: listen,
 * wait in Node's loop for connections (so children and workers keep being
 * served), hand each accepted one to `handOff` (up to 64 per wake-up),
 * until Ctrl-C aborts `signal`; then close the listening socket and run
 * `stop` (end the children or workers). Out of fds (EMFILE), the listening
 * socket is unregistered for a short pause (one line is printed), then
 * watched again; `handOff` gets the pause too, to start one when it fails
 * for lack of fds itself (a worker thread needs fds of its own). While
 * `full()` says so, the listening socket is not watched either (checked
 * every 50 ms): new clients wait in the kernel's backlog.
 */
export async function acceptAndHandOff(
  host: string,
  port: number,
  backlog: number,
  signal: AbortSignal,
  handOff: (conn: Socket, addr: SocketAddress, pause: AcceptPause) => void,
  stop: () => Promise<void>,
  full: () => boolean = () => false,
): Promise<void> {
  const sel = new DefaultSelector();
  let server: Socket;
  try {
    server = listenTcp(host, port, backlog);
  } catch (err) {
    sel.close();
    throw err;
  }
  try {
    server.setblocking(false);
    sel.register(server, EVENT_READ);
    let watching = true;
    const pause = new AcceptPause();
    while (!signal.aborted) {
      try {
        pause.due();
        if (pause.paused || full()) {
          // Out of fds, or at capacity: stop watching the socket, wait a little (or Ctrl-C).
          if (watching) sel.unregister(server);
          watching = false;
          await delay(pause.paused ? Math.ceil((pause.timeout(null) ?? 0) * 1000) : 50, undefined, { signal });
          continue;
        }
        if (!watching) sel.register(server, EVENT_READ);
        watching = true;
        // A connection is waiting (or Ctrl-C: AbortError).
        await sel.selectAsync(null, { signal });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      acceptPending(server, pause, (conn, addr) => handOff(conn, addr, pause), () => pause.paused || full());
    }
  } finally {
    sel.close();
    server.close();
    await stop();
  }
}
