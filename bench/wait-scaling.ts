/**
 * Wait scaling: the cost of one zero-timeout wait with N idle registered
 * fds, N = 10 … 10,000 (select capped below FD_SETSIZE, at 1,000), for the
 * library's three selectors (`select(0)`), a bare koffi epoll_wait, and the
 * same three kernel calls from C (bench/c/wait-scaling.c). The picture the
 * seed texts describe, measured: epoll is flat in N, select and poll grow
 * linearly.
 *
 *   node dist/bench/wait-scaling.js [--sizes 10,100,1000,10000] [--svg FILE] [--quick]
 */

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EpollSelector } from '../selectors/epoll-selector.js';
import { PollSelector } from '../selectors/poll-selector.js';
import { SelectSelector } from '../selectors/select-selector.js';
import { EVENT_READ } from '../selectors/events.js';
import { libc } from '../lib/sys/libc.js';
import { EPOLLIN, EPOLL_CLOEXEC, EPOLL_CTL_ADD, FD_SETSIZE } from '../lib/sys/constants.js';
import { EPOLL_EVENT_SIZE, writeEpollEvent } from '../lib/sys/structs.js';
import { compare, idleFds, raiseNofile, table } from './harness.js';
import { buildC, helpWanted } from './net.js';
import { lineChart, type Series } from './svg.js';

/** ns per wait, by method and N. */
export type WaitTable = Record<string, Record<number, number>>;

/** Measure every method at every size; returns ns per call. */
export function measureWaits(sizes: number[], quick = false): WaitTable {
  const sys = libc();
  raiseNofile(Math.max(...sizes) + 500);
  const out: WaitTable = { 'EpollSelector': {}, 'PollSelector': {}, 'SelectSelector': {}, 'koffi epoll_wait': {} };
  for (const n of sizes) {
    const fds = idleFds(n);
    const epoll = new EpollSelector();
    const poll = new PollSelector();
    const select = Math.max(...fds) < FD_SETSIZE ? new SelectSelector() : null;
    const rawEp = sys.epoll_create1(EPOLL_CLOEXEC);
    const ev = Buffer.alloc(EPOLL_EVENT_SIZE);
    const words = new Int32Array(ev.buffer, ev.byteOffset, EPOLL_EVENT_SIZE / 4);
    for (const fd of fds) {
      epoll.register(fd, EVENT_READ);
      poll.register(fd, EVENT_READ);
      select?.register(fd, EVENT_READ);
      writeEpollEvent(words, 0, EPOLLIN, fd);
      sys.epoll_ctl(rawEp, EPOLL_CTL_ADD, fd, ev);
    }
    const events = Buffer.alloc(EPOLL_EVENT_SIZE * n);
    const calls = Math.max(quick ? 100 : 500, Math.floor((quick ? 200_000 : 2_000_000) / Math.max(n, 10)));
    const fns: Record<string, () => unknown> = {
      'EpollSelector': () => epoll.select(0),
      'PollSelector': () => poll.select(0),
      'koffi epoll_wait': () => sys.epoll_wait(rawEp, events, n, 0),
    };
    if (select !== null) fns['SelectSelector'] = () => select.select(0);
    const res = compare(fns, calls, quick ? 3 : 5);
    for (const [k, v] of Object.entries(res)) out[k][n] = v;
    epoll.close();
    poll.close();
    select?.close();
    sys.close(rawEp);
    for (const fd of fds) sys.close(fd);
  }
  const c = spawnSync(buildC('wait-scaling'), sizes.map(String), { encoding: 'utf8', timeout: 600_000 });
  if (c.status === 0) {
    const parsed = JSON.parse(c.stdout) as Record<string, Record<string, number>>;
    for (const [k, v] of Object.entries(parsed)) out[`C ${k}`] = Object.fromEntries(Object.entries(v).map(([n, ns]) => [Number(n), ns]));
  } else {
    console.error(`wait-scaling (C) failed: ${c.stderr}`);
  }
  return out;
}

/** The wait-scaling chart as SVG. */
export function waitChart(t: WaitTable): string {
  const series: Series[] = Object.entries(t).map(([name, byN]) => ({
    name,
    points: Object.entries(byN).map(([n, ns]): [number, number] => [Number(n), ns]).sort((a, b) => a[0] - b[0]),
    dashed: name.startsWith('C '),
    // One color per kernel call, ours solid and C's dashed.
    color: /select/i.test(name) ? '#2ca02c' : /poll/i.test(name) && !/epoll/i.test(name) ? '#d62728' : name.startsWith('koffi') ? '#9467bd' : '#1f77b4',
  }));
  return lineChart({ title: 'One zero-timeout wait with N idle fds', xLabel: 'idle fds registered (N)', yLabel: 'ns per wait (log)', series });
}

/** The table rows: one per method, one column per N. */
export function waitRows(t: WaitTable, sizes: number[]): Array<Array<string | number>> {
  return Object.entries(t).map(([name, byN]) => [name, ...sizes.map((n) => byN[n] ?? 'n/a')]);
}

/** Run the benchmark and print its table (and the chart, with --svg). */
export function main(argv: string[] = process.argv.slice(2)): void {
  if (helpWanted(argv, 'usage: node dist/bench/wait-scaling.js [--sizes 10,100,1000,10000] [--svg FILE] [--quick]\n'
    + '  ns per zero-timeout wait with N idle fds: our three selectors, raw koffi epoll_wait, C select/poll/epoll')) return;
  const { values } = parseArgs({
    args: argv,
    options: { sizes: { type: 'string', default: '10,100,1000,10000' }, svg: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const sizes = values.sizes.split(',').map(Number);
  const t = measureWaits(sizes, values.quick);
  console.log('## Wait scaling: ns per zero-timeout wait with N idle fds (median of interleaved rounds)\n');
  table(['method', ...sizes.map((n) => `N=${n}`)], waitRows(t, sizes));
  if (values.svg !== undefined) writeFileSync(values.svg, waitChart(t));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
