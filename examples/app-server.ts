/**
 * app-server — Real Python's app-server.py (seed 002): a selector loop
 * that accepts connections and hands each to a ServerMessage, which speaks
 * the JSON-header protocol (search the three-entry dictionary, or answer a
 * binary request with its first 10 bytes).
 *
 * What it teaches: the event loop of a multi-connection server. The
 * listening socket is registered for READ with no data; every accepted
 * connection is registered with its Message as `data`, and the loop calls
 * `message.processEvents(mask)` for each ready key. One request per
 * connection, as in Python; `--keep-alive` serves many (pipelined too).
 *
 * Run:    node-selectors app-server 127.0.0.1 65432
 * Talk:   node-selectors app-client 127.0.0.1 65432 search morpheus
 *         python3 app-client.py 127.0.0.1 65432 search morpheus   (the original)
 * Flags:  --keep-alive, --async (wait in Node's loop with selectAsync instead
 *         of a blocking select()), --backend, --trace, --quiet, --backlog N
 */

import {
  EVENT_READ,
  ServerMessage,
  Socket,
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  formatAddress,
  pythonRepr,
  type BaseSelector,
  type SelectorKey,
  type SocketAddress,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

function acceptWrapper(ctx: ProgramContext, sel: BaseSelector<ServerMessage | null>, sock: Socket, keepAlive: boolean): void {
  // Should be ready to read (Python's accept_wrapper).
  const accepted = sock.accept();
  if (accepted === null) return;
  const [conn, addr] = accepted;
  // ServerMessage makes the socket non-blocking and registers it for READ
  // with itself as data.
  const message = new ServerMessage(sel as BaseSelector<unknown>, conn, addr, { keepAlive });
  message.on('error', (err) => console.log('main: error: exception for', `${formatAddress(addr)}:`, err.message));
  if (!ctx.quiet) watch(message, addr);
  // A client sends its request right after connecting, so it has often
  // arrived already: read now instead of waiting for the next select()
  // (one recv that may find nothing, against a whole trip round the loop).
  message.processEvents(EVENT_READ);
}

// The Python programs' transcript; skipped entirely with --quiet, so that a
// benchmark does not pay for formatting.
function watch(message: ServerMessage, addr: SocketAddress): void {
  const peer = formatAddress(addr);
  console.log('accepted connection from', peer);
  message.on('request', (request) => {
    if (request.kind === 'json') console.log('received request', pythonRepr(request.content), 'from', peer);
    else console.log(`received ${request.header.contentType} request from`, peer);
  });
  message.on('response', (_response, frame) => console.log('sending', pythonRepr(frame), 'to', peer));
  message.on('close', () => console.log('closing connection to', peer));
}

function main(ctx: ProgramContext): void | Promise<void> {
  const [host, portText] = ctx.args;
  const port = ctx.port(portText);
  const keepAlive = ctx.flags['keep-alive'] === true;
  const sel = ctx.selector<ServerMessage | null>();
  const lsock = new Socket(AF_INET, SOCK_STREAM);
  // Avoid bind() exception: EADDRINUSE while old connections linger in TIME_WAIT.
  lsock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  const cleanup = (): void => {
    for (const key of [...(sel.getMap()?.values() ?? [])]) if (key.data !== null) key.data.close();
    sel.close();
    lsock.close();
  };
  try {
    lsock.bind([host, port]);
    lsock.listen(ctx.backlog(128));
    console.log('listening on', formatAddress([host, lsock.getsockname()[1] as number]));
    lsock.setblocking(false);
    sel.register(lsock, EVENT_READ, null);
  } catch (err) {
    cleanup();
    throw err;
  }

  const dispatch = (key: SelectorKey<ServerMessage | null>, mask: number): void => {
    ctx.trace(key, mask, key.data === null ? 'listening socket' : key.data.addr);
    if (key.data === null) acceptWrapper(ctx, sel, key.fileobj as Socket, keepAlive);
    else key.data.processEvents(mask); // never throws: a failure closes that connection only
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
  name: 'app-server',
  usage: '<host> <port>',
  summary: "Real Python's app-server: JSON-header request/response server on a selector loop",
  positionals: { min: 2, max: 2 },
  common: ['backend', 'trace', 'quiet', 'backlog'],
  options: {
    'keep-alive': { type: 'boolean', help: 'serve many requests per connection (pipelined too) instead of one' },
    async: { type: 'boolean', help: "wait with selectAsync() in Node's loop instead of a blocking select()" },
  },
  help: 'Talk to it with: node-selectors app-client <host> <port> search morpheus',
  main,
};

export default spec;
runMain(spec, import.meta.url);
