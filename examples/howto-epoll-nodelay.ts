/**
 * howto-epoll-nodelay — Example 6 of the epoll howto (seed 000): the
 * level-triggered epoll server of Example 3 with TCP_NODELAY.
 *
 * What it teaches: the opposite of TCP_CORK. By default TCP waits a little
 * (Nagle's algorithm) to merge small writes into one segment; TCP_NODELAY
 * (`setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)`) sends whatever send() gets
 * at once — what an SSH client or another "real-time" program wants. The
 * howto sets it on the server socket; on Linux every socket that accept()
 * returns inherits it, which this program shows by printing the option of
 * each accepted socket. The line is in serveLevelTriggered() in
 * howto-epoll-lt.ts, under `variant.nodelay`; everything else is Example 3.
 *
 * Self-contained on purpose, with howto-epoll-lt.ts: read the two alone.
 *
 * Run:    node-selectors howto-epoll-nodelay             (127.0.0.1:8080)
 * Talk:   curl http://127.0.0.1:8080/
 * Flags:  --backlog N (default 1, as the howto), --trace, --quiet
 */

import { BACKLOG_HELP, HOST_HELP } from './common/hello-http.js';
import { runMain, type ProgramSpec } from './common/program.js';
import { serveLevelTriggered } from './howto-epoll-lt.js';

const spec: ProgramSpec = {
  name: 'howto-epoll-nodelay',
  usage: '[host] [port]',
  summary: 'epoll howto, example 6: the level-triggered server with TCP_NODELAY (no Nagle delay)',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  help: `Talk to it with: curl http://127.0.0.1:8080/

${HOST_HELP}

${BACKLOG_HELP}`,
  main: (ctx) => serveLevelTriggered(ctx, { nodelay: true }),
};

export default spec;
runMain(spec, import.meta.url);
