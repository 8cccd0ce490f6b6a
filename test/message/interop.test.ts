// Interop with the Real Python programs (test/fixtures/python), all four
// directions: TS client → Python app-server, Python app-client → TS
// server, and both directions of the multiconn echo pair.
import t, { type Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ServerMessage, ClientMessage, EchoMessage } from '../../lib/message/index.js';
import { createRequest, type Frame } from '../../lib/protocol/index.js';
import { Socket, AF_INET, SOCK_STREAM } from '../../lib/socket/index.js';
import { clientSelector, connecting, drive, startServer } from './helpers.js';

const PY = (name: string): string => fileURLToPath(new URL(`../fixtures/python/${name}`, import.meta.url));
const noPython = spawnSync('python3', ['--version']).status === 0 ? false : 'python3 is not installed';

function freePort(): number {
  const s = new Socket(AF_INET, SOCK_STREAM);
  s.bind(['127.0.0.1', 0]);
  const port = s.getsockname()[1] as number;
  s.close();
  return port;
}

interface Py {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function python(t: Test, script: string, args: string[]): Py {
  const child = spawn('python3', ['-u', PY(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
  });
  return { child, out: () => out, exited };
}

async function waitFor(py: Py, text: string, ms = 15_000): Promise<void> {
  const start = performance.now();
  while (!py.out().includes(text)) {
    if (performance.now() - start > ms) throw new Error(`python never printed ${JSON.stringify(text)}: ${py.out()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('TS client → Python app-server.py', { skip: noPython }, async (t) => {
  const port = freePort();
  const py = python(t, 'app-server.py', ['127.0.0.1', String(port)]);
  await waitFor(py, 'listening on');
  const sel = clientSelector(t);
  const cases: Array<[string, string, (f: Frame) => void]> = [
    ['search', 'morpheus', (f) => t.same(f.content, { result: 'Follow the white rabbit. 🐰' })],
    ['search', '🐶', (f) => t.same(f.content, { result: '🐾 Playing ball! 🏐' })],
    ['search', 'nobody', (f) => t.same(f.content, { result: 'No match for "nobody".' })],
    ['double', '100', (f) => t.equal((f.content as Buffer).toString(), 'First 10 bytes of request: double100')],
  ];
  for (const [action, value, check] of cases) {
    const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest(action, value));
    let n = 0;
    c.on('response', (f) => {
      n++;
      check(f);
    });
    c.on('error', (e) => t.fail(e.message));
    await drive(sel, [c]);
    t.equal(n, 1, `${action} ${value} answered by Python`);
  }
  await waitFor(py, "closing connection to ('127.0.0.1'");
  t.match(py.out(), /received request \{'action': 'search', 'value': 'morpheus'\}/);
});

t.test('Python app-client.py → TS ServerMessage', { skip: noPython }, async (t) => {
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr) });
  const expect: Array<[string, string, RegExp]> = [
    ['search', 'morpheus', /got result: Follow the white rabbit\. 🐰/],
    ['search', '🐶', /got result: 🐾 Playing ball! 🏐/],
    ['search', 'nobody', /got result: No match for "nobody"\./],
    ['double', '100', /got response: b'First 10 bytes of request: double100'/],
  ];
  for (const [action, value, re] of expect) {
    const py = python(t, 'app-client.py', ['127.0.0.1', String(port), action, value]);
    const code = await py.exited;
    t.equal(code, 0);
    t.match(py.out(), re, `${action} ${value}`);
    t.notMatch(py.out(), /error/i);
  }
  t.equal(server.accepted, 4);
});

t.test('Python multiconn-client.py → TS EchoMessage server', { skip: noPython }, async (t) => {
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new EchoMessage(sel, sock, addr) });
  const py = python(t, 'multiconn-client.py', ['127.0.0.1', String(port), '3']);
  t.equal(await py.exited, 0);
  const out = py.out();
  for (const id of [1, 2, 3]) {
    t.match(out, new RegExp(`closing connection ${id}`));
    t.match(out, new RegExp(`received b'Message 1 from client\\.(Message 2 from client\\.)?' from connection ${id}`));
  }
  t.equal(server.accepted, 3);
});

t.test('TS EchoMessage clients → Python multiconn-server.py', { skip: noPython }, async (t) => {
  const port = freePort();
  const py = python(t, 'multiconn-server.py', ['127.0.0.1', String(port)]);
  await waitFor(py, 'listening on');
  const sel = clientSelector(t);
  const messages = ['Message 1 from client.', 'Message 2 from client.'];
  const clients = [1, 2, 3].map(() => new EchoMessage(sel, connecting(port), ['127.0.0.1', port], { messages }));
  await drive(sel, clients);
  for (const c of clients) t.equal(c.bytesReceived, Buffer.byteLength(messages.join('')));
  await waitFor(py, 'closing connection to');
  t.match(py.out(), /echoing b'Message 1 from client\./);
});
