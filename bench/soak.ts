/**
 * The soak: multiconn-server (MessageServer + EchoMessage, the default
 * epoll backend) under many connections for at least a million echoed
 * messages, watched from outside. Not part of `npm run bench`: it runs
 * for minutes.
 *
 * The client is bench/c/echo-load.c: N connections, each sending an
 * M-byte message whose bytes differ per connection and per message, then
 * checking that exactly those bytes come back before the next one. A
 * dropped, reset or stalled connection, or one wrong byte, is counted.
 * Every second the server's open fds (/proc/PID/fd) and resident memory
 * (VmRSS of its process tree) and its CPU time are sampled.
 *
 * The verdict:
 * - messages: the measured window echoed at least --messages messages;
 * - bytes lost: no connection failed or stalled and every message came
 *   back byte for byte (so 0 bytes lost);
 * - fds flat: the fd count did not move during the measured window, and
 *   it is back to its idle value once the clients are gone;
 * - RSS flat: the RSS at the end of the measured window is within
 *   --rss-tolerance (default 10%) of its value when the window began
 *   (after --warmup seconds of load, default 60). A Node server's young
 *   generation (V8's semi-spaces) grows in steps under load during the
 *   first minute (hence that warm-up);
 *   `--server-node-flags=--max-semi-space-size=1` pins it, to
 *   tell that apart from a leak.
 *
 * The table and the verdict are printed and written to bench/SOAK.md
 * (--out to change). Exit status 1 if a check failed.
 *
 *   node dist/bench/soak.js [--conns 1000] [--messages 1000000] [--size 64]
 *                           [--warmup 60] [--max-seconds 1200] [--rss-tolerance 10]
 *                           [--server-node-flags=--max-semi-space-size=1] [--out FILE]
 */

import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tableText } from './harness.js';
import { treeRssKiB } from './memory.js';
import { buildC, environmentLine, REPO_ROOT, startServer, treeCpuSeconds } from './net.js';

const USAGE = `usage: node dist/bench/soak.js [--conns 1000] [--messages 1000000] [--size 64] [--warmup 60]
                                [--max-seconds 1200] [--rss-tolerance 10] [--server-node-flags=FLAGS] [--out bench/SOAK.md]`;

/** One sample of the server, taken every second. */
interface Sample {
  /** Seconds since the load generator started. */
  t: number;
  phase: 'connect+warm-up' | 'measured' | 'drain' | 'after';
  fds: number;
  rssKiB: number;
  /** Server CPU over the last interval, % of one core. */
  cpuPct: number;
}

/** The open fds of a process (its /proc/PID/fd entries). */
function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number): string => (kib / 1024).toFixed(1);

