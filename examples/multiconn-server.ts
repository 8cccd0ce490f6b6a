/**
 * multiconn-server — Real Python's multiconn-server.py (seed 002): an echo
 * server for many clients at once, in one thread, driven by a selector.
 *
 * What it teaches: the event loop. The listening socket is registered for
 * READ with `data` = null; each accepted connection is made non-blocking
 * and registered with its per-connection state as `data` (Python's
 * types.SimpleNamespace(addr, inb, outb); here an EchoMessage, which keeps
 * the output buffer and does the recv/send). The loop waits in select()
 * and handles whatever is ready: `data === null` → accept, else service
 * the connection.
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
 *         blocking select()), --backend, --trace, --quiet (no per-message
 *         lines: the echo benchmark runs it so), --backlog N
 */

import {
  EVENT_READ,
  EchoMessage,
  formatAddress,
  pythonRepr,
  type BaseSelector,
  type SelectorKey,
  type Socket,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { acceptReady, listenTcp } from './common/echo-servers.js';

type Data = EchoMessage | null;

function acceptWrapper(ctx: ProgramContext, sel: BaseSelector<Data>, sock: Socket): void {
  const accepted = acceptReady(sock); // Should be ready to read
  if (accepted === null) return;
  const [conn, addr] = accepted;
  // EchoMessage makes the socket non-blocking and registers it for READ
  // with itself as data (Python: conn.setblocking(False); sel.register(...)).
  const message = new EchoMessage(sel as BaseSelector<unknown>, conn, addr);
  if (ctx.quiet) return; // no listeners: no per-message work at all
  const peer = formatAddress(addr);
  console.log('accepted connection from', peer);
  message.on('data', (chunk) => console.log('echoing', pythonRepr(chunk), 'to', peer));
  message.on('error', (err) => console.log('error on connection to', `${peer}:`, err.message));
  message.on('close', () => console.log('closing connection to', peer));
}

function main(ctx: ProgramContext): void | Promise<void> {
  const [host, portText] = ctx.args;
  const port = ctx.port(portText);
  const sel = ctx.selector<Data>();
  let lsock: Socket;
  try {
    lsock = listenTcp(host, port, ctx.backlog(128));
    lsock.setblocking(false);
    sel.register(lsock, EVENT_READ, null);
  } catch (err) {
    sel.close();
    throw err;
  }
  const cleanup = (): void => {
    for (const key of [...(sel.getMap()?.values() ?? [])]) key.data?.close();
    sel.close();
    lsock.close();
  };

  const dispatch = (key: SelectorKey<Data>, mask: number): void => {
    ctx.trace(key, mask, key.data === null ? 'listening socket' : key.data.addr);
    if (key.data === null) acceptWrapper(ctx, sel, key.fileobj as Socket);
    else key.data.processEvents(mask); // Python's service_connection; never throws
  };

  if (ctx.flags.async === true) {
    // Wait in Node's loop: Ctrl-C aborts ctx.signal, which ends run().
    return sel.run(dispatch, { signal: ctx.signal }).finally(cleanup);
  }
  try {
    // Python's loop: a blocking select(); Ctrl-C ends it with KeyboardInterrupt.
    for (;;) {
      for (const [key, mask] of sel.select(null)) dispatch(key, mask);
    }
  } finally {
    cleanup();
  }
}

const spec: ProgramSpec = {
  name: 'multiconn-server',
  usage: '<host> <port>',
  summary: "Real Python's multiconn-server: echo server for many connections on one selector loop",
  positionals: { min: 2, max: 2 },
  common: ['backend', 'trace', 'quiet', 'backlog'],
  options: {
    async: { type: 'boolean', help: "wait with selectAsync() in Node's loop instead of a blocking select()" },
  },
  help: 'Talk to it with: node-selectors multiconn-client <host> <port> <num_connections>, or nc <host> <port>',
  main,
};

export default spec;
runMain(spec, import.meta.url);
