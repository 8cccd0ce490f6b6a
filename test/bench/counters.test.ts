// A benchmark peer's own counters (bench/net.ts counterDeltas): the server
// prints `counters NAME N …` on SIGUSR2 at the start and the end of the
// window; the differences are the window's. Then the io_uring echo peer
// itself, signalled over a real load.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { counterDeltas } from '../../bench/net.js';
import { uringSupport } from '../../lib/uring/ring.js';
import { createConnection } from '../../lib/socket/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('counterDeltas(): the first two counters lines, as differences', async (t) => {
  const err = 'noise\ncounters enters 10 completions 40 bytes 640\nother\ncounters enters 25 completions 100 bytes 1600\ncounters enters 99 completions 999 bytes 9999\n';
  t.same(counterDeltas(err), { enters: 15, completions: 60, bytes: 960 });
  t.equal(counterDeltas('counters enters 1\n'), null, 'one line: no window');
  t.equal(counterDeltas(''), null);
});

const support = uringSupport();

t.test('the io_uring echo peer prints its counters on SIGUSR2', { skip: support.ok ? false : `io_uring unavailable: ${support.reason}` }, async (t) => {
  const child = spawn(process.execPath, [`${ROOT}dist/bench/uring-echo-server.js`, '127.0.0.1', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const deadline = Date.now() + 10_000;
  while (!/listening on [^:]+:(\d+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const port = Number(/listening on [^:]+:(\d+)/.exec(out)?.[1]);
  t.ok(port > 0, 'listening');
  const waitFor = async (n: number): Promise<void> => {
    const until = Date.now() + 10_000;
    while ((err.match(/^counters /gm) ?? []).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  };
  child.kill('SIGUSR2');
  await waitFor(1);
  const sock = createConnection(['127.0.0.1', port]);
  sock.settimeout(5);
  const msg = Buffer.alloc(64, 0x61);
  for (let i = 0; i < 10; i++) {
    sock.sendall(msg);
    let got = 0;
    while (got < 64) {
      const part = sock.recv(64 - got);
      if (part === null || part.length === 0) throw new Error('the echo server closed or would block');
      got += part.length;
    }
  }
  sock.close();
  child.kill('SIGUSR2');
  await waitFor(2);
  const d = counterDeltas(err);
  t.ok(d !== null, 'two counters lines');
  t.equal(d?.['bytes'], 640, 'the bytes of the 10 echoes in between');
  t.ok((d?.['enters'] ?? 0) >= 1 && (d?.['enters'] ?? 99) <= 40, `io_uring_enter calls counted (${d?.['enters']})`);
  child.kill('SIGINT');
  await once(child, 'exit');
  t.equal(child.exitCode, 0, 'exits 0 on SIGINT');
});
