// Every server program when file descriptors run out, spawned from
// dist/examples under `prlimit`: with 64 fds and 200 clients holding their
// connections, it stays alive, does not spin (CPU time over 2 s while
// saturated), prints a bounded number of lines, and serves a new client
// once they have gone. And the programs that watch their sockets with
// select() (directly, or with --backend select) survive 1,100 clients: the
// connections whose fd is 1024 or more are closed with one line each, the
// others are still served.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { connect, type Socket as NetSocket } from 'node:net';
import { encodeMessage, createRequest, FrameParser } from '../../lib/index.js';
import { cpuTicks, script, sleep, spawnProc, type Proc } from './server-harness.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
/** Whether this process may raise its own fd limit to `n` (the hard limit allows it). */
function hardLimitAtLeast(n: number): boolean {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn']);
  const text = String(r.stdout).trim();
  return text === 'unlimited' || Number(text) >= n;
}

const frame = encodeMessage(createRequest('search', 'morpheus'));

/** How a program answers: what a client sends, and whether what came back is right (and complete). */
interface Talk {
  send: Buffer;
  ok: (got: Buffer) => boolean;
}
const ECHO: Talk = { send: Buffer.from('ping\n'), ok: (b) => b.toString() === 'ping\n' };
const UPPER: Talk = { send: Buffer.from('ping\n'), ok: (b) => b.toString() === 'PING\n' };
const HELLO: Talk = { send: Buffer.from('hi'), ok: (b) => b.toString() === 'hello world' };
const HOWTO: Talk = { send: Buffer.from('GET / HTTP/1.0\r\n\r\n'), ok: (b) => b.toString().endsWith('Hello, world!') };
const WEB: Talk = { send: Buffer.from('GET / HTTP/1.0\r\n\r\n'), ok: (b) => /^HTTP\/1\.1 200 /.test(b.toString()) && b.includes('</html>') };
const APP: Talk = {
  send: frame,
  ok: (b) => {
    const got = new FrameParser().push(b);
    return got.length === 1 && (got[0].content as { result?: string }).result === 'Follow the white rabbit. 🐰';
  },
};

interface Program {
  name: string;
  args: string[];
  talk: Talk;
  stdin?: 'pipe';
  /** Clients in the flood (default 200). */
  clients?: number;
}

const PROGRAMS: Program[] = [
  { name: 'howto-blocking', args: ['--quiet', '--backlog', '128'], talk: HOWTO },
  { name: 'howto-epoll-lt', args: ['--quiet', '--backlog', '128'], talk: HOWTO },
  { name: 'howto-epoll-et', args: ['--quiet', '--backlog', '128'], talk: HOWTO },
  { name: 'howto-epoll-cork', args: ['--quiet', '--backlog', '128'], talk: HOWTO },
  { name: 'howto-epoll-nodelay', args: ['--quiet', '--backlog', '128'], talk: HOWTO },
  { name: 'echo-server', args: ['--forever', '--quiet', '--backlog', '128'], talk: ECHO },
  { name: 'select-echo-server', args: ['--quiet', '--backlog', '128'], talk: UPPER },
  { name: 'poll-server', args: ['--quiet', '--backlog', '128'], talk: HELLO },
  { name: 'epoll-echo-server', args: ['--quiet', '--backlog', '128'], talk: ECHO },
  { name: 'epoll-web-server', args: ['--quiet', '--backlog', '128'], talk: WEB },
  { name: 'single-process-server', args: ['--quiet', '--backlog', '128'], talk: ECHO },
  // A process per client: 200 would start 200 Node processes (gigabytes). Its parent closes its copy of
  // each connection once the child has it, so its own fd count does not grow with the clients anyway.
  { name: 'multi-process-server', args: ['--quiet', '--backlog', '128'], talk: ECHO, clients: 10 },
  // A thread starts only with ~40 fds free (one at a time under 64 fds): a short backlog keeps the
  // queue of dead connections it works through afterwards short.
  { name: 'multi-thread-server', args: ['--quiet', '--backlog', '16'], talk: ECHO },
  { name: 'prefork-server', args: ['--quiet', '--backlog', '128'], talk: ECHO },
  { name: 'nonblocking-server', args: ['--quiet', '--backlog', '128', '--sleep', '0.01'], talk: ECHO },
  { name: 'select-stdin-server', args: ['--quiet', '--backlog', '128'], talk: ECHO, stdin: 'pipe' },
  { name: 'select-writelist-server', args: ['--quiet', '--backlog', '128'], talk: ECHO },
  { name: 'epoll-server', args: ['--quiet', '--backlog', '128'], talk: ECHO },
  { name: 'app-server', args: ['--quiet', '--backlog', '128'], talk: APP },
  { name: 'app-server', args: ['--quiet', '--backlog', '128', '--async'], talk: APP },
  { name: 'app-server', args: ['--quiet', '--backlog', '128', '--backend', 'select'], talk: APP },
  { name: 'app-server', args: ['--quiet', '--backlog', '128', '--backend', 'poll'], talk: APP },
  { name: 'multiconn-server', args: ['--quiet', '--backlog', '128'], talk: ECHO },
  { name: 'multiconn-server', args: ['--quiet', '--backlog', '128', '--async'], talk: ECHO },
  { name: 'multiconn-server', args: ['--quiet', '--backlog', '128', '--backend', 'select'], talk: ECHO },
  { name: 'multiconn-server', args: ['--quiet', '--backlog', '128', '--backend', 'poll', '--async'], talk: ECHO },
  // The completion engine: its multishot accept ends with EMFILE and is re-armed after the pause.
  { name: 'app-server', args: ['--quiet', '--backlog', '128', '--engine', 'uring'], talk: APP },
  { name: 'multiconn-server', args: ['--quiet', '--backlog', '128', '--engine', 'uring'], talk: ECHO },
];

