/**
 * multiconn-client — Real Python's multiconn-client.py (seed 002): opens
 * <num_connections> connections at once, sends two messages on each
 * ("Message 1 from client.", "Message 2 from client."), and closes each
 * one when as many bytes have come back as it sent.
 *
 * What it teaches: many client connections on one selector. Each socket
 * is made non-blocking and connect_ex() starts the connection without
 * waiting (EINPROGRESS); the socket is registered for READ|WRITE, and its
 * first WRITE event means "connected". The per-connection state (Python's
 * SimpleNamespace(connid, msg_total, recv_total, messages, outb)) is an
 * EchoMessage: it sends the messages, counts what comes back, and closes
 * when recv_total == msg_total. The loop ends when no socket is left
 * registered (Python: `if not sel.get_map(): break`).
 *
 * Run:    node-selectors multiconn-client 127.0.0.1 65432 2
 * Needs:  node-selectors multiconn-server 127.0.0.1 65432
 *         (or python3 multiconn-server.py 127.0.0.1 65432, or any echo server)
 * Flags:  --backend, --engine uring|epoll, --trace, --quiet
 * Exit:   0 when every connection got its echo back, 1 otherwise (refused,
 *         reset, or closed by the server early; one line per connection).
 */

import {
  familyOf,
  EINPROGRESS,
  EchoMessage,
  SOCK_STREAM,
  Socket,
  SyscallError,
  formatAddress,
  pythonRepr,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { turnUntilClosed } from './common/proactor-loop.js';

const messages = [Buffer.from('Message 1 from client.'), Buffer.from('Message 2 from client.')];

function main(ctx: ProgramContext): number {
  const [host, portText, countText] = ctx.args;
  const port = ctx.port(portText);
  const numConns = Number(countText);
  if (!/^\d+$/.test(countText) || numConns < 1) ctx.usageError(`invalid num_connections '${countText}'`);
  const sel = ctx.selector<EchoMessage>();
  // --engine uring: the Messages run on a Proactor (and the selector stays empty).
  const proactor = ctx.engine === 'uring' ? ctx.proactor() : null;
  const serverAddr: [string, number] = [host, port];
  const open: EchoMessage[] = [];
  let failed = 0;

  const startConnection = (connid: number): void => {
    ctx.log('starting connection', connid, 'to', formatAddress(serverAddr));
    const sock = new Socket(familyOf(serverAddr), SOCK_STREAM);
    try {
      sock.setblocking(false);
      const errno = sock.connectEx(serverAddr);
      if (errno !== 0 && errno !== EINPROGRESS) throw new SyscallError(errno, 'connect', { address: host, port });
    } catch (err) {
      sock.close();
      throw err;
    }
    // Registers the socket for READ|WRITE with the message as data.
    const message = new EchoMessage(proactor ?? sel, sock, serverAddr, { messages });
    open.push(message);
    if (!ctx.quiet) {
      message.on('send', (m) => console.log('sending', pythonRepr(m), 'to connection', connid));
      message.on('data', (chunk) => console.log('received', pythonRepr(chunk), 'from connection', connid));
    }
    message.on('error', (err) => {
      failed++;
      console.error(`${ctx.name}: error: connection ${connid}: ${err.message}`);
    });
    message.on('close', () => {
      ctx.log('closing connection', connid);
      if (message.error === null && message.bytesReceived < message.expectedBytes) {
        failed++;
        console.error(`${ctx.name}: error: connection ${connid}: closed by the server after ${message.bytesReceived} of ${message.expectedBytes} bytes`);
      }
    });
  };

  try {
    for (let i = 0; i < numConns; i++) startConnection(i + 1);
    if (proactor !== null) turnUntilClosed(proactor, open);
    // Python: select(timeout=1) until no socket is monitored (Ctrl-C: KeyboardInterrupt).
    while ((sel.getMap()?.size ?? 0) > 0) {
      for (const [key, mask] of sel.select(1)) {
        if (ctx.flags.trace === true) ctx.trace(key, mask, `connection ${open.indexOf(key.data) + 1}`);
        key.data.processEvents(mask); // Python's service_connection; never throws
      }
    }
  } finally {
    for (const m of open) m.close();
    proactor?.close();
    sel.close();
  }
  return failed > 0 ? 1 : 0;
}

const spec: ProgramSpec = {
  name: 'multiconn-client',
  usage: '<host> <port> <num_connections>',
  summary: "Real Python's multiconn-client: N non-blocking connections, two messages each, on one selector",
  positionals: { min: 3, max: 3 },
  common: ['backend', 'engine', 'trace', 'quiet'],
  help: 'Needs an echo server: node-selectors multiconn-server <host> <port>',
  main,
};

export default spec;
runMain(spec, import.meta.url);
