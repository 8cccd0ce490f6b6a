/**
 * App-server benchmark: the Real Python JSON-header protocol
 * (`search morpheus`, the 146-byte request app-client.py sends, built here
 * with the library's encodeMessage(createRequest(...))) against several
 * servers in one run, rounds interleaved, medians reported as requests/s and
 * server CPU µs per request, with ratios to Python's app-server.py at the
 * same concurrency.
 *
 * Modes (bench/c/app-load.c):
 * - conn: one connection per request like app-client.py (connect, send,
 *   read the response, wait for the server's close), with 1 and 8 such
 *   loops in parallel by default (--conns 1,8);
 * - keepalive: requests back to back on long-lived connections (optionally
 *   --pipeline P in flight). app-server.py closes after one reply, so it
 *   only runs in conn mode.
 *
 * Peers: Python app-server.py (reference; --no-python to skip); TS servers
 * given as command lines with {host}/{port} placeholders:
 *
 *   node dist/bench/app-server.js \
 *     --ts "app-server: node dist/examples/app-server.js {host} {port}" \
 *     --ts-keepalive "app-server-ka: node dist/examples/app-server.js --keep-alive {host} {port}"
 *
 * Flags: --seconds S (5) --warmup S (1) --rounds R (3) --conns LIST (1,8)
 * --pipeline P (1) --ts CMD --ts-keepalive CMD (both repeatable)
 * --action A --value V (search morpheus) --expect TEXT --no-python
 * --pin (server on CPU 0, load generator on CPU 1; off by default: it made
 * results worse on the shared 2-CPU VMs) --quiet-wait S (before each
 * measurement wait up to S s, default 5, for other processes to use < 25%
 * of a core) --json FILE --server-output.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequest, encodeMessage, REQUEST_SEARCH } from '../lib/protocol/index.js';
import { table } from './harness.js';
import {
  benchArgs, buildC, commonSettings, environmentLine, interleave, launchFromFlag, measure, pythonAppServer, REPO_ROOT, summaryRow, writeJson,
  type Command, type ServerLaunch,
} from './net.js';

/** One row of the table: a server, a client mode, a concurrency. */
interface Case {
  name: string;
  launch: ServerLaunch;
  mode: 'conn' | 'keepalive';
  conns: number;
  reference: boolean;
}

/** The request frame for `action value`, and a check against the Python capture when there is one. */
export function requestFrame(action: string, value: string): { frame: Buffer; note: string } {
  const frame = encodeMessage(createRequest(action, value));
  let note = `request frame: ${frame.length} bytes (encodeMessage(createRequest(${JSON.stringify(action)}, ${JSON.stringify(value)})))`;
  try {
    const golden = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'protocol', 'golden.json'), 'utf8')) as {
      exchanges: Array<{ action: string; value: string; request: string }>;
    };
    const g = golden.exchanges.find((x) => x.action === action && x.value === value);
    if (g) note += g.request === frame.toString('hex') ? ', byte-identical to what app-client.py sends' : ', DIFFERENT from the app-client.py capture in test/protocol/golden.json';
  } catch {
    // no capture to compare with
  }
  return { frame, note };
}

const USAGE = `usage: node dist/bench/app-server.js [--seconds 5] [--warmup 1] [--rounds 3] [--conns 1,8] [--pipeline 1]
       [--ts "[label: ]command with {host} {port}"]... [--ts-keepalive "[label: ]command"]...
       [--action search] [--value morpheus] [--expect TEXT] [--no-examples] [--no-python]
       [--pin] [--quiet-wait 5] [--json FILE] [--server-output]
See bench/README.md.`;

