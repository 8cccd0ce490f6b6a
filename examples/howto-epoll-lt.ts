/**
 * howto-epoll-lt — Example 3 of the epoll howto (seed 000): Example 2's
 * HTTP server with non-blocking sockets and an epoll object, so that one
 * thread serves many clients at once. Level-triggered (epoll's default).
 *
 * What it teaches: the epoll sequence — create an epoll object; register
 * the server socket for EPOLLIN (a readable server socket has a connection
 * to accept); ask `epoll.poll(1)` which fds had events (waiting at most one
 * second); act on them; change what each fd is watched for with
 * `modify()`; repeat; close the epoll object. A client socket is watched
 * for EPOLLIN until its request is complete, then for EPOLLOUT until the
 * response is sent (send() may take only part of it), then for nothing:
 * `shutdown()` makes the kernel report EPOLLHUP, which is never asked for
 * but always reported, and the socket is unregistered and closed.
 * Level-triggered: an fd is reported on every poll while it is ready, so
 * one accept() or one recv(1024) per event is enough — whatever is left
 * is reported again.
 *
 * Self-contained on purpose: its epoll loop is written out, to be read alone.
 *
 * Run:    node-selectors howto-epoll-lt                 (127.0.0.1:8080)
 *         node-selectors howto-epoll-lt --trace --backlog 128 127.0.0.1 0
 * Talk:   curl http://127.0.0.1:8080/
 *         nc 127.0.0.1 8080   (type a request line, then an empty line)
 * Flags:  --backlog N (default 1, as the howto), --trace (each event as
 *         epoll reports it: fd, peer, EPOLLIN/EPOLLOUT/EPOLLHUP), --quiet
 *
 * howto-epoll-cork (Example 5) and howto-epoll-nodelay (Example 6) run
 * this same loop with one socket option added.
 */

import {
  familyOf,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  IPPROTO_TCP,
  SHUT_RDWR,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  Socket,
  SyscallError,
  TCP_CORK,
  TCP_NODELAY,
  formatAddress,
  select,
  type SocketAddress,
} from '../lib/index.js';
import { BACKLOG_HELP, HOST_HELP, MAX_REQUEST, RESPONSE, printRequest, requestComplete } from './common/hello-http.js';
import { AcceptPause, epollEventNames, hostAndPort, printListening, traceEvent } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

// Python's b'': one shared empty request buffer (never written to), rather
// than a new zero-length Buffer per connection.
const NOTHING = Buffer.alloc(0);

/** The socket option a variant of the loop adds. */
export interface LevelTriggeredVariant {
  /** Example 5: cork each client socket while its response is written. */
  cork?: boolean;
  /** Example 6: TCP_NODELAY on the server socket (accepted sockets inherit it). */
  nodelay?: boolean;
}

