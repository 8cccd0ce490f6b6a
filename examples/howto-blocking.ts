/**
 * howto-blocking — Example 2 of the epoll howto (seed 000): the blocking
 * HTTP server of Example 1 in a loop, serving one client after another
 * until Ctrl-C.
 *
 * What it teaches: the server socket only accepts; each accept() returns
 * a new socket that talks to one client and is closed after the response.
 * Every call blocks: accept() until a client connects, recv() until data
 * comes, sendall() until the response is in the kernel's send buffer. So
 * one slow client holds up every other one (they wait in the listen
 * backlog) — the problem that threads, or select/poll/epoll in the next
 * examples, solve. The try/finally closes the server socket whatever ends
 * the loop; Ctrl-C (SIGINT) or SIGTERM ends the blocking accept() with
 * KeyboardInterrupt, as in Python.
 *
 * Self-contained on purpose: every socket call is written out, to be read alone.
 *
 * Run:    node-selectors howto-blocking                  (127.0.0.1:8080)
 *         node-selectors howto-blocking --backlog 128 127.0.0.1 0   (a free port)
 * Talk:   curl http://127.0.0.1:8080/
 *         printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 8080
 *         nc 127.0.0.1 8080   (type nothing: every other client now waits)
 * Flags:  --backlog N (default 1, as the howto), --quiet
 */

import { familyOf, Socket, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SyscallError, formatAddress, type SocketAddress } from '../lib/index.js';
import { BACKLOG_HELP, HOST_HELP, MAX_REQUEST, RESPONSE, printRequest, requestComplete } from './common/hello-http.js';
import { AcceptPause, acceptBlocking, hostAndPort, printListening } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

/** Read one request and answer it; false when the client went away first. */
function serve(ctx: ProgramContext, connectiontoclient: Socket): boolean {
  let request = Buffer.alloc(0);
  while (!requestComplete(request)) {
    const data = connectiontoclient.recv(1024) as Buffer;
    // The howto would loop forever on a client that closes early.
    if (data.length === 0 || request.length + data.length > MAX_REQUEST) return false;
    request = Buffer.concat([request, data]);
  }
  printRequest(ctx, request);
  connectiontoclient.sendall(RESPONSE);
  return true;
}

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 8080);
  const serversocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  try {
    serversocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    serversocket.bind([host, port]);
    serversocket.listen(ctx.backlog(1));
    printListening(serversocket, host);
    // Out of fds (EMFILE), accept() sleeps and retries (one line printed) instead of failing.
    const acceptPause = new AcceptPause();
    for (;;) {
      const [connectiontoclient, address] = acceptBlocking(serversocket, acceptPause);
      try {
        if (!serve(ctx, connectiontoclient)) ctx.log('no complete request from', formatAddress(address));
      } catch (err) {
        // A client that resets the connection must not stop the server.
        if (!(err instanceof SyscallError)) throw err;
        console.log(`error: ${formatAddress(address)}: ${err.message}`);
      } finally {
        connectiontoclient.close();
      }
    }
  } finally {
    serversocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'howto-blocking',
  usage: '[host] [port]',
  summary: 'epoll howto, example 2: a blocking HTTP server that serves one client after another',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  help: `Talk to it with: curl http://127.0.0.1:8080/

${HOST_HELP}

${BACKLOG_HELP}`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
