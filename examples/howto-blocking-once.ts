/**
 * howto-blocking-once — Example 1 of the epoll howto (seed 000): a
 * blocking HTTP server that answers ONE request and exits.
 *
 * What it teaches: the plain socket calls in order. socket() makes the
 * server socket; SO_REUSEADDR lets bind() take a port that a previous run
 * left in TIME_WAIT; listen() starts queueing connections; accept() blocks
 * until a client connects and returns a NEW socket for that client (the
 * server socket never carries data); recv() is called until the blank line
 * that ends an HTTP request has arrived; the request is printed, the fixed
 * response sent, and both sockets closed.
 *
 * Self-contained on purpose: every socket call is written out, to be read alone.
 *
 * Run:    node-selectors howto-blocking-once            (127.0.0.1:8080)
 *         node-selectors howto-blocking-once 0.0.0.0 8080   (as the howto)
 * Talk:   curl -v http://127.0.0.1:8080/
 *         printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 8080
 * Flags:  --backlog N (default 1, as the howto), --quiet
 */

import { familyOf, Socket, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, formatAddress, type SocketAddress } from '../lib/index.js';
import { BACKLOG_HELP, HOST_HELP, MAX_REQUEST, RESPONSE, printRequest, requestComplete } from './common/hello-http.js';
import { hostAndPort, printListening } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

function main(ctx: ProgramContext): number {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 8080);
  const serversocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  try {
    serversocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    serversocket.bind([host, port]);
    serversocket.listen(ctx.backlog(1));
    printListening(serversocket, host);

    // Blocks until a client connects (Ctrl-C ends it with KeyboardInterrupt).
    const [connectiontoclient, address] = serversocket.accept() as [Socket, SocketAddress];
    try {
      ctx.log('connection from', formatAddress(address));
      let request = Buffer.alloc(0);
      while (!requestComplete(request)) {
        const data = connectiontoclient.recv(1024) as Buffer;
        // The howto loops forever on a client that closes early: stop at end of stream.
        if (data.length === 0) {
          console.error(`${ctx.name}: error: the client closed the connection before the request was complete`);
          return 1;
        }
        request = Buffer.concat([request, data]);
        if (request.length > MAX_REQUEST) {
          console.error(`${ctx.name}: error: request larger than ${MAX_REQUEST} bytes`);
          return 1;
        }
      }
      printRequest(ctx, request);
      // The howto calls send(); sendall() also covers a short write.
      connectiontoclient.sendall(RESPONSE);
    } finally {
      connectiontoclient.close();
    }
    return 0;
  } finally {
    serversocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'howto-blocking-once',
  usage: '[host] [port]',
  summary: 'epoll howto, example 1: a blocking HTTP server that answers one request, then exits',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  help: `Talk to it with: curl http://127.0.0.1:8080/

${HOST_HELP}

${BACKLOG_HELP}`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
