/**
 * The cost of the library's wrappers on the hot path: ns per call of
 * recv / send / epoll_wait(0) through Socket, select.epoll and the
 * selector, against the raw koffi calls of the libc table, in one run
 * (interleaved rounds, medians). Target: the wrapper adds < 25%.
 *
 *   node dist/bench/syscalls.js
 */

import { fileURLToPath } from 'node:url';
import { socketpair } from '../lib/socket/socket.js';
import { Epoll } from '../lib/select/epoll.js';
import { EpollSelector } from '../selectors/epoll-selector.js';
import { EVENT_READ } from '../selectors/events.js';
import { libc } from '../lib/sys/libc.js';
import { AF_UNIX, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLIN, MSG_NOSIGNAL, SOCK_STREAM } from '../lib/sys/constants.js';
import { EPOLL_EVENT_SIZE } from '../lib/sys/structs.js';
import { compare, ratio, table } from './harness.js';
import { helpWanted } from './net.js';

/** Run the benchmark and print its table. */
export function main(argv: string[] = process.argv.slice(2)): void {
  if (helpWanted(argv, 'usage: node dist/bench/syscalls.js   (no options)\n  the library\'s hot-path wrappers against raw koffi calls (ns per call)')) return;
  const sys = libc();
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  a.setblocking(false);
  b.setblocking(false);
  const fa = a.fileno();
  const fb = b.fileno();
  const msg = Buffer.alloc(64, 0x61);
  const buf = Buffer.alloc(65536);
  const calls = 200_000;
  const rows: Array<Array<string | number>> = [];

  // recv with nothing to read: the would-block path (null, no exception).
  const eagain = compare({
    raw: () => sys.recv(fa, buf, 64, 0),
    recvInto: () => a.recvInto(buf, 64),
    recv: () => a.recv(64),
  }, calls);
  rows.push(['recv, nothing to read (EAGAIN → null)', eagain.raw, eagain.recvInto, ratio(eagain.recvInto, eagain.raw), eagain.recv, ratio(eagain.recv, eagain.raw)]);

  // A 64-byte send then the recv that drains it.
  const roundTrip = compare({
    raw: () => {
      sys.send(fb, msg, 64, MSG_NOSIGNAL);
      sys.recv(fa, buf, 64, 0);
    },
    recvInto: () => {
      b.send(msg);
      a.recvInto(buf, 64);
    },
    recv: () => {
      b.send(msg);
      a.recv(64);
    },
  }, calls);
  rows.push(['send 64 B + recv 64 B', roundTrip.raw, roundTrip.recvInto, ratio(roundTrip.recvInto, roundTrip.raw), roundTrip.recv, ratio(roundTrip.recv, roundTrip.raw)]);

  // send alone: the socket buffer is drained once per batch outside the timing loop.
  const sendOnly = compare({
    raw: () => {
      if (sys.send(fb, msg, 64, MSG_NOSIGNAL) < 0) while (sys.recv(fa, buf, buf.length, 0) > 0);
    },
    send: () => {
      if (b.send(msg) === null) while ((a.recvInto(buf) ?? 0) > 0);
    },
  }, calls);
  rows.push(['send 64 B', sendOnly.raw, sendOnly.send, ratio(sendOnly.send, sendOnly.raw), '', '']);
  while ((a.recvInto(buf) ?? 0) > 0);

  // epoll_wait(0) with one idle fd registered.
  const rawEp = sys.epoll_create1(EPOLL_CLOEXEC);
  const ev = Buffer.alloc(EPOLL_EVENT_SIZE);
  ev.writeUInt32LE(EPOLLIN, 0);
  ev.writeInt32LE(fa, 4);
  sys.epoll_ctl(rawEp, EPOLL_CTL_ADD, fa, ev);
  const events = Buffer.alloc(EPOLL_EVENT_SIZE * 64);
  const ep = new Epoll();
  ep.register(fa, EPOLLIN);
  const sel = new EpollSelector();
  sel.register(a, EVENT_READ);
  const wait = compare({
    raw: () => sys.epoll_wait(rawEp, events, 64, 0),
    wait: () => ep.wait(0, 64),
    poll: () => ep.poll(0, 64),
    select: () => sel.select(0),
  }, calls);
  rows.push(['epoll_wait(0): Epoll.wait / Epoll.poll', wait.raw, wait.wait, ratio(wait.wait, wait.raw), wait.poll, ratio(wait.poll, wait.raw)]);
  rows.push(['epoll_wait(0): EpollSelector.select(0)', wait.raw, wait.select, ratio(wait.select, wait.raw), '', '']);

  console.log('## Hot-path wrappers vs raw koffi calls (ns per call, median of 9 interleaved rounds)\n');
  table(['operation', 'raw koffi', 'library', 'ratio', 'library (allocating form)', 'ratio'], rows);
  sel.close();
  ep.close();
  sys.close(rawEp);
  a.close();
  b.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