/** Run the soak; returns whether every check passed. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<boolean> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return true;
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      conns: { type: 'string', default: '1000' },
      messages: { type: 'string', default: '1000000' },
      size: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '60' },
      'max-seconds': { type: 'string', default: '1200' },
      'rss-tolerance': { type: 'string', default: '10' },
      'server-node-flags': { type: 'string', default: '' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'SOAK.md') },
    },
  });
  const conns = Number(values.conns);
  const messages = Number(values.messages);
  const size = Number(values.size);
  const warmup = Number(values.warmup);
  const tolerance = Number(values['rss-tolerance']);
  const nodeFlags = values['server-node-flags'].split(/\s+/).filter(Boolean);
  const serverArgs = [...nodeFlags, join(REPO_ROOT, 'dist', 'examples', 'multiconn-server.js'), '--quiet', '--backlog', '4096'];
  const server = await startServer({
    name: 'multiconn-server',
    command: (host, port) => ({ cmd: process.execPath, args: [...serverArgs, host, String(port)] }),
  });
  const load = buildC('echo-load');
  const lines: string[] = [];
  const say = (line = ''): void => {
    console.log(line);
    lines.push(line);
  };
  let passed = false;
  try {
    await sleep(1000);
    const idleFds = fdCount(server.pid);
    const idleRss = treeRssKiB(server.pid);
    const args = ['--port', String(server.port), '--conns', String(conns), '--size', String(size),
      '--warmup', String(warmup), '--seconds', values['max-seconds'], '--messages', String(messages)];
    const started = performance.now();
    const client = spawn(load, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let phase: Sample['phase'] = 'connect+warm-up';
    let result: Record<string, number> | undefined;
    let clientErr = '';
    let measuredAt = NaN;
    let measuredEnd = NaN;
    client.stderr.setEncoding('utf8').on('data', (d: string) => { clientErr += d; });
    createInterface({ input: client.stdout }).on('line', (line) => {
      if (line.startsWith('# start')) {
        phase = 'measured';
        measuredAt = (performance.now() - started) / 1000;
      } else if (line.startsWith('{')) {
        result = JSON.parse(line) as Record<string, number>;
        phase = 'drain';
        measuredEnd = (performance.now() - started) / 1000;
      }
    });
    const exited = new Promise<number | null>((resolve) => client.once('close', resolve));
    let clientCode: number | null | undefined;
    void exited.then((code) => { clientCode = code; });

    const samples: Sample[] = [];
    let lastCpu = treeCpuSeconds(server.pid);
    let lastT = performance.now();
    const sample = (): void => {
      const now = performance.now();
      const cpu = treeCpuSeconds(server.pid);
      samples.push({
        t: (now - started) / 1000, phase, fds: fdCount(server.pid), rssKiB: treeRssKiB(server.pid), cpuPct: ((cpu - lastCpu) / ((now - lastT) / 1000)) * 100,
      });
      lastCpu = cpu;
      lastT = now;
    };
    const hardStop = started + (Number(values['max-seconds']) + warmup + 60) * 1000;
    while (clientCode === undefined) {
      await Promise.race([sleep(1000), exited]);
      if (clientCode === undefined) sample();
      if (performance.now() > hardStop) {
        client.kill('SIGKILL');
        await exited;
        break;
      }
    }
    // The clients are gone: the server's fds must come back to the idle count.
    phase = 'after';
    for (let i = 0; i < 10 && fdCount(server.pid) !== idleFds; i++) await sleep(500);
    sample();
    const stopped = await server.stop(10_000);

    // ---- the verdict
    const measured = samples.filter((s) => s.phase === 'measured');
    const warm = samples.filter((s) => s.phase === 'connect+warm-up');
    const after = samples[samples.length - 1];
    const msgs = result?.msgs ?? 0;
    const errors = result?.errors ?? -1;
    const alive = result?.alive ?? 0;
    const unanswered = /(\d+) message\(s\) still unanswered/.exec(clientErr);
    const drainFailed = /(\d+) connection\(s\) failed while draining/.exec(clientErr);
    const lost = errors !== 0 || alive !== conns || unanswered !== null || drainFailed !== null || clientCode !== 0;
    const fdValues = measured.map((s) => s.fds);
    const fdsFlat = fdValues.length > 0 && Math.min(...fdValues) === Math.max(...fdValues) && after.fds === idleFds;
    const rssStart = measured[0]?.rssKiB ?? NaN;
    const rssEnd = measured[measured.length - 1]?.rssKiB ?? NaN;
    const rssMax = Math.max(...measured.map((s) => s.rssKiB));
    const growth = ((rssEnd - rssStart) / rssStart) * 100;
    const rssFlat = Math.abs(growth) <= tolerance;
    const enough = msgs >= messages;
    passed = enough && !lost && fdsFlat && rssFlat && stopped.code === 0;

    say('# Soak: multiconn-server (MessageServer + EchoMessage) under echo-load');
    say();
    say(`Command: \`node dist/bench/soak.js ${argv.join(' ')}\`${argv.length === 0 ? ' (the defaults)' : ''}`);
    say(`Server: \`node ${nodeFlags.join(' ')}${nodeFlags.length > 0 ? ' ' : ''}dist/examples/multiconn-server.js --quiet --backlog 4096\`, `
      + `client: \`echo-load ${args.slice(2).join(' ')}\` (bench/c/echo-load.c: every echoed byte compared).`);
    say(environmentLine(`${new Date().toISOString().slice(0, 19)}Z`));
    say();
    say('## Verdict');
    say();
    say(tableText(['check', 'measured', 'result'], [
      ['messages echoed in the measured window', `${msgs.toLocaleString('en-US')} (>= ${messages.toLocaleString('en-US')}) in ${(result?.seconds ?? 0).toFixed(1)} s, ${Math.round(result?.msgs_per_s ?? 0).toLocaleString('en-US')} msgs/s`, enough ? 'pass' : 'FAIL'],
      ['bytes lost', lost
        ? `errors ${errors}, alive ${alive}/${conns}${unanswered ? `, ${unanswered[1]} unanswered` : ''}${drainFailed ? `, ${drainFailed[1]} failed while draining` : ''}, client exit ${clientCode}`
        : `0 (${(msgs * size).toLocaleString('en-US')} bytes echoed and compared in the window, every byte of the warm-up too; ${conns} of ${conns} connections alive, 0 errors)`, lost ? 'FAIL' : 'pass'],
      ['server fds', `idle ${idleFds}, measured window ${Math.min(...fdValues)}..${Math.max(...fdValues)}, after the clients left ${after.fds}`, fdsFlat ? 'flat' : 'FAIL'],
      ['server RSS (MiB)', `idle ${mib(idleRss)}; measured window start ${mib(rssStart)}, end ${mib(rssEnd)}, max ${mib(rssMax)} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%, tolerance ${tolerance}%); after ${mib(after.rssKiB)}`, rssFlat ? 'flat' : 'FAIL'],
      ['server RSS during the warm-up (MiB, no verdict)', `first sample ${mib(warm[0]?.rssKiB ?? NaN)}, window start ${mib(rssStart)} (${rssStart - (warm[0]?.rssKiB ?? NaN) >= 0 ? '+' : ''}${mib(rssStart - (warm[0]?.rssKiB ?? NaN))}): `
        + 'V8 sizes its young generation up in steps in the first busy minute', '-'],
      ['server exit on SIGINT', `code ${stopped.code}${stopped.killed ? ' (SIGKILL needed)' : ''}`, stopped.code === 0 ? 'pass' : 'FAIL'],
    ]));
    say();
    say(`Overall: ${passed ? 'PASS' : 'FAIL'}. The measured window began after ${measuredAt.toFixed(1)} s (connects + ${warmup} s warm-up) and ended at ${measuredEnd.toFixed(1)} s.`);
    if (!rssFlat) {
      say(`RSS moved by more than ${tolerance}% in the window: rerun with --server-node-flags=--max-semi-space-size=1; if it is flat then, the growth was V8's young generation (semi-space) sizing, not a leak.`);
    }
    say();
    say('## Samples (one a second; every 5th shown, and every phase change)');
    say();
    const shown = samples.filter((s, i) => i % 5 === 0 || i === samples.length - 1 || s.phase !== samples[i - 1]?.phase);
    say(tableText(['t (s)', 'phase', 'fds', 'RSS (MiB)', 'server CPU %'], shown.map((s) => [s.t.toFixed(0), s.phase, s.fds, mib(s.rssKiB), s.cpuPct.toFixed(0)])));
    if (clientErr.trim() !== '') {
      say();
      say(`echo-load's stderr: \`${clientErr.trim().replace(/\n/g, ' / ')}\``);
    }
    writeFileSync(values.out, `${lines.join('\n')}\n`);
    console.log(`\nwritten to ${values.out}`);
  } finally {
    await server.stop(10_000);
  }
  return passed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (ok) => { if (!ok) process.exitCode = 1; },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
