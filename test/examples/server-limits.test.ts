// The limits and the graceful stop of the Message server programs
// (app-server, multiconn-server), spawned from dist/examples: half-sent
// requests closed by --request-timeout while a good client is served,
// --idle-timeout, --max-connections, and a Ctrl-C that delivers every
// answer in flight (a second one forces).
import t from 'tap';
import { connect, type Socket as NetSocket } from 'node:net';
import { readFileSync } from 'node:fs';
import { encodeMessage, createRequest, FrameParser, type Frame } from '../../lib/index.js';
import { INTERRUPTED, script, sleep, spawnProc, startServer, waitCount } from './server-harness.js';

const frame = encodeMessage(createRequest('search', 'morpheus'));

/** The soft RLIMIT_NOFILE of this process. */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line === undefined ? NaN : Number(line.split(/\s{2,}/)[1]);
  return Number.isFinite(soft) ? soft : 1024;
}

/** A connected node:net socket that collects what it receives and notes EOF/close. */
async function open(port: number): Promise<{ sock: NetSocket; data: () => Buffer; closed: Promise<void> }> {
  const sock = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  sock.on('error', () => {});
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return { sock, data: () => Buffer.concat(chunks), closed };
}

function frames(data: Buffer): Frame[] {
  return new FrameParser().push(data);
}

/** One request on a new connection; its answer (rejects after `ms`). */
async function ask(port: number, ms = 10_000): Promise<Frame> {
  const c = await open(port);
  c.sock.write(frame);
  const start = Date.now();
  for (;;) {
    const got = frames(c.data());
    if (got.length > 0) {
      c.sock.destroy();
      return got[0];
    }
    if (Date.now() - start > ms) throw new Error('no answer');
    await sleep(10);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('app-server: 1,000 half-sent requests are closed by --request-timeout while a good client is served', async (t) => {
  // Each connection costs an fd here and one in the server.
  const n = Math.min(1000, Math.floor((openFileLimit() - 200) / 2));
  if (n < 1000) t.comment(`RLIMIT_NOFILE is low: ${n} connections instead of 1,000`);
  const { proc, port } = await startServer(t, 'app-server', ['--async', '--quiet', '--keep-alive', '--request-timeout', '1', '--idle-timeout', '0', '--backlog', '1024'], { timeoutMs: 120_000 });
  const slow: Array<Awaited<ReturnType<typeof open>>> = [];
  for (let i = 0; i < n; i += 100) {
    slow.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => open(port)))));
  }
  for (const c of slow) c.sock.write(frame.subarray(0, 30));
  let served = 0;
  const allClosed = Promise.all(slow.map((c) => c.closed));
  let done = false;
  void allClosed.then(() => (done = true));
  const start = Date.now();
  while (!done && Date.now() - start < 60_000) {
    const answer = await ask(port);
    t.same(answer.content, { result: 'Follow the white rabbit. 🐰' });
    served++;
    await sleep(50);
  }
  await withTimeout(allClosed, 60_000, 'the half-sent connections to close');
  t.ok(served >= 3, `the good client was served throughout (${served} answers)`);
  // Every line is printed before its connection closes; the pipe may deliver them a little later.
  // (--async: a blocking loop never lets Node flush stdout once the pipe is full.)
  await waitCount(proc, /Request not complete after 1000 ms/g, n);
  t.equal(proc.out().match(/Request not complete after 1000 ms/g)?.length, n, 'each closed with ERR_REQUEST_TIMEOUT');
  t.same((await ask(port)).content, { result: 'Follow the white rabbit. 🐰' }, 'served after they left');
});

