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
import { printListening } from './raw-loop.js';

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
      if (!(err instanceof SyscallError && err.code === 'ECONNABORTED')) throw err;
    }
  }
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
 * served), hand each accepted one to `handOff`, until Ctrl-C aborts
 * `signal`; then close the listening socket and run `stop` (end the
 * children or workers).
 */
export async function acceptAndHandOff(
  host: string,
  port: number,
  backlog: number,
  signal: AbortSignal,
  handOff: (conn: Socket, addr: SocketAddress) => void,
  stop: () => Promise<void>,
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
    while (!signal.aborted) {
      try {
        // A connection is waiting (or Ctrl-C: AbortError).
        await sel.selectAsync(null, { signal });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      for (let accepted = acceptReady(server); accepted !== null; accepted = acceptReady(server)) handOff(...accepted);
    }
  } finally {
    sel.close();
    server.close();
    await stop();
  }
}
