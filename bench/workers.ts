/**
 * The workers curve ("One loop per core", issue 13): multiconn-server
 * (EchoMessage) with `--workers 1` (one loop on the main thread) and
 * `--workers 2` (two loops in worker threads on one SO_REUSEPORT port),
 * under the same echo load (bench/c/echo-load.c), rounds interleaved.
 * Reports msgs/s, the round-trip latency (p50, p99) the generator saw,
 * server CPU per message (the whole process: the workers are threads),
 * the CPU of the server's busiest threads (the loops), and the load
 * generator's own CPU share: on a 2-core machine the generator takes a
 * core's worth of the CPU the second loop would need, so the curve says
 * as much about the machine as about the server.
 *
 *   node dist/bench/workers.js                         # --workers 1,2, 100 connections x 64 B
 *   node dist/bench/workers.js --workers 1,2,3 --conns 200 --rounds 5
 *   node dist/bench/workers.js --flags= --flags="--engine uring"   # one curve per set of server flags
 *   node dist/bench/workers.js --app                   # also app-server --keep-alive (bench/c/app-load.c)
 *   node dist/bench/workers.js --workers 1,2,4 --generators 4 --pin   # on a machine with 8 cores
 *
 * Ratios are to the 1-worker row of the same server flags, medians of
 * per-round ratios. See bench/README.md.
 */

import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { REQUEST_SEARCH } from '../lib/protocol/index.js';
import { requestFrame } from './app-server.js';
import { median, table } from './harness.js';
import {
  benchArgs, buildC, commonSettings, environmentLine, interleave, measure, pairedRatio, parseCommand, REPO_ROOT, writeJson,
  type Command, type Measurement, type ServerLaunch, type Summary,
} from './net.js';

const USAGE = `usage: node dist/bench/workers.js [--workers 1,2] [--conns 100] [--size 64] [--pipeline 1]
       [--flags="extra server flags"]... [--app] [--app-conns 8] [--generators 1]
       [--seconds 5] [--warmup 1] [--rounds 3] [--pin] [--quiet-wait 5] [--json FILE] [--server-output]
  multiconn-server (EchoMessage) with each --workers count under the same echo load
  (bench/c/echo-load.c), rounds interleaved: msgs/s, p50/p99 round trip, server CPU per
  message, the loop threads' CPU, and the load generator's CPU share.
  --flags=F   extra words for the server's command line (repeatable: one curve per set,
              e.g. --flags= --flags="--engine uring")
  --app       also app-server --keep-alive under bench/c/app-load.c (keepalive mode, --app-conns)
  --pin       n loops on CPUs 0..n-1 and the generator on the others (not pinned when none is left)
  --generators K   K load generators side by side, the connections split between them: one
              generator thread drives about one loop; more loops need more (on a bigger machine)
See bench/README.md.`;

/**
 * A list of worker counts such as `1,2,4`: positive integers, no repeats.
 * @throws {Error} on anything else.
 */