/** The programs that call select() themselves or run on `--backend select`. */
const SELECT_PROGRAMS: Program[] = [
  { name: 'select-echo-server', args: ['--quiet', '--backlog', '1024'], talk: UPPER },
  { name: 'select-writelist-server', args: ['--quiet', '--backlog', '1024'], talk: ECHO },
  { name: 'select-stdin-server', args: ['--quiet', '--backlog', '1024'], talk: ECHO, stdin: 'pipe' },
  { name: 'app-server', args: ['--quiet', '--backlog', '1024', '--backend', 'select'], talk: APP },
  { name: 'app-server', args: ['--quiet', '--backlog', '1024', '--backend', 'select', '--async'], talk: APP },
  { name: 'multiconn-server', args: ['--quiet', '--backlog', '1024', '--backend', 'select'], talk: ECHO },
];

const label = (p: Program): string => [p.name, ...p.args.filter((a) => a === '--async' || a === 'select' || a === 'poll' || a === 'uring')].join(' ');

/** Start `program` under `prlimit --nofile=N:N` on 127.0.0.1 port 0; its port once it listens. */
async function start(t: Test, p: Program, nofile: number): Promise<{ proc: Proc; port: number }> {
  // Without tap's NODE_OPTIONS (its process-info hook): loaded into the program and into every
  // worker thread it starts, the hook opens fds of its own and would skew a 64-fd limit.
  const proc = spawnProc(t, 'env', ['-u', 'NODE_OPTIONS', 'prlimit', `--nofile=${nofile}:${nofile}`, process.execPath, script(p.name), ...p.args, '127.0.0.1', '0'], {
    stdin: p.stdin,
    timeoutMs: 90_000,
  });
  const m = await proc.waitFor(/listening on \('127\.0\.0\.1', (\d+)\)/, 40_000);
  return { proc, port: Number(m[1]) };
}

/** Connect `n` clients that send nothing and hold their connections; resolves after at most `ms`. */
async function flood(port: number, n: number, ms: number): Promise<{ socks: NetSocket[]; connected: () => number; closedByServer: () => number }> {
  const socks: NetSocket[] = [];
  let connected = 0;
  let closed = 0;
  const waits: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => closed++);
    socks.push(s);
    waits.push(new Promise<void>((resolve) => {
      s.once('connect', () => {
        connected++;
        resolve();
      });
      s.once('close', () => resolve());
    }));
  }
  // Past the backlog, SYNs are dropped and retried: do not wait for those.
  await Promise.race([Promise.all(waits), sleep(ms)]);
  return { socks, connected: () => connected, closedByServer: () => closed };
}

/** One client: send the program's request, wait (bounded) for a right answer. */
async function ask(port: number, talk: Talk, ms = 10_000): Promise<string> {
  const s = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let closed = false;
  s.on('data', (d: Buffer) => chunks.push(d));
  s.on('error', () => {});
  s.on('close', () => (closed = true));
  s.write(talk.send);
  const start = Date.now();
  try {
    for (;;) {
      const got = Buffer.concat(chunks);
      if (talk.ok(got)) return 'ok';
      if (closed) return `closed after ${JSON.stringify(got.toString().slice(0, 200))}`;
      if (Date.now() - start > ms) return `no right answer after ${ms} ms: ${JSON.stringify(got.toString().slice(0, 200))}`;
      await sleep(10);
    }
  } finally {
    s.destroy();
  }
}

