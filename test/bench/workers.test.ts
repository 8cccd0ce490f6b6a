// The workers curve (bench/workers.ts) and what it relies on: the echo
// load generator's latency fields (run for real against the C echo server
// on loopback), per-thread CPU from /proc, waiting for every SO_REUSEPORT
// listener of a --workers server, and the pure formatting of the table
// and its notes. No figure is asserted (tests never assert speed).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildC, combineLoads, listenerCount, runLoad, runLoads, startServer, statTicks, summarize, threadCpuDelta, threadCpuSeconds, type Measurement,
} from '../../bench/net.js';
import { coresShare, curveNotes, curveRows, loopThreads, parseWorkerList, pinning, rawMedian, splitConns, type CurveResult } from '../../bench/workers.js';
import { createRequest, encodeMessage, REQUEST_SEARCH } from '../../lib/protocol/index.js';
import { runNode } from '../helpers/run-node.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('echo-load reports p50 <= p99 <= p99.9 <= max over the round trips of its window', async (t) => {
  const server = await startServer({ name: 'C echo', command: (host, port) => ({ cmd: buildC('epoll-echo-server'), args: [host, String(port)] }) });
  t.teardown(() => server.stop());
  const gen = buildC('echo-load');
  for (const pipeline of [1, 4]) {
    const res = await runLoad({
      cmd: gen, args: ['--port', String(server.port), '--conns', '8', '--size', '64', '--pipeline', String(pipeline), '--seconds', '0.3', '--warmup', '0.1'],
    }, server, undefined, 30_000);
    const j = res.json as Record<string, number>;
    t.equal(j.errors, 0, 'no connection failed');
    t.ok(j.msgs > 0, `messages echoed (${j.msgs})`);
    // Every round trip of the window is a sample; with --pipeline K a sample is a batch of K.
    t.equal(j.lat_samples * pipeline, j.msgs, `pipeline ${pipeline}: one sample per round trip`);
    t.ok(j.p50_us > 0, `p50 ${j.p50_us} µs`);
    t.ok(j.p50_us <= j.p99_us && j.p99_us <= j.p999_us && j.p999_us <= j.max_us, `ordered: ${j.p50_us} ${j.p99_us} ${j.p999_us} ${j.max_us}`);
    // The fields the other parsers read are still there.
    for (const k of ['seconds', 'msgs_per_s', 'conns', 'size', 'pipeline', 'alive', 'client_cpu_s']) t.type(j[k], 'number', k);
  }
  // Two generators side by side: one result over their union window.
  const both = await runLoads([8, 4].map((conns) => ({
    cmd: gen, args: ['--port', String(server.port), '--conns', String(conns), '--size', '64', '--seconds', '0.3', '--warmup', '0.1'],
  })), server, 'msgs', undefined, 30_000);
  const j = both.json as Record<string, number>;
  t.same([j.generators, j.conns, j.errors], [2, 12, 0], 'two generators, 12 connections, no error');
  t.ok(j.msgs > 0 && j.lat_samples > 0, `messages (${j.msgs}) and samples (${j.lat_samples})`);
  t.ok(j.seconds >= 0.25 && j.seconds < 5, `the union window (${j.seconds} s)`);
  t.ok(both.cpuAtEnd >= both.cpuAtStart && both.atEnd > both.atStart, 'server CPU sampled at the first start and the last end');
  const stop = await server.stop();
  t.equal(stop.killed, false, 'the server stopped on SIGINT');
});

t.test('combineLoads() adds rates, cores and counts over the union window; percentiles are the worst', async (t) => {
  const a = { msgs: 1000, seconds: 1, client_cpu_s: 0.5, errors: 0, conns: 50, size: 64, lat_samples: 1000, p50_us: 100, p99_us: 300, p999_us: 400, max_us: 900 };
  const b = { msgs: 2100, seconds: 1.05, client_cpu_s: 0.42, errors: 2, conns: 50, size: 64, lat_samples: 2100, p50_us: 120, p99_us: 250, p999_us: 500, max_us: 800 };
  const c = combineLoads([a, b], 'msgs', 1.1);
  // Rates 1000/s + 2000/s over 1.1 s; cores 0.5 + 0.4 over 1.1 s.
  const { client_cpu_s: cpu, ...rest } = c;
  t.ok(Math.abs(Number(cpu) - 0.99) < 1e-9, `client CPU 0.9 cores over 1.1 s (${cpu})`);
  t.same(rest, { msgs: 3300, seconds: 1.1, errors: 2, conns: 100, size: 64, generators: 2, lat_samples: 3100, p50_us: 120, p99_us: 300, p999_us: 500, max_us: 900 });
  const app = combineLoads([{ requests: 10, seconds: 1, client_cpu_s: 0.1, errors: 0, mode: 'keepalive' }, { requests: 30, seconds: 1, client_cpu_s: 0.1, errors: 1, mode: 'keepalive' }], 'requests', 1);
  t.same(app, { requests: 40, seconds: 1, client_cpu_s: 0.2, errors: 1, mode: 'keepalive', generators: 2 }, 'no latency fields, none made up');
});