/** Run the app-server benchmark with command-line flags and print its table. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = benchArgs(argv, USAGE, {
    conns: { type: 'string', default: '1,8' },
    pipeline: { type: 'string', default: '1' },
    ts: { type: 'string', multiple: true, default: [] },
    'ts-keepalive': { type: 'string', multiple: true, default: [] },
    'no-examples': { type: 'boolean', default: false },
    action: { type: 'string', default: 'search' },
    value: { type: 'string', default: 'morpheus' },
    expect: { type: 'string' },
    'no-python': { type: 'boolean', default: false },
  });
  if (values === null) return;
  const rounds = Number(values.rounds);
  const { pin, quietWaitMs, timeoutMs } = commonSettings(values);
  const concurrencies = values.conns.split(',').map(Number);
  const { frame, note: frameNote } = requestFrame(values.action, values.value);
  const expect = values.expect ?? (values.action === 'search'
    ? REQUEST_SEARCH.get(values.value) ?? `No match for "${values.value}".`
    : 'First 10 bytes of request: ');
  const loadGen = buildC('app-load');

  const launches: Array<{ launch: ServerLaunch; mode: Case['mode']; reference: boolean }> = [];
  if (!values['no-python']) launches.push({ launch: pythonAppServer(), mode: 'conn', reference: true });
  // The library's app-server example in both modes unless --no-examples.
  const examples = !values['no-examples'];
  const ts = examples ? ['app-server: node dist/examples/app-server.js --quiet {host} {port}', ...values.ts] : values.ts;
  const tsKeepalive = examples ? [
    'app-server(keep-alive): node dist/examples/app-server.js --quiet --keep-alive {host} {port}',
    // The same program on the completion engine (issue 13's target: >= 1.1x the line above).
    'app-server(keep-alive/uring): node dist/examples/app-server.js --quiet --keep-alive --engine uring {host} {port}',
    ...values['ts-keepalive'],
  ] : values['ts-keepalive'];
  ts.forEach((l, i) => launches.push({ launch: launchFromFlag(l, `ts #${i + 1}`), mode: 'conn', reference: false }));
  tsKeepalive.forEach((l, i) => launches.push({ launch: launchFromFlag(l, `ts keep-alive #${i + 1}`), mode: 'keepalive', reference: false }));
  if (launches.length === 0) throw new Error('no servers to measure (give --ts or --ts-keepalive, or drop --no-python)');
  if (values['server-output']) for (const l of launches) l.launch.stdout = 'inherit';

  const cases: Case[] = [];
  for (const conns of concurrencies) {
    for (const { launch, mode, reference } of launches) {
      const pl = mode === 'keepalive' && values.pipeline !== '1' ? `, pipeline ${values.pipeline}` : '';
      cases.push({ name: `${launch.name} [${mode}, ${conns} conn${conns === 1 ? '' : 's'}${pl}]`, launch, mode, conns, reference });
    }
  }

  const loadFor = (c: Case) => (host: string, port: number): Command => ({
    cmd: loadGen,
    args: [
      '--host', host, '--port', String(port), '--mode', c.mode, '--conns', String(c.conns), '--pipeline', values.pipeline,
      '--frame-hex', frame.toString('hex'), '--expect', expect, '--seconds', values.seconds, '--warmup', values.warmup,
    ],
  });
  const results = await interleave(cases, rounds, (c) => measure({ ...c.launch, name: c.name }, loadFor(c), { pin, opsKey: 'requests', timeoutMs }), { quietWaitMs });

  console.log(`## App server (JSON-header protocol, ${values.action} ${values.value}): ${values.seconds} s measured after ${values.warmup} s warm-up, median of ${rounds} interleaved rounds\n`);
  console.log(`${environmentLine(pin ? 'server pinned to CPU 0, load generator to CPU 1' : 'no CPU pinning')}; ${frameNote}; expected in each reply: ${JSON.stringify(expect)}\n`);
  const rows: Array<Array<string | number>> = [];
  for (const c of cases) {
    const s = results.get(c);
    const ref = cases.find((r) => r.reference && r.conns === c.conns);
    const rs = ref ? results.get(ref) ?? null : null;
    rows.push(s ? summaryRow(s, rs) : [c.name, 'failed', '', '', '', '', '', '', '', '']);
  }
  table(['server [mode, concurrency]', 'req/s', 'range (min-max)', 'server CPU µs/req', 'server CPU', 'client CPU', 'others CPU', 'req/s vs Python', 'CPU/req vs Python', 'errors'], rows);
  for (const { launch } of launches) if (launch.note) console.log(`- ${launch.name}: ${launch.note}`);
  for (const c of cases) {
    const s = results.get(c);
    if (s && s.uncleanStops > 0) console.log(`- ${c.name}: did not exit cleanly on SIGINT in ${s.uncleanStops} of ${s.rounds.length} rounds.`);
  }
  console.log('- "vs Python": against app-server.py in conn mode at the same concurrency, the median of per-round ratios (req/s: higher is better; CPU/req: lower is better). Server CPU = utime+stime of its process tree over the measured window (100% = one core); client CPU = that of the load generator; others CPU = the rest of the machine busy + stolen time in the window (noise from other processes: with >~10% the req/s column is unreliable, CPU/op less so).');
  if (values.json) writeJson(values.json, { benchmark: 'app-server', settings: values, pin, results: cases.map((c) => results.get(c) ?? { name: c.name, failed: true }) });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
