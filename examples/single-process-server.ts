/**
 * single-process-server — seed 004's first server model (单进程服务器): one
 * process, blocking calls, ONE client at a time.
 *
 * What it teaches: why a blocking server serves clients one after
 * another, like a star signing autographs for a queue of fans. While it
 * is in recv() for one client, nobody else is served; a second client's
 * connect() still succeeds (the kernel completes it and parks it in the
 * listen() backlog queue — see --backlog) and it can even send data,
 * which waits in the kernel until the server gets round to it, possibly
 * all at once. recv() returning no bytes means the client closed its end:
 * that is how the server notices a client went away.
 *
 * The seed's server only printed what it received; this one also sends it
 * back, so that any echo client can talk to it. The seed listens on
 * ('', 7788) (every interface); here host and port are arguments,
 * defaulting to 127.0.0.1 7788.
 *
 * Run:    node-selectors single-process-server 127.0.0.1 7788
 * Talk:   nc 127.0.0.1 7788          (then, in another terminal, a second nc:
 *                                      it waits until the first one quits)
 *         node-selectors echo-client 127.0.0.1 7788
 * Flags:  --quiet, --backlog N (default 5, as the seed)
 */

import { formatAddress } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, acceptBlocking, hostAndPort } from './common/raw-loop.js';
import { listenTcp, serveClient } from './common/echo-servers.js';

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const server = listenTcp(host, port, ctx.backlog(5));
  // Out of fds (EMFILE), accept() sleeps and retries (one line printed) instead of failing.
  const acceptPause = new AcceptPause();
  try {
    for (;;) {
      ctx.log('waiting for a new client');
      // Blocks until a client connects (Ctrl-C: KeyboardInterrupt).
      const [conn, addr] = acceptBlocking(server, acceptPause);
      ctx.log('serving client', formatAddress(addr));
      // Blocks in recv() until this client closes; the others wait.
      const failure = serveClient(conn, addr, ctx.log);
      if (failure !== null) ctx.log('client', formatAddress(addr), 'failed:', failure.message);
    }
  } finally {
    server.close();
  }
}

const spec: ProgramSpec = {
  name: 'single-process-server',
  usage: '[host] [port]',
  summary: 'Seed 004: blocking echo server, one client at a time (the others wait in the backlog)',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  help: 'Defaults: 127.0.0.1 7788. Talk to it with: nc 127.0.0.1 7788, or node-selectors echo-client 127.0.0.1 7788',
  main,
};

export default spec;
runMain(spec, import.meta.url);
