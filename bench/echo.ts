/**
 * Echo benchmark: N connections (default 100) doing ping-pong with M-byte
 * messages (default 64) against several echo servers in one run, rounds
 * interleaved, medians reported as msgs/s and server CPU µs per message,
 * with ratios to the C epoll echo server (bench/c/epoll-echo-server.c).
 * The project's target: a TypeScript echo server reaches >= 0.85x of it.
 *
 * Peers by default: the C server (reference), the bare koffi epoll loop
 * (bench/koffi-echo-server.ts, the 1.0x baseline of JS + FFI), the io_uring
 * completion engine (bench/uring-echo-server.ts; not with --connect), the
 * selectors-level loop (bench/selectors-echo-server.ts: EpollSelector +
 * Socket, no Message), multiconn-server (EchoMessage), Python's
 * multiconn-server.py and Node's `net` (bench/node-echo-server.ts). With
 * --pipeline K each connection keeps K messages in flight; with --connect
 * each client connects, echoes one byte and closes, over and over
 * (bench/c/connect-load.c; msgs/s is then cycles/s). Add servers with --ts
 * (repeatable):
 *
 *   node dist/bench/echo.js --ts "multiconn: node dist/examples/multiconn-server.js --quiet {host} {port}"
 *
 * Flags: --seconds S (measured, default 5) --warmup S (1) --rounds R (3)
 * --conns N (100) --size M (64) --pipeline K (1) --connect
 * --ts "[label: ]command" (repeatable)
 * --no-koffi --no-selectors --no-python --no-node --no-uring --pin (server on CPU 0, load generator on CPU 1;
 * off by default: it made results worse on the shared 2-CPU VMs)
 * --quiet-wait S (before each measurement wait up to S s, default 5, for
 * other processes to use < 25% of a core) --json FILE (every round)
 * --server-output (servers' stdout to the terminal, not /dev/null).
 * Ratios are medians of per-round ratios. See bench/README.md.
 */

import { fileURLToPath } from 'node:url';
import { median, table } from './harness.js';
import {
  benchArgs, buildC, commonSettings, environmentLine, interleave, launchFromFlag, measure, pythonEchoServer, REPO_ROOT, summaryRow, writeJson,
  type Measurement, type ServerLaunch,
} from './net.js';

const USAGE = `usage: node dist/bench/echo.js [--seconds 5] [--warmup 1] [--rounds 3] [--conns 100] [--size 64]
       [--pipeline 1] [--connect] [--ts "[label: ]command with {host} {port}"]...
       [--no-examples] [--no-koffi] [--no-selectors] [--no-python] [--no-node] [--no-uring]
       [--pin] [--quiet-wait 5] [--json FILE] [--server-output]
See bench/README.md.`;

