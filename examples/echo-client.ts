/**
 * echo-client — the client of Real Python's first example
 * (echo-client.py): connect, send b'Hello, world', read the echo back,
 * print it.
 *
 * What it teaches: the client side of TCP — socket(), connect(),
 * sendall(), recv() — all blocking. Python calls recv(1024) once and
 * trusts that the whole echo arrives in one piece (it does on loopback,
 * for 12 bytes); the tutorial then explains why a real program cannot
 * assume that. This port keeps reading until as many bytes came back as
 * it sent, or the server closed.
 *
 * Python hard-codes 127.0.0.1:65432; here both are optional arguments with
 * those defaults.
 *
 * Run:    node-selectors echo-client [host] [port]
 * Needs:  node-selectors echo-server (or python3 echo-server.py, or any
 *         echo server: multiconn-server, the seed 004 servers)
 * Flags:  --message TEXT (what to send; default "Hello, world")
 * Exit:   0 when the whole message came back, 1 otherwise (connection
 *         refused, bad host, server closed early).
 */

import { familyOf, SOCK_STREAM, Socket, pythonRepr } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { hostAndPort } from './common/raw-loop.js';

function main(ctx: ProgramContext): number {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 65432);
  const message = Buffer.from(typeof ctx.flags.message === 'string' ? ctx.flags.message : 'Hello, world');
  const chunks: Buffer[] = [];
  let received = 0;
  // Python's `with socket.socket(...) as s:` — closed whatever happens.
  const s = new Socket(familyOf([host, port]), SOCK_STREAM);
  try {
    s.connect([host, port]);
    s.sendall(message);
    while (received < message.length) {
      const data = s.recv(1024)!; // blocking: never null
      if (data.length === 0) break; // the server closed its end
      chunks.push(data);
      received += data.length;
    }
  } finally {
    s.close();
  }
  const data = Buffer.concat(chunks);
  console.log('Received', pythonRepr(data));
  if (received < message.length) {
    console.error(`${ctx.name}: error: the server closed the connection after echoing ${received} of ${message.length} bytes`);
    return 1;
  }
  if (!data.equals(message)) {
    console.error(`${ctx.name}: error: the reply differs from what was sent`);
    return 1;
  }
  return 0;
}

const spec: ProgramSpec = {
  name: 'echo-client',
  usage: '[host] [port]',
  summary: "Real Python's echo-client: blocking connect, send b'Hello, world', print the echo",
  positionals: { min: 0, max: 2 },
  options: {
    message: { type: 'string', help: 'the text to send (default: Hello, world)' },
  },
  help: "Defaults: 127.0.0.1 65432 (Python's HOST and PORT). Needs an echo server: node-selectors echo-server",
  main,
};

export default spec;
runMain(spec, import.meta.url);