t.test('splitConns() deals the connections over the generators', async (t) => {
  t.same(splitConns(100, 1), [100]);
  t.same(splitConns(10, 3), [4, 3, 3]);
  t.same(splitConns(8, 8), [1, 1, 1, 1, 1, 1, 1, 1]);
  t.throws(() => splitConns(2, 3), /cannot split 2 connections over 3 generators/);
  t.throws(() => splitConns(10, 0), /cannot split/);
});

t.test('app-load times every request too, in keepalive and conn mode', async (t) => {
  const frame = encodeMessage(createRequest('search', 'morpheus')).toString('hex');
  const gen = buildC('app-load');
  for (const [mode, extra, pipeline] of [['keepalive', ['--keep-alive'], 3], ['conn', [], 1]] as const) {
    const server = await startServer({
      name: `app-server ${mode}`,
      command: (host, port) => ({ cmd: process.execPath, args: [`${ROOT}dist/examples/app-server.js`, '--quiet', ...extra, host, String(port)] }),
    });
    try {
      const res = await runLoad({
        cmd: gen, args: ['--port', String(server.port), '--mode', mode, '--conns', '4', '--pipeline', String(pipeline),
          '--frame-hex', frame, '--expect', REQUEST_SEARCH.get('morpheus')!, '--seconds', '0.3', '--warmup', '0.1'],
      }, server, undefined, 30_000);
      const j = res.json as Record<string, number>;
      t.equal(j.errors, 0, `${mode}: no error`);
      t.ok(j.requests > 0, `${mode}: requests answered (${j.requests})`);
      t.equal(j.lat_samples, j.requests, `${mode}: one sample per request`);
      t.ok(j.p50_us > 0 && j.p50_us <= j.p99_us && j.p99_us <= j.p999_us && j.p999_us <= j.max_us, `${mode}: ${j.p50_us} ${j.p99_us} ${j.p999_us} ${j.max_us}`);
    } finally {
      const stop = await server.stop();
      t.equal(stop.killed, false, `${mode}: the server stopped on SIGINT`);
    }
  }
});

t.test('a --workers 2 server is ready only when both listeners are', async (t) => {
  const server = await startServer({
    name: 'multiconn --workers 2',
    command: (host, port) => ({ cmd: process.execPath, args: [`${ROOT}dist/examples/multiconn-server.js`, '--quiet', '--workers', '2', host, String(port)] }),
  }, { listeners: 2 });
  t.teardown(() => server.stop());
  t.equal(listenerCount(server.port), 2, 'two SO_REUSEPORT listeners on the port');
  const threads = threadCpuSeconds(server.pid);
  t.ok(threads.size >= 3, `main thread and two workers (${threads.size} threads)`);
  t.ok([...threads.values()].every((s) => s >= 0), 'CPU seconds per thread');
  const stop = await server.stop();
  t.same([stop.code, stop.killed], [0, false], 'exits 0 on SIGINT');
  t.equal(listenerCount(server.port), 0, 'no listener left');
});

t.test('statTicks() reads utime + stime after the command name', async (t) => {
  const self = readFileSync('/proc/self/stat', 'utf8');
  t.ok(statTicks(self) >= 0, 'this process');
  // A command name may hold spaces and ')': fields count from its last ')'.
  const fields = ['S', ...Array.from({ length: 10 }, () => '0'), '123', '45', ...Array.from({ length: 30 }, () => '0')].join(' ');
  t.equal(statTicks(`42 (a b) c)) ${fields}`), 168);
  t.throws(() => statTicks('not a stat line'), /not a \/proc stat line/);
  t.throws(() => statTicks('1 (x) S 0'), /not a \/proc stat line/);
});

t.test('threadCpuDelta() pairs threads by id, busiest first', async (t) => {
  const before = new Map([[1, 1.0], [2, 0.5], [3, 0.25]]);
  const after = new Map([[1, 1.25], [2, 1.5], [4, 9.0]]);
  t.same(threadCpuDelta(before, after), [1.0, 0.25], 'thread 3 ended and thread 4 began inside the window: left out');
});

t.test('pinning() gives n loops the first n CPUs and the generator the rest', async (t) => {
  t.same(pinning(1, 2), { server: '0', load: '1' });
  t.same(pinning(2, 8), { server: '0-1', load: '2-7' });
  t.same(pinning(3, 4), { server: '0-2', load: '3' });
  t.equal(pinning(2, 2), undefined, 'no CPU left for the generator: not pinned');
});