/** Run the echo benchmark with command-line flags and print its table. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = benchArgs(argv, USAGE, {
    conns: { type: 'string', default: '100' },
    size: { type: 'string', default: '64' },
    pipeline: { type: 'string', default: '1' },
    connect: { type: 'boolean', default: false },
    ts: { type: 'string', multiple: true, default: [] },
    'no-examples': { type: 'boolean', default: false },
    'no-koffi': { type: 'boolean', default: false },
    'no-selectors': { type: 'boolean', default: false },
    'no-python': { type: 'boolean', default: false },
    'no-node': { type: 'boolean', default: false },
    'no-uring': { type: 'boolean', default: false },
  });
  if (values === null) return;
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const { pin, quietWaitMs, timeoutMs } = commonSettings(values);

  const server = buildC('epoll-echo-server');
  const loadGen = buildC(values.connect ? 'connect-load' : 'echo-load');
  const node = (script: string, ...extra: string[]) => (host: string, port: number) => ({
    cmd: process.execPath, args: [`${REPO_ROOT}/dist/bench/${script}`, ...extra, host, String(port)],
  });
  const peers: ServerLaunch[] = [
    { name: 'C epoll (reference)', command: (host, port) => ({ cmd: server, args: [host, String(port)] }) },
  ];
  if (!values['no-koffi']) peers.push({ name: 'bare koffi epoll loop', command: node('koffi-echo-server.js') });
  // The io_uring completion engine (lib/uring/proactor.ts); it exits 2 where io_uring is unavailable.
  // It reports its io_uring_enter count (SIGUSR2), for the syscalls per message.
  if (!values['no-uring'] && !values.connect) peers.push({ name: 'io_uring proactor (lib/uring)', command: node('uring-echo-server.js'), counters: true });
  if (!values['no-selectors']) peers.push({ name: 'selectors loop (EpollSelector + Socket)', command: node('selectors-echo-server.js', '--backend', 'epoll') });
  // The library's own echo server (EchoMessage on a selector loop) unless --no-examples.
  const ts = values['no-examples'] ? values.ts : [
    'multiconn-server(EchoMessage): node dist/examples/multiconn-server.js --quiet {host} {port}',
    // The same program on the completion engine (io_uring, or its epoll stand-in).
    'multiconn-server(EchoMessage/uring): node dist/examples/multiconn-server.js --quiet --engine uring {host} {port}',
    ...values.ts,
  ];
  ts.forEach((line, i) => peers.push(launchFromFlag(line, `ts #${i + 1}`)));
  if (!values['no-python']) peers.push(pythonEchoServer());
  if (!values['no-node']) peers.push({ name: "Node's net", command: node('node-echo-server.js') });
  if (values['server-output']) for (const p of peers) p.stdout = 'inherit';

  const load = (host: string, port: number) => ({
    cmd: loadGen,
    args: ['--host', host, '--port', String(port), '--conns', values.conns, '--size', values.size, '--pipeline', values.pipeline,
      '--seconds', values.seconds, '--warmup', values.warmup],
  });
  const results = await interleave(peers, rounds, (p) => measure(p, load, { pin, opsKey: 'msgs', timeoutMs }), { quietWaitMs });

  const ref = results.get(peers[0]);
  const rows: Array<Array<string | number>> = [];
  for (const p of peers) {
    const s = results.get(p);
    if (!s) {
      rows.push([p.name, 'failed', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    rows.push([...summaryRow(s, ref ?? null), entersPerMessage(s.rounds)]);
  }
  const work = values.connect
    ? `${values.conns} clients x connect, echo 1 byte, close`
    : `${values.conns} connections x ${values.size}-byte ping-pong${values.pipeline === '1' ? '' : `, ${values.pipeline} in flight`}`;
  console.log(`## Echo: ${work}, ${seconds} s measured after ${values.warmup} s warm-up, median of ${rounds} interleaved rounds\n`);
  console.log(`${environmentLine(pin ? 'server pinned to CPU 0, load generator to CPU 1' : 'no CPU pinning')}\n`);
  table(['server', 'msgs/s', 'range (min-max)', 'server CPU µs/msg', 'server CPU', 'client CPU', 'others CPU', 'msgs/s vs C', 'CPU/msg vs C', 'errors', 'io_uring_enter/msg'], rows);
  for (const p of peers) {
    const s = results.get(p);
    if (p.note) console.log(`- ${p.name}: ${p.note}`);
    if (s && s.uncleanStops > 0) console.log(`- ${p.name}: did not exit cleanly on SIGINT in ${s.uncleanStops} of ${s.rounds.length} rounds.`);
  }
  if (rows.some((r) => r[r.length - 1] !== '')) console.log('- io_uring_enter/msg: the io_uring_enter calls the server made in the measured window (its own counter, read at the start and end) per message, median of the rounds; the C server makes about 2 system calls per message (recv, send).');
  console.log('- "vs C" columns: the median of per-round ratios to the C server (msgs/s: higher is better; CPU/msg: lower is better). Server CPU = utime+stime of its process tree over the measured window (100% = one core); client CPU = that of the load generator; others CPU = the rest of the machine busy + stolen time in the window (noise from other processes: with >~10% the req/s and msgs/s columns are unreliable, CPU/op less so).');
  if (values.json) writeJson(values.json, { benchmark: 'echo', settings: values, pin, results: peers.map((p) => results.get(p) ?? { name: p.name, failed: true }) });
}

/** The median over `rounds` of the server's io_uring_enter calls per message in the window, or '' if it reports none. */
function entersPerMessage(rounds: Measurement[]): string {
  const per = rounds.filter((m) => m.counters?.['enters'] !== undefined && m.ops > 0).map((m) => m.counters!['enters'] / m.ops);
  return per.length > 0 ? median(per).toFixed(2) : '';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
