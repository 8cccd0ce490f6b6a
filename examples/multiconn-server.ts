/**
 * multiconn-server — Real Python's multiconn-server.py (seed 002): an echo
 * server for many clients at once, in one thread, driven by a selector.
 *
 * What it teaches: the event loop, as the library's MessageServer runs it
 * (lib/message/message-server.ts). The listening socket is registered for
 * READ with the server as `data`; each accepted connection is made
 * non-blocking and registered with its per-connection state as `data`
 * (Python's types.SimpleNamespace(addr, inb, outb); here an EchoMessage,
 * which keeps the output buffer and does the recv/send). The loop waits in
 * select() and handles whatever is ready: the listening socket → accept,
 * else service the connection.
 *
 * One change from the Python: it registers every connection for
 * READ|WRITE for its whole life, and a connected socket is almost always
 * writable, so its select() returns at once, forever — 100% CPU while
 * idle. The EchoMessage asks for WRITE only while it has unsent output
 * (a send() that did not take everything), and drops it when the buffer
 * is empty: an idle server sleeps in select().
 *
 * Run:    node-selectors multiconn-server 127.0.0.1 65432
 * Talk:   node-selectors multiconn-client 127.0.0.1 65432 2
 *         python3 multiconn-client.py 127.0.0.1 65432 2   (the original)
 *         nc 127.0.0.1 65432
 * Flags:  --async (wait in Node's loop with selectAsync instead of a
 *         blocking select()), --backend, --engine uring|epoll, --trace, --quiet (no per-message
 *         lines: the echo benchmark runs it so), --backlog N,
 *         --idle-timeout S, --request-timeout S, --max-connections N,
 *         --shutdown-timeout S (the first Ctrl-C drains, a second forces),
 *         --workers N (N loops, one per worker thread, on one SO_REUSEPORT port)
 */

import { EchoMessage, formatAddress, pythonRepr, type MessageFactory } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { LIMIT_OPTIONS, WORKERS_OPTION, serveMessages } from './common/serve-messages.js';

/**
 * Makes each connection's EchoMessage. Exported, and given its options as
 * data, so that `--workers N` can call it in every worker thread (a
 * thread cannot receive a function).
 */
export function createMessages({ quiet }: { quiet: boolean }): MessageFactory {
  // Python's accept_wrapper, after accept(): the EchoMessage makes the
  // socket non-blocking and registers it for READ with itself as data.
  return (sel, conn, addr) => {
    const message = new EchoMessage(sel, conn, addr);
    if (quiet) return message; // no listeners: no per-message work at all
    const peer = formatAddress(addr);
    console.log('accepted connection from', peer);
    message.on('data', (chunk) => console.log('echoing', pythonRepr(chunk), 'to', peer));
    message.on('error', (err) => console.log('error on connection to', `${peer}:`, err.message));
    message.on('close', () => console.log('closing connection to', peer));
    return message;
  };
}

function main(ctx: ProgramContext): void | Promise<void> {
  const [host, portText] = ctx.args;
  const port = ctx.port(portText);
  const data = { quiet: ctx.quiet };
  return serveMessages(ctx, host, port, { module: import.meta.url, export: 'createMessages', data }, createMessages(data));
}

const spec: ProgramSpec = {
  name: 'multiconn-server',
  usage: '<host> <port>',
  summary: "Real Python's multiconn-server: echo server for many connections on one selector loop",
  positionals: { min: 2, max: 2 },
  common: ['backend', 'engine', 'trace', 'quiet', 'backlog', 'async'],
  options: { ...LIMIT_OPTIONS, ...WORKERS_OPTION },
  help: 'Talk to it with: node-selectors multiconn-client <host> <port> <num_connections>, or nc <host> <port>',
  main,
};

export default spec;
runMain(spec, import.meta.url);