/** Ask until one answer is right (a backlog of dead connections may be worked through first). */
async function askUntilServed(port: number, talk: Talk, ms: number): Promise<string> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < ms) {
    last = await ask(port, talk, Math.max(1000, ms - (Date.now() - start)));
    if (last === 'ok') return last;
    await sleep(100);
  }
  return last;
}

const lineCount = (proc: Proc): number => (proc.out() + proc.err()).split('\n').filter((l) => l.trim() !== '').length;

t.test('every server program under 64 fds with 200 clients: alive, no spin, bounded output, serves again', { skip: hasPrlimit ? false : 'prlimit is not installed', timeout: 180_000 }, async (t) => {
  t.jobs = 4; // programs side by side: each check is about its own process
  for (const p of PROGRAMS) {
    t.test(label(p), async (t) => {
      const { proc, port } = await start(t, p, 64);
      const before = lineCount(proc);
      const clients = await flood(port, p.clients ?? 200, 3000);
      await sleep(700); // let it run into the limit
      const cpu0 = await cpuTicks(proc);
      const lines0 = lineCount(proc);
      await sleep(2000);
      const cpu = (await cpuTicks(proc)) - cpu0; // clock ticks: 100 per second
      const lines = lineCount(proc) - lines0;
      t.equal(proc.child.exitCode, null, `still running (stderr ${JSON.stringify(proc.err().slice(-500))})`);
      t.ok(cpu < 60, `little CPU while saturated: ${cpu} ticks in 2 s (a spinning loop uses ~200)`);
      t.ok(lines <= 5, `at most a few lines while saturated (${lines})`);
      t.ok(lineCount(proc) - before < 60, `bounded output overall (${lineCount(proc) - before} lines): ${JSON.stringify((proc.out() + proc.err()).slice(-300))}`);
      for (const s of clients.socks) s.destroy();
      t.equal(await askUntilServed(port, p.talk, 40_000), 'ok', 'a new client is served once they left');
      t.equal(proc.child.exitCode, null, 'still running');
    });
  }
});

t.test('select() programs with 1,100 clients: the fds past 1023 are closed with a line, the others served', { skip: !hasPrlimit ? 'prlimit is not installed' : !hardLimitAtLeast(4096) ? 'the hard RLIMIT_NOFILE is below 4096' : false, timeout: 180_000 }, async (t) => {
  t.jobs = 3;
  for (const p of SELECT_PROGRAMS) {
    t.test(label(p), async (t) => {
      const { proc, port } = await start(t, p, 4096);
      // An early client (low fd) that will talk after the flood.
      const early = connect(port, '127.0.0.1');
      const earlyData: Buffer[] = [];
      early.on('data', (d: Buffer) => earlyData.push(d));
      early.on('error', () => {});
      await new Promise<void>((resolve) => early.once('connect', () => resolve()));
      const clients = await flood(port, 1100, 10_000);
      // The server closes what it cannot watch: about 1100 - 1000 of them.
      const since = Date.now();
      while (clients.closedByServer() < 50 && Date.now() - since < 10_000) await sleep(50);
      t.equal(proc.child.exitCode, null, `still running (stderr ${JSON.stringify(proc.err().slice(-500))})`);
      const refused = clients.closedByServer();
      t.ok(refused >= 50 && refused <= 200, `the connections past fd 1023 were closed (${refused} of 1,100)`);
      const lines = (proc.out().match(/^.*(too high for select\(\)|FD_SETSIZE).*$/gm) ?? []).length;
      // One line per refused connection, not one per retry: about 1,100 - 1,024 +
      // the server's own fds. (The clients may notice fewer closes than were
      // made by the time they look, so the bound is on the count possible.)
      t.ok(lines >= 1 && lines <= 200, `one line per refused connection (${lines} lines, ${refused} closed as seen by the clients)`);
      early.write(p.talk.send);
      const t0 = Date.now();
      while (!p.talk.ok(Buffer.concat(earlyData)) && Date.now() - t0 < 10_000) await sleep(20);
      t.ok(p.talk.ok(Buffer.concat(earlyData)), 'a client connected before the flood is still served');
      for (const s of clients.socks) s.destroy();
      early.destroy();
      t.equal(await askUntilServed(port, p.talk, 20_000), 'ok', 'a new client is served once they left');
      t.equal(proc.child.exitCode, null, 'still running');
    });
  }
});
