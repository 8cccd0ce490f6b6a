/**
 * epoll-echo-server — the commented epoll echo server of "select, poll and
 * epoll in Python" (seed 003): sends back whatever each client sends, on
 * a level-triggered epoll loop.
 *
 * What it teaches: the epoll sequence of the howto (seed 000) applied to
 * a conversation instead of one request: a client is watched for EPOLLIN;
 * what recv() returns is kept for it and the fd switched to EPOLLOUT; when
 * writable, send() hands over as much as the kernel takes (maybe not all:
 * the rest waits for the next EPOLLOUT); once everything is echoed the fd
 * goes back to EPOLLIN. Reading and writing alternate, so a client that
 * sends faster than it reads is slowed down instead of filling the
 * server's memory. recv() returning no bytes means the client closed: the
 * fd is unregistered and the socket closed (the seed's version of this
 * branch fails; EPOLLHUP is handled as the seed does).
 *
 * Self-contained on purpose: its epoll loop is written out, to be read alone.
 *
 * Run:    node-selectors epoll-echo-server                 (127.0.0.1:8080)
 * Talk:   nc 127.0.0.1 8080            (each line comes back)
 *         node-selectors echo-client 127.0.0.1 8080
 * Flags:  --backlog N (default 1, as the seed), --trace, --quiet
 */

import {
  familyOf,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  Socket,
  SyscallError,
  formatAddress,
  select,
  type SocketAddress,
} from '../lib/index.js';
import { AcceptPause, epollEventNames, hostAndPort, printListening, traceEvent } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 8080);
  const serversocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  let epoll: select.Epoll | null = null;
  // fd -> connection, and fd -> the bytes still to echo.
  const connections = new Map<number, Socket>();
  const requests = new Map<number, Buffer>();
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
    peers.delete(fileno);
    acceptPause.fdFreed();
  };

  try {
    serversocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    serversocket.bind([host, port]);
    serversocket.listen(ctx.backlog(1));
    // Sockets block by default: the loop needs non-blocking ones.
    serversocket.setblocking(false);

    // An epoll object, watching the server socket for a connection to accept.
    epoll = select.epoll();
    const serverfd = serversocket.fileno();
    epoll.register(serverfd, EPOLLIN);
    printListening(serversocket, host);

    for (;;) {
      // The pause is over: watch the server socket again.
      if (acceptPause.due()) epoll.modify(serverfd, EPOLLIN);
      // Wait at most one second; events come as [fileno, event] pairs.
      const events = epoll.poll(acceptPause.timeout(1));
      for (const [fileno, event] of events) {
        traceEvent(ctx, fileno, fileno === serverfd ? 'listening socket' : peers.get(fileno), epollEventNames(event));
        try {
          if (fileno === serverfd) {
            // An event on the server socket: a new connection.
            const accepted = serversocket.accept();
            if (accepted === null) continue;
            acceptPause.accepted();
            const [connection, address] = accepted;
            ctx.log('client connected:', formatAddress(address));
            connection.setblocking(false);
            epoll.register(connection.fileno(), EPOLLIN);
            connections.set(connection.fileno(), connection);
            requests.set(connection.fileno(), Buffer.alloc(0));
            peers.set(connection.fileno(), address);
          } else if (event & EPOLLIN) {
            ctx.log('------recvdata---------');
            const data = (connections.get(fileno) as Socket).recv(1024);
            if (data === null) continue;
            if (data.length === 0) {
              // The client closed: stop watching it and close it.
              ctx.log('client closed:', formatAddress(peers.get(fileno)));
              closeConnection(fileno);
            } else {
              requests.set(fileno, Buffer.concat([requests.get(fileno) as Buffer, data]));
              // Data to send back: watch for writability instead of readability.
              epoll.modify(fileno, EPOLLOUT);
              ctx.log(`${'-'.repeat(40)}\n${data.toString('utf8')}`);
            }
          } else if (event & EPOLLOUT) {
            ctx.log('-------send data---------');
            // Send what the kernel takes; the rest waits for the next EPOLLOUT.
            const pending = requests.get(fileno) as Buffer;
            const byteswritten = (connections.get(fileno) as Socket).send(pending) ?? 0;
            requests.set(fileno, pending.subarray(byteswritten));
            // All echoed: back to waiting for data.
            if (byteswritten === pending.length) epoll.modify(fileno, EPOLLIN);
          } else if (event & (EPOLLHUP | EPOLLERR)) {
            // Hang-up is always reported, never needs registering.
            ctx.log('end hup------');
            closeConnection(fileno);
          }
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          if (fileno === serverfd) {
            if (acceptPause.failed(err)) epoll.modify(serverfd, 0); // EMFILE: pause (one line printed)
            else console.log(`error: accept: ${err.message}`); // ECONNABORTED...: carry on
          } else {
            ctx.log(`error: ${formatAddress(peers.get(fileno))}: ${err.message}`);
            closeConnection(fileno);
          }
        }
      }
    }
  } finally {
    // Python would close the sockets at exit; closing them here is good practice.
    for (const fileno of [...connections.keys()]) closeConnection(fileno);
    if (epoll !== null) {
      epoll.unregister(serversocket.fileno());
      epoll.close();
    }
    serversocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'epoll-echo-server',
  usage: '[host] [port]',
  summary: 'epoll echo server (level-triggered, EPOLLIN and EPOLLOUT in turn)',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'EPOLLIN/EPOLLOUT/EPOLLHUP…',
  help: `Talk to it with: nc 127.0.0.1 8080   (each line comes back)

The seed binds 0.0.0.0:8080 with a backlog of 1; the default here is
127.0.0.1:8080 (pass 0.0.0.0 to listen on every address, port 0 for a free
port); pass --backlog 128 before sending it many clients at once.`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