t.test('parseWorkerList() takes positive integers once each', async (t) => {
  t.same(parseWorkerList('1,2'), [1, 2]);
  t.same(parseWorkerList(' 4 , 1 '), [4, 1]);
  for (const bad of ['', '0', '1,,2', '1.5', 'two', '1,1', '65']) t.throws(() => parseWorkerList(bad), /--workers/, JSON.stringify(bad));
});

/** A measurement as measure() makes it, from a few figures. */
function m(rate: number, cpuPerOp: number, client: number, threads: number[], raw: Record<string, number> = {}): Measurement {
  const seconds = 2;
  const ops = rate * seconds;
  const serverCpu = cpuPerOp * ops;
  return {
    name: 'x', ops, seconds, rate, serverCpuSeconds: serverCpu, cpuSecondsPerOp: cpuPerOp, serverUtil: serverCpu / seconds,
    clientCpuSeconds: client * seconds, otherCpuSeconds: 0.1 * seconds, stealSeconds: 0, errors: 0,
    stop: { code: 0, signal: null, killed: false }, raw: { msgs: ops, ...raw }, threadCpuSeconds: threads.map((x) => x * seconds),
  };
}

t.test('the curve table: ratios to the fewest workers of the same curve, latency, threads, generator share', async (t) => {
  const one = summarize('w1', [m(100_000, 8e-6, 0.9, [0.8, 0.01], { p50_us: 1000, p99_us: 1500 }), m(110_000, 8e-6, 0.9, [0.88, 0.01], { p50_us: 900, p99_us: 1400 })]);
  const two = summarize('w2', [m(120_000, 9e-6, 0.8, [0.55, 0.5, 0.03], { p50_us: 800, p99_us: 3000 }), m(121_000, 9e-6, 0.8, [0.55, 0.54, 0.03], { p50_us: 800, p99_us: 2800 })]);
  const results: CurveResult[] = [
    { point: { name: 'echo --workers 1', curve: 'echo', workers: 1 }, summary: one },
    { point: { name: 'echo --workers 2', curve: 'echo', workers: 2 }, summary: two },
    { point: { name: 'other --workers 2', curve: 'other', workers: 2 }, summary: null },
  ];
  t.equal(rawMedian(one, 'p99_us'), 1450);
  t.ok(Number.isNaN(rawMedian(one, 'nope')));
  t.equal(loopThreads(two, 2), '55% + 52% (+3%)');
  t.equal(loopThreads(one, 1), '84% (+1%)');
  t.equal(coresShare(0.93, 2), '0.93 (47%)');
  const rows = curveRows(results, 2);
  t.same(rows[0].slice(10, 13), ['1.00x', '1.00x', '1.00x'], 'the reference row');
  // Paired per round: 120/100 and 121/110 → median 1.155; p99 3000/1500, 2800/1400 → 2.00; CPU 9/8.
  t.same(rows[1].slice(10, 13), ['1.15x', '2.00x', '1.13x']);
  t.same(rows[1].slice(3, 5), ['800', '2900'], 'p50 and p99 medians in µs');
  t.equal(rows[1][8], '0.80 (40%)', 'generator cores and share of 2 CPUs');
  t.equal(rows[2][1], 'failed');
  const notes = curveNotes(results, 2);
  t.equal(notes.length, 3);
  t.match(notes[0], /used 0\.80-0\.90 cores in these rows: 40-45% of this machine's 2 cores/);
  // One worker: 8 µs of server CPU and 0.9 cores / 100k-110k ops/s = 9.0 or 8.2 µs (median 8.59) of the generator's per op.
  t.match(notes[1], /^echo: server and generator share the 2 cores\. At 1 worker each operation cost 8\.00 µs of server CPU and 8\.59 µs of the generator's, so 2 cores carry at most 2\/16\.59 µs = 120548 ops\/s however many loops serve; the row reached 105000 \(87%\)/);
  // Two workers: server 1.08 + generator 0.80 + others 0.10 = 1.98 of 2: full.
  t.match(notes[2], /^echo: with 2 workers the server used 1\.08 cores, the generator 0\.80 and other processes 0\.10: 1\.98 of 2: the machine was full/);
  const idle = curveNotes(results, 8);
  t.match(idle[2], /1\.98 of 8, not all busy/);
  t.same(curveNotes([results[2]], 2), [], 'nothing measured, nothing said');
  const four = curveNotes(results, 2, 4);
  t.match(four[0], /^The 4 load generators \(one thread each, in C\) used/);
  t.match(four[1], /server and generators share the 2 cores.* µs of the generators', so/);
});

t.test('workers.js answers --help', async (t) => {
  const res = await runNode([`${ROOT}dist/bench/workers.js`, '--help'], { cwd: ROOT, timeoutMs: 30_000 });
  t.equal(res.code, 0);
  t.match(res.stdout, /^usage: node dist\/bench\/workers\.js/);
});
