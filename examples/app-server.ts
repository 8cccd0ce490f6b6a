/**
 * app-server — Real Python's app-server.py (seed 002): a selector loop
 * that accepts connections and hands each to a ServerMessage, which speaks
 * the JSON-header protocol (search the three-entry dictionary, or answer a
 * binary request with its first 10 bytes).
 *
 * What it teaches: the event loop of a multi-connection server, as the
 * library's MessageServer runs it (lib/message/message-server.ts). The
 * listening socket is registered for READ; every accepted connection is
 * registered with its Message as `data`, and the loop calls
 * `message.processEvents(mask)` for each ready key. One request per
 * connection, as in Python; `--keep-alive` serves many (pipelined too).
 *
 * Run:    node-selectors app-server 127.0.0.1 65432
 * Talk:   node-selectors app-client 127.0.0.1 65432 search morpheus
 *         python3 app-client.py 127.0.0.1 65432 search morpheus   (the original)
 * Flags:  --keep-alive, --async (wait in Node's loop with selectAsync instead
 *         of a blocking select()), --backend, --engine uring|epoll, --trace, --quiet, --backlog N,
 *         --idle-timeout S, --request-timeout S, --max-connections N,
 *         --shutdown-timeout S (the first Ctrl-C drains, a second forces),
 *         --workers N (N loops, one per worker thread, on one SO_REUSEPORT port)
 */

import { ServerMessage, formatAddress, pythonRepr, type MessageFactory } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { LIMIT_OPTIONS, WORKERS_OPTION, serveMessages } from './common/serve-messages.js';

// The Python programs' transcript; skipped entirely with --quiet, so that a
// benchmark does not pay for formatting.
function watch(message: ServerMessage): void {
  const peer = formatAddress(message.addr);
  console.log('accepted connection from', peer);
  message.on('request', (request) => {
    if (request.kind === 'json') console.log('received request', pythonRepr(request.content), 'from', peer);
    else console.log(`received ${request.header.contentType} request from`, peer);
  });
  message.on('response', (_response, frame) => console.log('sending', pythonRepr(frame), 'to', peer));
  message.on('close', () => console.log('closing connection to', peer));
}

/**
 * Makes each connection's ServerMessage. Exported, and given its options
 * as data, so that `--workers N` can call it in every worker thread (a
 * thread cannot receive a function).
 */
export function createMessages({ keepAlive, quiet }: { keepAlive: boolean; quiet: boolean }): MessageFactory {
  // Python's accept_wrapper, after accept(): the ServerMessage makes the
  // socket non-blocking and registers it for READ with itself as data.
  // #region accept
  return (sel, conn, addr) => {
    const message = new ServerMessage(sel, conn, addr, { keepAlive });
    message.on('error', (err) => console.log('main: error: exception for', `${formatAddress(addr)}:`, err.message));
    if (!quiet) watch(message);
    return message;
  };
  // #endregion accept
}

function main(ctx: ProgramContext): void | Promise<void> {
  const [host, portText] = ctx.args;
  const port = ctx.port(portText);
  const data = { keepAlive: ctx.flags['keep-alive'] === true, quiet: ctx.quiet };
  return serveMessages(ctx, host, port, { module: import.meta.url, export: 'createMessages', data }, createMessages(data));
}

const spec: ProgramSpec = {
  name: 'app-server',
  usage: '<host> <port>',
  summary: "Real Python's app-server: JSON-header request/response server on a selector loop",
  positionals: { min: 2, max: 2 },
  common: ['backend', 'engine', 'trace', 'quiet', 'backlog', 'async'],
  options: {
    ...LIMIT_OPTIONS,
    ...WORKERS_OPTION,
    'keep-alive': { type: 'boolean', help: 'serve many requests per connection (pipelined too) instead of one' },
  },
  help: 'Talk to it with: node-selectors app-client <host> <port> search morpheus',
  main,
};

export default spec;
runMain(spec, import.meta.url);