/** The level-triggered loop of Examples 3, 5 and 6. */
export function serveLevelTriggered(ctx: ProgramContext, variant: LevelTriggeredVariant = {}): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 8080);
  const serversocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  let epoll: select.Epoll | null = null;
  // Python's three dicts, keyed by file descriptor; and each client's address, for messages.
  const connections = new Map<number, Socket>();
  const requests = new Map<number, Buffer>();
  const responses = new Map<number, Buffer>();
  const peers = new Map<number, SocketAddress>();
  // Out of fds (EMFILE), accept() fails but the connection stays queued and
  // the server socket stays ready: stop watching it for a moment (one line
  // is printed) rather than be woken for it again and again.
  const acceptPause = new AcceptPause();

  const closeConnection = (fileno: number): void => {
    const connection = connections.get(fileno);
    if (connection === undefined) return;
    epoll?.unregister(fileno);
    connection.close();
    connections.delete(fileno);
    requests.delete(fileno);
    responses.delete(fileno);
    peers.delete(fileno);
    acceptPause.fdFreed();
  };

  try {
    serversocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    serversocket.bind([host, port]);
    serversocket.listen(ctx.backlog(1));
    serversocket.setblocking(false);
    // Example 6, line 14: no Nagle delay; sockets accept() returns inherit the option.
    if (variant.nodelay === true) serversocket.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);

    epoll = select.epoll();
    const serverfd = serversocket.fileno();
    epoll.register(serverfd, EPOLLIN);
    printListening(serversocket, host);

    for (;;) {
      // The pause is over: watch the server socket again (a connection still pending is reported at once).
      if (acceptPause.due()) epoll.modify(serverfd, EPOLLIN);
      const events = epoll.poll(acceptPause.timeout(1));
      for (const [fileno, event] of events) {
        // Guarded here, not only inside traceEvent: naming the bits builds
        // strings, which would cost every event of an untraced server.
        if (ctx.flags.trace === true) traceEvent(ctx, fileno, fileno === serverfd ? 'listening socket' : peers.get(fileno), epollEventNames(event));
        try {
          if (fileno === serverfd) {
            const accepted = serversocket.accept();
            if (accepted === null) continue; // nothing pending after all: wait for the next event
            acceptPause.accepted();
            const [connection, address] = accepted;
            connection.setblocking(false);
            epoll.register(connection.fileno(), EPOLLIN);
            connections.set(connection.fileno(), connection);
            requests.set(connection.fileno(), NOTHING);
            responses.set(connection.fileno(), RESPONSE);
            peers.set(connection.fileno(), address);
            if (variant.nodelay === true) {
              ctx.log('accepted', formatAddress(address), 'TCP_NODELAY =', connection.getsockopt(IPPROTO_TCP, TCP_NODELAY));
            }
          } else if (event & EPOLLIN) {
            const data = (connections.get(fileno) as Socket).recv(1024);
            if (data === null) continue; // not ready after all: the next poll says when
            // The howto never sees end of stream here; a client that closes early would
            // make this loop spin on an fd that is always readable.
            const before = requests.get(fileno) as Buffer;
            const request = before.length === 0 ? data : Buffer.concat([before, data]);
            if (data.length === 0 || request.length > MAX_REQUEST) {
              closeConnection(fileno);
              continue;
            }
            requests.set(fileno, request);
            if (requestComplete(request)) {
              epoll.modify(fileno, EPOLLOUT);
              // Example 5, line 34: hold partial frames back until the cork is removed.
              if (variant.cork === true) (connections.get(fileno) as Socket).setsockopt(IPPROTO_TCP, TCP_CORK, 1);
              if (!ctx.quiet) printRequest(ctx, request);
            }
          } else if (event & EPOLLOUT) {
            const connection = connections.get(fileno) as Socket;
            const response = responses.get(fileno) as Buffer;
            const byteswritten = connection.send(response) ?? 0;
            const rest = byteswritten === response.length ? NOTHING : response.subarray(byteswritten);
            responses.set(fileno, rest);
            if (rest.length === 0) {
              // Example 5, line 40: uncork, so the kernel sends what it held back.
              if (variant.cork === true) connection.setsockopt(IPPROTO_TCP, TCP_CORK, 0);
              epoll.modify(fileno, 0);
              connection.shutdown(SHUT_RDWR);
            }
          } else if (event & (EPOLLHUP | EPOLLERR)) {
            closeConnection(fileno);
          }
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          if (fileno === serverfd) {
            if (acceptPause.failed(err)) epoll.modify(serverfd, 0); // EMFILE: pause (one line printed)
            else console.log(`error: accept: ${err.message}`); // ECONNABORTED...: the server carries on
          } else {
            // A client that resets its connection costs that connection only.
            ctx.log(`error: ${formatAddress(peers.get(fileno))}: ${err.message}`);
            closeConnection(fileno);
          }
        }
      }
    }
  } finally {
    // Python closes the client sockets at exit; closing them here is the good habit the howto asks for.
    for (const fileno of [...connections.keys()]) closeConnection(fileno);
    if (epoll !== null) {
      epoll.unregister(serversocket.fileno());
      epoll.close();
    }
    serversocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'howto-epoll-lt',
  usage: '[host] [port]',
  summary: 'epoll howto, example 3: the HTTP server on a level-triggered epoll loop',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'EPOLLIN/EPOLLOUT/EPOLLHUP…',
  help: `Talk to it with: curl http://127.0.0.1:8080/   (--trace shows each epoll event)

${HOST_HELP}

${BACKLOG_HELP}`,
  main: (ctx) => serveLevelTriggered(ctx),
};

export default spec;
runMain(spec, import.meta.url);