export function parseWorkerList(text: string): number[] {
  const list = text.split(',').map((w) => w.trim());
  const out: number[] = [];
  for (const w of list) {
    const n = Number(w);
    if (w === '' || !Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--workers: not a worker count (1-64): ${JSON.stringify(w)} in ${JSON.stringify(text)}`);
    if (out.includes(n)) throw new Error(`--workers: ${n} given twice in ${JSON.stringify(text)}`);
    out.push(n);
  }
  return out;
}

/**
 * `--pin` for n loops: the server on CPUs 0..n-1, the generator on the
 * rest; undefined (no pinning) when the machine has no CPU left for it.
 */
export function pinning(workers: number, nCpus: number): { server: string; load: string } | undefined {
  if (workers >= nCpus) return undefined;
  const range = (a: number, b: number): string => (a === b ? String(a) : `${a}-${b}`);
  return { server: range(0, workers - 1), load: range(workers, nCpus - 1) };
}

/**
 * `total` connections split over `k` generators as evenly as they go
 * (`10` over 3: 4, 3, 3).
 * @throws {Error} if there are fewer connections than generators.
 */
export function splitConns(total: number, k: number): number[] {
  if (!Number.isInteger(total) || !Number.isInteger(k) || k < 1 || total < k) throw new Error(`cannot split ${total} connections over ${k} generators`);
  return Array.from({ length: k }, (_, i) => Math.floor(total / k) + (i < total % k ? 1 : 0));
}

/** One point of a curve: a server with a worker count and flags. */
export interface CurvePoint {
  /** Table label. */
  name: string;
  /** Which curve (the server and its extra flags). */
  curve: string;
  workers: number;
  launch: ServerLaunch;
  /** The load generators' commands for a host and port. */
  load: (host: string, port: number) => Command[];
  /** JSON key of the operation count. */
  opsKey: 'msgs' | 'requests';
}

/** A point and its rounds (null: it failed). */
export interface CurveResult {
  point: Pick<CurvePoint, 'name' | 'curve' | 'workers'>;
  summary: Summary | null;
}

/** The median of a numeric field of the generator's JSON over the rounds; NaN if the field is missing. */
export function rawMedian(s: Summary, key: string): number {
  const values = s.rounds.map((m) => Number(m.raw[key])).filter((v) => Number.isFinite(v));
  return values.length > 0 ? median(values) : NaN;
}

/**
 * The busiest `n` threads' median CPU use (1.0 = one core) over the rounds,
 * and the median of all other threads' together: "84% + 80% (+7%)".
 * Empty when no thread sample was taken.
 */
export function loopThreads(s: Summary, n: number): string {
  const rounds = s.rounds.filter((m): m is Measurement & { threadCpuSeconds: number[] } => m.threadCpuSeconds !== undefined);
  if (rounds.length === 0) return '';
  const top = Array.from({ length: n }, (_, i) => median(rounds.map((m) => (m.threadCpuSeconds[i] ?? 0) / m.seconds)));
  const rest = median(rounds.map((m) => m.threadCpuSeconds.slice(n).reduce((a, b) => a + b, 0) / m.seconds));
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  return `${top.map(pct).join(' + ')} (+${pct(rest)})`;
}

/** `0.93 (47%)`: cores, and the share of the machine's `nCpus`. */
export function coresShare(cores: number, nCpus: number): string {
  return `${cores.toFixed(2)} (${((cores / nCpus) * 100).toFixed(0)}%)`;
}

const fmtUs = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');

/** The table rows: one per point, ratios to the 1-worker point (the fewest workers) of the same curve. */
export function curveRows(results: CurveResult[], nCpus: number): Array<Array<string | number>> {
  return results.map(({ point, summary: s }) => {
    if (!s) return [point.name, 'failed', '', '', '', '', '', '', '', '', '', '', '', ''];
    // The reference: the point with the fewest workers of the same curve that was measured.
    const base = results.filter((r) => r.point.curve === point.curve && r.summary)
      .sort((a, b) => a.point.workers - b.point.workers)[0].summary!;
    const ratio = (pick: (m: Measurement) => number): string => (base === s ? '1.00x' : fmtRatio(pairedRatio(s, base, pick)));
    const p99 = (m: Measurement): number => Number(m.raw['p99_us']);
    return [
      point.name,
      s.rate,
      `${s.rateMin.toFixed(0)}-${s.rateMax.toFixed(0)}`,
      fmtUs(rawMedian(s, 'p50_us')),
      fmtUs(rawMedian(s, 'p99_us')),
      s.cpuSecondsPerOp * 1e6,
      s.serverUtil.toFixed(2),
      loopThreads(s, point.workers),
      coresShare(s.clientUtil, nCpus),
      s.otherUtil.toFixed(2),
      ratio((m) => m.rate),
      Number.isFinite(rawMedian(s, 'p99_us')) ? ratio(p99) : 'n/a',
      ratio((m) => m.cpuSecondsPerOp),
      s.errors,
    ];
  });
}

/** The paragraph under the table: what each column means. */
export const CURVE_LEGEND = 'ops are echoed messages (multiconn-server) or requests (app-server). p50/p99: the round trip as the generator timed it '
    + '(echo: first send to the last byte back; app-server: request queued to response complete), from a log-bucketed histogram (within ~3%). '
    + '`--workers 1` is one loop on the main thread (the program does not start a worker for one loop); '
    + '`--workers N` runs N loops in worker threads, the main thread idle. Server cores = utime+stime of the whole process '
    + '(all threads) over the window; loop threads = its busiest N threads (the loops), then all other threads together '
    + '(V8 GC helpers, the main thread); generator cores = the load generator\'s own CPU time / wall time; others = the rest '
    + 'of the machine. "vs 1 worker": medians of per-round ratios to the 1-worker row of the same server and flags.';

/** The table's header (matches {@link curveRows}). */
export const CURVE_HEADER = ['server', 'ops/s', 'range (min-max)', 'p50 µs', 'p99 µs', 'server CPU µs/op', 'server cores', 'loop threads (rest)',
  'generator cores (% of machine)', 'others cores', 'ops/s vs 1 worker', 'p99 vs 1 worker', 'CPU/op vs 1 worker', 'errors'];

/**
 * What the machine's cores went to, from the measured points: the
 * generator's share; per curve, the ceiling the machine sets (its cores
 * divided by the server's and the generator's CPU per operation at the
 * fewest workers) and, at the most workers, whether the cores were all
 * busy.
 */
export function curveNotes(results: CurveResult[], nCpus: number, generators = 1): string[] {
  const ok = results.filter((r): r is CurveResult & { summary: Summary } => r.summary !== null);
  if (ok.length === 0) return [];
  const gen = ok.map((r) => r.summary.clientUtil);
  const lo = Math.min(...gen);
  const hi = Math.max(...gen);
  const notes = [
    `${generators === 1 ? 'The load generator (one thread, in C)' : `The ${generators} load generators (one thread each, in C)`} used ${lo.toFixed(2)}-${hi.toFixed(2)} cores in these rows: `
    + `${((lo / nCpus) * 100).toFixed(0)}-${((hi / nCpus) * 100).toFixed(0)}% of this machine's ${nCpus} cores.`,
  ];
  for (const curve of new Set(ok.map((r) => r.point.curve))) {
    const points = ok.filter((r) => r.point.curve === curve);
    const base = points.reduce((a, b) => (b.point.workers < a.point.workers ? b : a));
    const b = base.summary;
    const genPerOp = median(b.rounds.map((m) => m.clientCpuSeconds / m.ops));
    const ceiling = nCpus / (b.cpuSecondsPerOp + genPerOp);
    if (Number.isFinite(ceiling)) {
      notes.push(`${curve}: server and ${generators === 1 ? 'generator' : 'generators'} share the ${nCpus} cores. At ${base.point.workers} worker${base.point.workers === 1 ? '' : 's'} each operation cost `
        + `${(b.cpuSecondsPerOp * 1e6).toFixed(2)} µs of server CPU and ${(genPerOp * 1e6).toFixed(2)} µs of the ${generators === 1 ? 'generator\'s' : 'generators\''}, so ${nCpus} cores carry at most `
        + `${nCpus}/${((b.cpuSecondsPerOp + genPerOp) * 1e6).toFixed(2)} µs = ${Math.round(ceiling)} ops/s however many loops serve; the row reached `
        + `${Math.round(b.rate)} (${((b.rate / ceiling) * 100).toFixed(0)}%). A second loop can only use the CPU the generator leaves.`);
    }
    const top = points.reduce((x, y) => (y.point.workers > x.point.workers ? y : x));
    if (top === base) continue;
    const s = top.summary;
    const total = s.serverUtil + s.clientUtil + s.otherUtil;
    // Ping-pong leaves gaps (every process waits for another now and then): 80% busy counts as full.
    const full = total >= 0.8 * nCpus;
    notes.push(`${curve}: with ${top.point.workers} workers the server used ${s.serverUtil.toFixed(2)} cores, the generator `
      + `${s.clientUtil.toFixed(2)} and other processes ${s.otherUtil.toFixed(2)}: ${total.toFixed(2)} of ${nCpus}`
      + (full
        ? ': the machine was full, so this row measures the sharing, not how the server scales on idle cores (docs/production.md, '
          + '"One loop per core", projects that from the CPU per operation).'
        : ', not all busy: the processes waited on each other (every round trip wakes the generator and a loop), and loops beyond the free '
          + 'cores add such waits rather than throughput.'));
  }
  return notes;
}

/** Run the workers curve with command-line flags and print its table. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = benchArgs(argv, USAGE, {
    workers: { type: 'string', default: '1,2' },
    conns: { type: 'string', default: '100' },
    size: { type: 'string', default: '64' },
    pipeline: { type: 'string', default: '1' },
    flags: { type: 'string', multiple: true, default: [] },
    app: { type: 'boolean', default: false },
    'app-conns': { type: 'string', default: '8' },
    generators: { type: 'string', default: '1' },
  });
  if (values === null) return;
  const counts = parseWorkerList(values.workers);
  const flagSets = values.flags.length > 0 ? values.flags : [''];
  const rounds = Number(values.rounds);
  const { pin, quietWaitMs, timeoutMs } = commonSettings(values);
  const nCpus = cpus().length;
  const generators = Number(values.generators);
  if (!Number.isInteger(generators) || generators < 1) throw new Error(`--generators: not a count: ${values.generators}`);

  const echoLoad = buildC('echo-load');
  const echoConns = splitConns(Number(values.conns), generators);
  const echo = (host: string, port: number): Command[] => echoConns.map((conns) => ({
    cmd: echoLoad,
    args: ['--host', host, '--port', String(port), '--conns', String(conns), '--size', values.size, '--pipeline', values.pipeline,
      '--seconds', values.seconds, '--warmup', values.warmup],
  }));
  const servers: Array<{ label: string; script: string; extra: string; load: CurvePoint['load']; opsKey: CurvePoint['opsKey'] }> = [
    { label: 'multiconn-server(EchoMessage)', script: 'multiconn-server.js', extra: '', load: echo, opsKey: 'msgs' },
  ];
  if (values.app) {
    const appLoad = buildC('app-load');
    const { frame } = requestFrame('search', 'morpheus');
    const appConns = splitConns(Number(values['app-conns']), generators);
    const app = (host: string, port: number): Command[] => appConns.map((conns) => ({
      cmd: appLoad,
      args: ['--host', host, '--port', String(port), '--mode', 'keepalive', '--conns', String(conns), '--pipeline', '1',
        '--frame-hex', frame.toString('hex'), '--expect', REQUEST_SEARCH.get('morpheus')!, '--seconds', values.seconds, '--warmup', values.warmup],
    }));
    servers.push({ label: 'app-server(keep-alive)', script: 'app-server.js', extra: '--keep-alive', load: app, opsKey: 'requests' });
  }
  const points: CurvePoint[] = [];
  for (const server of servers) {
    for (const flags of flagSets) {
      for (const n of counts) {
        const curve = `${server.label}${flags.trim() ? ` ${flags.trim()}` : ''}`;
        const line = `node {root}/dist/examples/${server.script} --quiet ${server.extra} --workers ${n} ${flags} {host} {port}`;
        parseCommand(line); // a malformed --flags fails here, before any run
        const launch: ServerLaunch = {
          name: `${curve} --workers ${n}`,
          command: (host, port) => {
            const c = parseCommand(line, { host, port, root: REPO_ROOT });
            return { ...c, cmd: c.cmd === 'node' ? process.execPath : c.cmd };
          },
          stdout: values['server-output'] ? 'inherit' : 'ignore',
        };
        points.push({ name: launch.name, curve, workers: n, launch, load: server.load, opsKey: server.opsKey });
      }
    }
  }
  const summaries = await interleave(points, rounds, (p) => measure(p.launch, p.load, {
    opsKey: p.opsKey, timeoutMs, threads: true, listeners: p.workers, cpuLists: pin ? pinning(p.workers, nCpus) : undefined,
  }), { quietWaitMs });
  const results: CurveResult[] = points.map((p) => ({ point: p, summary: summaries.get(p) ?? null }));

  const pl = values.pipeline === '1' ? '' : `, ${values.pipeline} in flight`;
  console.log(`## Workers: ${counts.join(', ')} loops on one port; echo ${values.conns} connections x ${values.size}-byte ping-pong${pl}`
    + `${values.app ? `; app-server keep-alive, ${values['app-conns']} connections` : ''}`
    + `${generators > 1 ? `; ${generators} load generators side by side (p50/p99: the worst generator's)` : ''}; ${values.seconds} s measured after ${values.warmup} s warm-up, `
    + `median of ${rounds} interleaved rounds\n`);
  console.log(`${environmentLine(pin ? `--pin: n loops on CPUs 0..n-1, the load generator on the others (none for n >= ${nCpus}: not pinned)` : 'no CPU pinning')}\n`);
  table(CURVE_HEADER, curveRows(results, nCpus));
  for (const note of curveNotes(results, nCpus, generators)) console.log(`- ${note}`);
  console.log(`- ${CURVE_LEGEND}`);
  if (values.json) writeJson(values.json, { benchmark: 'workers', settings: values, pin, results });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
