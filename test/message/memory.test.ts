// Memory per slow peer, measured in a child server process (RSS and
// Node's arrayBuffers after a full GC): a pipelining client that never
// reads must cost about the high-water mark; clients that never read a big
// answer must not delay a good client, and their memory must be released
// when they close.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF, socketpair } from '../../lib/socket/index.js';
import { DefaultSelector } from '../../selectors/index.js';
import { Message } from '../../lib/message/index.js';
import { createRequest, encodeMessage, FrameParser } from '../../lib/protocol/index.js';

const fixture = fileURLToPath(new URL('../fixtures/memory-server.ts', import.meta.url));
const MiB = 1024 * 1024;
const HIGH_WATER_MARK = MiB; // Message's default
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Stats { requests: number; responses: number; rss: number; heapUsed: number; external: number; arrayBuffers: number; connections: number; accepted: number; paused: number; pending: number; input: number }

/** Start the fixture server; returns its port and a function asking for its stats. */
async function startChild(t: Test, mode: 'keep-alive' | 'one'): Promise<{ port: number; stats: () => Promise<Stats> }> {
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', fixture, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    child.stdin!.end();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  });
  const waiting: Array<(line: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const next = (): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer from the server child')), 30_000);
    waiting.push((line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
  const { port } = (await next()) as { port: number };
  return {
    port,
    stats: async () => {
      const answer = next();
      child.stdin!.write('stats\n');
      return (await answer) as unknown as Stats;
    },
  };
}

function connect(t: Test, port: number): Socket {
  const sock = new Socket(AF_INET, SOCK_STREAM);
  // A small fixed receive buffer (no autotuning up to tcp_rmem's max): the
  // server's output backs up into its own queue soon.
  sock.setsockopt(SOL_SOCKET, SO_RCVBUF, 16 * 1024);
  sock.connect(['127.0.0.1', port]);
  sock.setblocking(false);
  t.teardown(() => sock.close());
  return sock;
}

const fmt = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`;

t.test('a pipelining client that never reads costs about the high-water mark', async (t) => {
  const N = 40;
  const { port, stats } = await startChild(t, 'keep-alive');
  const base = await stats();
  // 64 KiB of whole request frames, sent round and round (a stream: frames stay aligned).
  const one = encodeMessage(createRequest('search', 'morpheus'));
  const block = Buffer.concat(Array.from({ length: Math.floor(65536 / one.length) }, () => one));
  const clients = Array.from({ length: N }, () => connect(t, port));
  const offsets = clients.map(() => 0);
  const start = performance.now();
  let s = await stats();
  let blockedSince = -1;
  let lastRequests = -1;
  while (performance.now() - start < 60_000) {
    let blocked = 0;
    for (let i = 0; i < N; i++) {
      let sends = 0;
      for (; sends < 64; sends++) {
        const n = clients[i].send(block.subarray(offsets[i]));
        if (n === null) break;
        offsets[i] = (offsets[i] + n) % block.length;
      }
      if (sends < 64) blocked++;
    }
    if (blocked === N) {
      if (blockedSince < 0) blockedSince = performance.now();
      // Kernel buffers full both ways for a while: ask (a full GC in the child, so not often).
      if (performance.now() - blockedSince > 500) {
        s = await stats();
        if (process.env.MEM_DEBUG) t.comment(JSON.stringify(s));
        // Settled: no request handled since the last look (reading is paused or held everywhere).
        if (s.requests === lastRequests) break;
        lastRequests = s.requests;
        blockedSince = -1;
      }
    } else blockedSince = -1;
    await sleep(5);
  }
  t.equal(s.connections, N, 'every client is connected');
  t.equal(s.requests, lastRequests, 'the server stopped reading from every client');
  t.ok(s.requests > N * 1000, `each client got many requests in (${s.requests} in all)`);
  const rss = (s.rss - base.rss) / N;
  const buffers = (s.arrayBuffers - base.arrayBuffers) / N;
  const heap = (s.heapUsed - base.heapUsed) / N;
  t.comment(`per never-reading pipelining client: RSS +${fmt(rss)}, arrayBuffers +${fmt(buffers)}, V8 heap +${fmt(heap)}; ` +
    `queued output ${fmt(s.pending / N)}, buffered input ${fmt(s.input / N)} (highWaterMark ${fmt(HIGH_WATER_MARK)})`);
  const bound = 2 * HIGH_WATER_MARK + 64 * 1024;
  t.ok(s.pending / N <= HIGH_WATER_MARK + 256 * 1024, 'queued output: the high-water mark plus the answers to one read');
  t.ok(buffers + heap <= bound, `buffers + heap per client (${fmt(buffers + heap)}) within 2 x highWaterMark + 64 KiB`);
  t.ok(rss <= bound + 512 * 1024, `RSS per client (${fmt(rss)}) near the bound`);
  for (const c of clients) c.close();
});

t.test('a pipelining client that never reads big answers: output stops near the high-water mark', async (t) => {
  const N = 20;
  const { port, stats } = await startChild(t, 'keep-alive');
  const base = await stats();
  // Each request asks for a 256 KiB answer: 64 of them (one turn) would be 16 MiB.
  const block = Buffer.concat(Array.from({ length: 256 }, () => encodeMessage(createRequest('big:', String(256 * 1024)))));
  const clients = Array.from({ length: N }, () => connect(t, port));
  let sent = 0;
  for (const c of clients) sent += c.send(block) ?? 0;
  t.equal(sent, N * block.length, 'the requests fit in the kernel buffers');
  let s = await stats();
  for (let i = 0; i < 100 && (s.paused < N || s.requests === 0); i++) {
    await sleep(100);
    s = await stats();
  }
  await sleep(300);
  s = await stats();
  t.equal(s.paused, N, 'every connection paused reading');
  const buffers = (s.arrayBuffers - base.arrayBuffers) / N;
  const rss = (s.rss - base.rss) / N;
  t.comment(`per client never reading 256 KiB answers: arrayBuffers +${fmt(buffers)}, RSS +${fmt(rss)}, queued output ${fmt(s.pending / N)}, ` +
    `requests answered ${s.requests / N} each`);
  t.ok(s.pending / N <= HIGH_WATER_MARK + 256 * 1024 + 1024, 'queued output: the high-water mark plus one answer');
  t.ok(buffers <= 2 * HIGH_WATER_MARK + 64 * 1024 + 256 * 1024, `buffers per client (${fmt(buffers)}) within 2 x highWaterMark + one read + one answer`);
});

t.test('clients that send a 15 MiB search and never read the answer: a good client is served, memory is released', async (t) => {
  const N = 20;
  const { port, stats } = await startChild(t, 'one');
  const base = await stats();
  // The app's own protocol: a search for a 15 MiB value is answered `No match for "<value>".`
  const request = encodeMessage(createRequest('search', 'x'.repeat(15 * MiB - 100)));
  const clients = Array.from({ length: N }, () => connect(t, port));
  const offsets = clients.map(() => 0);
  const start = performance.now();
  let good: Socket | null = null;
  let asked = 0;
  let waited = -1;
  const parser = new FrameParser();
  while (performance.now() - start < 60_000) {
    let done = 0;
    for (let i = 0; i < N; i++) {
      if (offsets[i] === request.length) done++;
      else offsets[i] += clients[i].send(request.subarray(offsets[i])) ?? 0;
    }
    // A good client arrives while the big requests are being received.
    if (good === null && offsets.some((o) => o > request.length / 2)) {
      good = connect(t, port);
      good.send(encodeMessage(createRequest('search', 'ring')));
      asked = performance.now();
    }
    if (good !== null && waited < 0) {
      const chunk = good.recv(65536);
      if (chunk !== null && chunk.length > 0 && parser.push(chunk).length === 1) waited = performance.now() - asked;
    }
    if (done === N && waited >= 0) break;
    await sleep(1);
  }
  t.ok(waited >= 0, 'the good client got its answer');
  t.comment(`a good request waited ${waited.toFixed(0)} ms while ${N} clients sent 15 MiB requests`);
  let s = await stats();
  for (let i = 0; i < 200 && s.responses < N; i++) {
    await sleep(50);
    s = await stats();
  }
  t.equal(s.responses, N, 'every big request was answered');
  const held = (s.arrayBuffers - base.arrayBuffers) / N;
  const peak = s.rss - base.rss;
  t.comment(`per client holding a 15 MiB answer: arrayBuffers +${fmt(held)}, RSS +${fmt(peak / N)}, queued ${fmt(s.pending / N)}`);
  t.ok(held <= 15 * MiB + 64 * 1024, `at most the unsent part of one answer held per client (${fmt(held)})`);
  for (const c of [...clients, good!]) c.close();
  for (let i = 0; i < 100 && s.connections > 0; i++) {
    await sleep(50);
    s = await stats();
  }
  t.equal(s.connections, 0, 'every connection closed');
  t.comment(`after they closed: arrayBuffers ${fmt(s.arrayBuffers - base.arrayBuffers)}, RSS ${fmt(s.rss - base.rss)} above the baseline`);
  t.ok(s.arrayBuffers - base.arrayBuffers < 4 * MiB, 'the answers were released');
  // What glibc's malloc keeps is not ours to free: how much of the peak stays
  // resident after free() depends on how the arenas fragmented (20-77% in
  // runs on a loaded 2-core machine), so RSS is reported, not asserted; the
  // buffers above are the library's part and are asserted.
  t.comment(`RSS kept after close: ${fmt(s.rss - base.rss)} of a ${fmt(peak)} peak`);
});

t.test('a small queued chunk before a big one is sent as it is, in order', async (t) => {
  // Message is abstract: the smallest subclass that only writes.
  class Writer extends Message {
    protected onData(): void {}
  }
  const [a, b] = socketpair();
  t.teardown(() => b.close());
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  const sel = new DefaultSelector();
  t.teardown(() => sel.close());
  const w = new Writer(sel, a, '', { highWaterMark: 64 * MiB });
  t.teardown(() => w.close());
  const small = Buffer.alloc(300_000, 1);
  const big = Buffer.alloc(3 * MiB, 2);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 255;
  w.write(small);
  w.write(big);
  b.setblocking(false);
  const got: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < 100_000 && total < small.length + big.length; i++) {
    for (const [key, mask] of sel.select(0)) (key.data as Writer).processEvents(mask);
    const chunk = b.recv(1 << 20);
    if (chunk !== null) {
      got.push(chunk);
      total += chunk.length;
    } else await sleep(0);
  }
  t.ok(Buffer.concat(got).equals(Buffer.concat([small, big])), 'every byte arrived, in order');
  t.equal(w.pendingBytes, 0);
});
