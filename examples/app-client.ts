/**
 * app-client — Real Python's app-client.py (seed 002): one non-blocking
 * connection driven by a selector, sending one request and printing the
 * response (a ClientMessage does the protocol work).
 *
 * What it teaches: a client in an event loop. connect_ex() starts a
 * non-blocking connect; the socket is registered for READ|WRITE; the first
 * WRITE event means "connected", the request goes out, the response is
 * read as it arrives, and the loop ends when no socket is left registered.
 *
 * Run:    node-selectors app-client 127.0.0.1 65432 search morpheus
 *         node-selectors app-client 127.0.0.1 65432 double 100   (binary request)
 * Needs:  node-selectors app-server 127.0.0.1 65432  (or Python's app-server.py)
 * Flags:  --repeat N (send the request N times, pipelined on one connection;
 *         app-server answers them all, with or without --keep-alive),
 *         --backend, --engine uring|epoll, --trace, --quiet
 * Exit:   0 when every response came, 1 when the request failed.
 */

import {
  ClientMessage,
  Socket,
  AF_INET,
  SOCK_STREAM,
  EINPROGRESS,
  createRequest,
  formatAddress,
  pythonRepr,
  SyscallError,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { untilClosed } from './common/proactor-loop.js';

async function main(ctx: ProgramContext): Promise<number> {
  const [host, portText, action, value] = ctx.args;
  const port = ctx.port(portText);
  const repeat = ctx.flags.repeat === undefined ? 1 : Number(ctx.flags.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) ctx.usageError(`invalid --repeat '${String(ctx.flags.repeat)}'`);
  const request = createRequest(action, value);
  const sel = ctx.selector<ClientMessage>();
  // --engine uring: the Message runs on a Proactor (and the selector stays empty).
  const proactor = ctx.engine === 'uring' ? ctx.proactor() : null;
  const addr: [string, number] = [host, port];
  const peer = formatAddress(addr);
  ctx.log('starting connection to', peer);
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.setblocking(false);
  let failed = false;
  try {
    const errno = sock.connectEx(addr);
    if (errno !== 0 && errno !== EINPROGRESS) throw new SyscallError(errno, 'connect', { address: host, port });
    const message = new ClientMessage(proactor ?? sel, sock, addr, Array.from({ length: repeat }, () => request), { keepAlive: false });
    let responses = 0;
    message.on('request', (_r, frame) => ctx.log('sending', pythonRepr(frame), 'to', peer));
    message.on('response', (response) => {
      responses++;
      if (response.kind === 'json') {
        ctx.log('received response', pythonRepr(response.content), 'from', peer);
        const result = (response.content as { result?: unknown } | null)?.result;
        console.log(`got result: ${typeof result === 'string' ? result : pythonRepr(result)}`);
      } else {
        ctx.log(`received ${response.header.contentType} response from`, peer);
        console.log(`got response: ${pythonRepr(response.content)}`);
      }
    });
    message.on('error', (err) => {
      failed = true;
      console.log('main: error: exception for', `${peer}:`, err.message);
    });
    message.on('close', () => {
      ctx.log('closing connection to', peer);
      if (responses < repeat) failed = true;
    });
    if (proactor !== null) await untilClosed(proactor, [message], ctx.signal);
    // #region loop
    // Python: select(timeout=1) until no socket is registered (or Ctrl-C).
    while ((sel.getMap()?.size ?? 0) > 0 && !ctx.signal.aborted) {
      for (const [key, mask] of await sel.selectAsync(1, { signal: ctx.signal })) {
        ctx.trace(key, mask, addr);
        key.data.processEvents(mask);
      }
    }
    // #endregion loop
  } finally {
    proactor?.close();
    sel.close();
    sock.close();
  }
  return failed ? 1 : 0;
}

const spec: ProgramSpec = {
  name: 'app-client',
  usage: '<host> <port> <action> <value>',
  summary: "Real Python's app-client: one JSON-header request over a non-blocking connection",
  positionals: { min: 4, max: 4 },
  common: ['backend', 'engine', 'trace', 'quiet'],
  options: {
    repeat: { type: 'string', help: 'send the request N times, pipelined on one connection (app-server answers them all, with or without --keep-alive)' },
  },
  help: 'Actions: search <key> (morpheus, ring, 🐶) as text/json; any other action is sent as binary.',
  main,
};

export default spec;
runMain(spec, import.meta.url);
