/**
 * howto-epoll-et — Example 4 of the epoll howto (seed 000): the epoll HTTP
 * server of Example 3, edge-triggered (EPOLLET on every registration).
 *
 * What it teaches: the two epoll modes. Level-triggered (Example 3),
 * `epoll.poll()` reports an fd on every call while it is ready. Edge-
 * triggered, it reports a change ONCE: the program must then do all the
 * work that event allows — accept() until there is no connection left,
 * recv() until there is nothing left to read, send() until the kernel
 * takes no more — because no further event comes for what it leaves
 * behind. Each of those loops ends when the call would block: the howto
 * catches socket.error (BlockingIOError); here accept/recv/send return
 * `null`. A request bigger than one recv(1024) therefore arrives in one
 * event, read in several calls.
 *
 * Self-contained on purpose: its epoll loop is written out, to be read alone.
 *
 * Run:    node-selectors howto-epoll-et                  (127.0.0.1:8080)
 *         node-selectors howto-epoll-et --trace --backlog 128 127.0.0.1 0
 * Talk:   curl http://127.0.0.1:8080/
 *         curl -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" http://127.0.0.1:8080/
 *           (a request larger than one read: still one EPOLLIN event, see --trace)
 * Flags:  --backlog N (default 1, as the howto), --trace, --quiet
 */

import {
  familyOf,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  SHUT_RDWR,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  Socket,
  SyscallError,
  formatAddress,
  select,
  type SocketAddress,
} from '../lib/index.js';
import { BACKLOG_HELP, HOST_HELP, MAX_REQUEST, RESPONSE, printRequest, requestComplete } from './common/hello-http.js';
import { AcceptPause, epollEventNames, hostAndPort, printListening, traceEvent } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 8080);
  const serversocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  let epoll: select.Epoll | null = null;
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

    epoll = select.epoll();
    const serverfd = serversocket.fileno();
    epoll.register(serverfd, EPOLLIN | EPOLLET);
    printListening(serversocket, host);

    for (;;) {
      // The pause is over: watch the server socket again (a connection still pending is reported at once).
      if (acceptPause.due()) epoll.modify(serverfd, EPOLLIN | EPOLLET);
      const events = epoll.poll(acceptPause.timeout(1));
      for (const [fileno, event] of events) {
        traceEvent(ctx, fileno, fileno === serverfd ? 'listening socket' : peers.get(fileno), epollEventNames(event));
        try {
          if (fileno === serverfd) {
            // One event for however many connections wait: accept them all.
            for (;;) {
              const accepted = serversocket.accept();
              if (accepted === null) break; // would block: the backlog is empty
              acceptPause.accepted();
              const [connection, address] = accepted;
              connection.setblocking(false);
              epoll.register(connection.fileno(), EPOLLIN | EPOLLET);
              connections.set(connection.fileno(), connection);
              requests.set(connection.fileno(), Buffer.alloc(0));
              responses.set(connection.fileno(), RESPONSE);
              peers.set(connection.fileno(), address);
            }
          } else if (event & EPOLLIN) {
            // Read until recv() would block: no event will come for bytes left unread.
            const connection = connections.get(fileno) as Socket;
            const chunks = [requests.get(fileno) as Buffer];
            let size = chunks[0].length;
            let ended = false;
            for (;;) {
              const data = connection.recv(1024);
              if (data === null) break; // would block: everything is read
              if (data.length === 0) {
                ended = true; // the client shut down its side (the howto would spin here)
                break;
              }
              chunks.push(data);
              size += data.length;
              if (size > MAX_REQUEST) break;
            }
            const request = Buffer.concat(chunks, size);
            requests.set(fileno, request);
            if (size > MAX_REQUEST) {
              closeConnection(fileno);
            } else if (requestComplete(request)) {
              epoll.modify(fileno, EPOLLOUT | EPOLLET);
              printRequest(ctx, request);
            } else if (ended) {
              closeConnection(fileno);
            }
          } else if (event & EPOLLOUT) {
            // Write until done or until send() would block (then the next EPOLLOUT edge resumes).
            const connection = connections.get(fileno) as Socket;
            let response = responses.get(fileno) as Buffer;
            while (response.length > 0) {
              const byteswritten = connection.send(response);
              if (byteswritten === null) break; // would block: the send buffer is full
              response = response.subarray(byteswritten);
            }
            responses.set(fileno, response);
            if (response.length === 0) {
              epoll.modify(fileno, EPOLLET);
              connection.shutdown(SHUT_RDWR);
            }
          } else if (event & (EPOLLHUP | EPOLLERR)) {
            closeConnection(fileno);
          }
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          if (fileno === serverfd) {
            // EMFILE: pause (one line printed); re-arming after it reports the connections still queued.
            if (acceptPause.failed(err)) epoll.modify(serverfd, EPOLLET);
            else console.log(`error: accept: ${err.message}`); // ECONNABORTED...: carry on (new connections bring a new edge)
          } else {
            ctx.log(`error: ${formatAddress(peers.get(fileno))}: ${err.message}`);
            closeConnection(fileno);
          }
        }
      }
    }
  } finally {
    for (const fileno of [...connections.keys()]) closeConnection(fileno);
    if (epoll !== null) {
      epoll.unregister(serversocket.fileno());
      epoll.close();
    }
    serversocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'howto-epoll-et',
  usage: '[host] [port]',
  summary: 'epoll howto, example 4: the HTTP server edge-triggered (EPOLLET: drain until would-block)',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'EPOLLIN/EPOLLOUT/EPOLLET…',
  help: `Talk to it with: curl http://127.0.0.1:8080/   (--trace shows each epoll event)

${HOST_HELP}

${BACKLOG_HELP}`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
