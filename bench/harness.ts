/**
 * A small benchmark harness: time a function over many calls, repeat,
 * take the median, and print side-by-side tables with ratios. Benchmarks
 * report ratios against peers measured in the same run; tests never assert
 * on speed.
 */

import { spawnSync } from 'node:child_process';
import { libc } from '../lib/sys/libc.js';
import { AF_UNIX, RLIMIT_NOFILE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../lib/sys/constants.js';

/** Nanoseconds per call of `fn`, median of `rounds` rounds of `calls` calls. */
export function nsPerCall(fn: () => unknown, calls: number, rounds = 5): number {
  for (let i = 0; i < Math.min(calls, 10_000); i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / calls);
  }
  return median(samples);
}

/**
 * Nanoseconds per call of each function, measured interleaved (round r of
 * every function before round r+1 of any) so that machine noise hits all of
 * them alike; the median of `rounds` rounds each.
 */
export function compare(fns: Record<string, () => unknown>, calls: number, rounds = 9): Record<string, number> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (let i = 0; i < Math.min(calls, 10_000); i++) fns[n]();
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      const fn = fns[n];
      const start = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) fn();
      samples[n].push(Number(process.hrtime.bigint() - start) / calls);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Print a Markdown table. */
export function table(headers: string[], rows: Array<Array<string | number>>): void {
  console.log(`${tableText(headers, rows)}\n`);
}

/** A Markdown table as text (numbers formatted as {@link table} prints them), without a trailing newline. */
export function tableText(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? format(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

function format(n: number): string {
  if (Number.isInteger(n) || n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** `a / b` formatted as a ratio, e.g. `1.08x`. */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

/** Whether python3 is on this machine (benchmarks skip the Python column without it). */
export function havePython(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}

/** Run a Python benchmark script that prints one JSON object; null if python3 is missing or it failed. */
export function runPython(script: string, args: string[]): Record<string, number> | null {
  if (!havePython()) return null;
  const res = spawnSync('python3', [script, ...args], { encoding: 'utf8', timeout: 600_000 });
  if (res.status !== 0) {
    console.error(`python3 ${script} failed: ${res.stderr}`);
    return null;
  }
  return JSON.parse(res.stdout) as Record<string, number>;
}

/** Raise this process's soft RLIMIT_NOFILE to `want` (within the hard limit). */
export function raiseNofile(want: number): void {
  const sys = libc();
  const rl = Buffer.alloc(16);
  sys.getrlimit(RLIMIT_NOFILE, rl);
  const hard = rl.readBigUInt64LE(8);
  if (rl.readBigUInt64LE(0) < BigInt(want)) {
    rl.writeBigUInt64LE(hard < BigInt(want) ? hard : BigInt(want), 0);
    sys.setrlimit(RLIMIT_NOFILE, rl);
  }
}

/** `n` idle fds (the ends of n/2 non-blocking socketpairs: nothing to read); close them with `libc().close`. */
export function idleFds(n: number): number[] {
  const sys = libc();
  const fds: number[] = [];
  const sv = new Int32Array(2);
  for (let i = 0; i < n / 2; i++) {
    if (sys.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) !== 0) throw new Error('socketpair failed');
    fds.push(sv[0], sv[1]);
  }
  return fds;
}
