/**
 * echo-server — the first program of Real Python's sockets tutorial
 * (echo-server.py; seed 002 builds on it): a blocking server that accepts
 * ONE connection, sends back everything it receives, and exits when the
 * client closes its end.
 *
 * What it teaches: the four calls every TCP server makes — socket(),
 * bind(), listen(), accept() — and the blocking recv()/sendall() loop.
 * accept() returns a NEW socket for the connection (the listening socket
 * only accepts); recv() returning no bytes means the peer closed.
 *
 * Python hard-codes 127.0.0.1:65432; here both are optional arguments with
 * those defaults (port 0 picks a free port, shown in the "listening on"
 * line, which Python does not print).
 *
 * Run:    node-selectors echo-server                  (127.0.0.1 65432)
 * Talk:   node-selectors echo-client                  (sends b'Hello, world')
 *         nc 127.0.0.1 65432
 *         python3 echo-client.py                      (the original)
 * Flags:  --forever (accept clients one after another instead of exiting
 *         after the first: see single-process-server), --verbose (print
 *         each chunk received), --quiet, --backlog N
 */

import { formatAddress } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, acceptBlocking, hostAndPort } from './common/raw-loop.js';
import { listenTcp, serveClient } from './common/echo-servers.js';

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 65432);
  const lsock = listenTcp(host, port, ctx.backlog(128));
  // Out of fds (EMFILE), accept() sleeps and retries (one line printed) instead of failing.
  const acceptPause = new AcceptPause();
  try {
    do {
      // Blocks until a client connects (Ctrl-C ends it with KeyboardInterrupt).
      const [conn, addr] = acceptBlocking(lsock, acceptPause);
      ctx.log('Connected by', formatAddress(addr));
      // Python's `with conn:` — serveClient closes it, whatever happens.
      // Python prints nothing else; --verbose shows each chunk.
      const failure = serveClient(conn, addr, ctx.flags.verbose === true ? ctx.log : () => {});
      if (failure !== null) {
        if (ctx.flags.forever !== true) throw failure;
        console.error(`${ctx.name}: connection ${formatAddress(addr)} failed: ${failure.message}`);
      }
    } while (ctx.flags.forever === true);
  } finally {
    lsock.close();
  }
}

const spec: ProgramSpec = {
  name: 'echo-server',
  usage: '[host] [port]',
  summary: "Real Python's echo-server: blocking, serves one connection, echoes until the client closes",
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  options: {
    forever: { type: 'boolean', help: 'serve clients one after another instead of exiting after the first' },
    verbose: { type: 'boolean', help: 'print every chunk received (Python prints only "Connected by")' },
  },
  help: 'Defaults: 127.0.0.1 65432 (Python\'s HOST and PORT). Talk to it with: node-selectors echo-client [host] [port], or nc 127.0.0.1 65432',
  main,
};

export default spec;
runMain(spec, import.meta.url);
