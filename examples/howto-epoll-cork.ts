/**
 * howto-epoll-cork — Example 5 of the epoll howto (seed 000): the
 * level-triggered epoll server of Example 3 with TCP_CORK.
 *
 * What it teaches: a response written by several send() calls can leave
 * as several small TCP segments. Setting TCP_CORK on a client socket
 * (`setsockopt(IPPROTO_TCP, TCP_CORK, 1)`, when its request is complete)
 * tells the kernel to hold partial segments back; removing the cork once
 * the whole response has been handed over (`TCP_CORK, 0`) sends what is
 * left at once, so the response goes out in as few packets as possible.
 * The two lines are in serveLevelTriggered() in howto-epoll-lt.ts, under
 * `variant.cork`; everything else is Example 3.
 *
 * Self-contained on purpose, with howto-epoll-lt.ts: read the two alone.
 *
 * Run:    node-selectors howto-epoll-cork                (127.0.0.1:8080)
 * Talk:   curl http://127.0.0.1:8080/
 *         tcpdump -i lo -n port 8080   (watch the segments of each response)
 * Flags:  --backlog N (default 1, as the howto), --trace, --quiet
 */

import { BACKLOG_HELP, HOST_HELP } from './common/hello-http.js';
import { runMain, type ProgramSpec } from './common/program.js';
import { serveLevelTriggered } from './howto-epoll-lt.js';

const spec: ProgramSpec = {
  name: 'howto-epoll-cork',
  usage: '[host] [port]',
  summary: 'epoll howto, example 5: the level-triggered server, corking each response (TCP_CORK)',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  help: `Talk to it with: curl http://127.0.0.1:8080/

${HOST_HELP}

${BACKLOG_HELP}`,
  main: (ctx) => serveLevelTriggered(ctx, { cork: true }),
};

export default spec;
runMain(spec, import.meta.url);
