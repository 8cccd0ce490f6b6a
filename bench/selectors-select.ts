/**
 * EpollSelector.select(0) with 10, 1,000 and 10,000 idle fds, against the
 * same wait through the raw `select.epoll` object, a bare koffi epoll_wait,
 * and Python's selectors.EpollSelector, in one run. Target: the selector
 * costs < 1.3x raw epoll, flat in N.
 */

import { fileURLToPath } from 'node:url';
import { EpollSelector } from '../selectors/epoll-selector.js';
import { EVENT_READ } from '../selectors/events.js';
import { Epoll } from '../lib/select/epoll.js';
import { libc } from '../lib/sys/libc.js';
import { EPOLLIN, EPOLL_CLOEXEC, EPOLL_CTL_ADD } from '../lib/sys/constants.js';
import { EPOLL_EVENT_SIZE } from '../lib/sys/structs.js';
import { compare, idleFds, raiseNofile, ratio, runPython, table } from './harness.js';
import { helpWanted } from './net.js';

const SIZES = [10, 1000, 10_000];
const sys = libc();

/** Run the benchmark and print its table. */
export function main(argv: string[] = process.argv.slice(2)): void {
  if (helpWanted(argv, 'usage: node dist/bench/selectors-select.js   (no options)\n  EpollSelector.select(0) against raw epoll_wait and Python\'s selectors, with idle fds')) return;
  raiseNofile(Math.max(...SIZES) * 2 + 500);
  const rows: Array<Array<string | number>> = [];
  const python = runPython(fileURLToPath(new URL('../../bench/python/selectors_select.py', import.meta.url)), SIZES.map(String));
  for (const n of SIZES) {
    const fds = idleFds(n);
    const sel = new EpollSelector();
    const ep = new Epoll();
    const rawEp = sys.epoll_create1(EPOLL_CLOEXEC);
    const ev = Buffer.alloc(EPOLL_EVENT_SIZE);
    for (const fd of fds) {
      sel.register(fd, EVENT_READ);
      ep.register(fd, EPOLLIN);
      ev.writeUInt32LE(EPOLLIN, 0);
      ev.writeInt32LE(fd, 4);
      sys.epoll_ctl(rawEp, EPOLL_CTL_ADD, fd, ev);
    }
    const rawBuf = Buffer.alloc(EPOLL_EVENT_SIZE * n);
    const calls = 50_000;
    const { raw, object, selector } = compare({
      raw: () => sys.epoll_wait(rawEp, rawBuf, n, 0),
      object: () => ep.poll(0, n),
      selector: () => sel.select(0),
    }, calls);
    const py = python?.[String(n)];
    rows.push([n, raw, object, selector, py ?? 'n/a', ratio(selector, object), ratio(selector, raw), py ? ratio(py, selector) : 'n/a']);
    sel.close();
    ep.close();
    sys.close(rawEp);
    for (const fd of fds) sys.close(fd);
  }
  console.log('## EpollSelector.select(0), idle fds (ns per call, median of 9 interleaved rounds)\n');
  table(['idle fds', 'koffi epoll_wait', 'select.epoll poll(0)', 'EpollSelector', 'Python selectors', 'selector / epoll obj', 'selector / koffi', 'Python / ours'], rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