t.test('multiconn-server: --idle-timeout closes a silent connection; --max-connections rejects the extra one', async (t) => {
  const { proc, port } = await startServer(t, 'multiconn-server', ['--idle-timeout', '0.3', '--max-connections', '2']);
  const a = await open(port);
  const b = await open(port);
  await proc.waitFor(/accepted connection from[^\n]*\n[^]*accepted connection from/);
  const c = await open(port);
  await withTimeout(c.closed, 10_000, 'the third connection to be closed');
  t.equal(c.data().length, 0);
  await withTimeout(Promise.all([a.closed, b.closed]), 10_000, 'the idle connections to close');
  t.match(proc.out(), /error on connection to \('127\.0\.0\.1', \d+\): No data in either direction for 300 ms\./);
});

t.test('app-server: Ctrl-C delivers every answer in flight, then exits; a second Ctrl-C forces', async (t) => {
  for (const async of [false, true]) {
    t.test(async ? '--async' : 'blocking select()', async (t) => {
      const { proc, port } = await startServer(t, 'app-server', ['--keep-alive', ...(async ? ['--async'] : [])]);
      // A client that pipelines 3,000 requests and reads nothing yet: the
      // answers fill the kernel buffers and then the server's queue.
      const c = await open(port);
      c.sock.pause();
      c.sock.write(Buffer.concat(Array.from({ length: 3000 }, () => frame)));
      const idle = await open(port);
      await proc.waitFor(/received request[^]*received request/);
      await sleep(300);
      proc.child.kill('SIGINT');
      await withTimeout(idle.closed, 10_000, 'the idle keep-alive connection to close');
      await sleep(200);
      c.sock.resume();
      await withTimeout(c.closed, 20_000, 'the busy connection to be closed after its answers');
      const { code } = await withTimeout(proc.exited, 20_000, 'the server to exit');
      t.equal(code, 0);
      t.match(proc.out(), INTERRUPTED);
      const received = proc.out().match(/received request/g)?.length ?? 0;
      const got = new FrameParser();
      const answers = got.push(c.data());
      t.equal(got.inFrame, false, 'the stream ends at a frame boundary');
      t.ok(received > 0);
      t.equal(answers.length, received, `every request received was answered (${received})`);
    });
  }

  t.test('a second Ctrl-C closes what the first is still waiting for', async (t) => {
    const { proc, port } = await startServer(t, 'app-server', ['--keep-alive', '--quiet', '--shutdown-timeout', '60']);
    const c = await open(port);
    c.sock.pause();
    c.sock.write(Buffer.concat(Array.from({ length: 200_000 }, () => frame)));
    await sleep(500);
    proc.child.kill('SIGINT');
    await sleep(300);
    t.equal(proc.child.exitCode, null, 'still draining the reader that does not read');
    proc.child.kill('SIGINT');
    const { code } = await withTimeout(proc.exited, 20_000, 'the server to exit on the second Ctrl-C');
    t.equal(code, 0);
    t.match(proc.out(), INTERRUPTED);
    c.sock.destroy();
  });
});

t.test('app-server --keep-alive: clients that pipeline and never read cost at most about the high-water mark each', async (t) => {
  const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  // A fixed young generation, so that V8's semi-space growth is not taken for a cost per client.
  const proc = spawnProc(t, process.execPath, ['--max-semi-space-size=1', script('app-server'), '--keep-alive', '--quiet', '127.0.0.1', '0'], { timeoutMs: 60_000 });
  const port = Number((await proc.waitFor(/listening on \('127\.0\.0\.1', (\d+)\)/))[1]);
  await sleep(300);
  const before = rss(proc.pid);
  const burst = Buffer.concat(Array.from({ length: 100_000 }, () => frame));
  const clients = await Promise.all(Array.from({ length: 40 }, () => open(port)));
  for (const c of clients) {
    c.sock.pause();
    c.sock.write(burst);
  }
  await sleep(3000);
  const perClient = (rss(proc.pid) - before) / clients.length;
  t.ok(perClient < 2 * 1024 * 1024, `RSS per never-reading client: ${Math.round(perClient / 1024)} KiB (high-water mark 1 MiB)`);
  for (const c of clients) c.sock.destroy();
});
