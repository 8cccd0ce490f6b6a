/**
 * The "bare koffi epoll loop" peer of the echo benchmark (bench/echo.ts):
 * the least a JavaScript echo server can do, written straight against the
 * raw libc binding table (no Socket, no selector, no Message). It is the
 * 1.0x baseline of NOTES.md: whatever the library's layers add per message
 * shows up as the distance between this peer and a server built on them.
 *
 * Same behaviour as bench/c/epoll-echo-server.c: level-triggered epoll,
 * accept4 non-blocking, one recv() of up to 64 KiB per event into one
 * reused Buffer, send() back; unsent bytes are kept and the connection
 * waits for EPOLLOUT only until they are drained. Events are decoded from
 * one reused Buffer with readUInt32LE/readInt32LE at the arch's stride.
 *
 * usage: node dist/bench/koffi-echo-server.js HOST PORT   (PORT 0: any)
 * Prints "listening on HOST:PORT"; exits 0 on SIGINT/SIGTERM.
 */

import { libc } from '../lib/sys/libc.js';
import {
  AF_INET, EAGAIN, EINTR, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
  EPOLL_CTL_MOD, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SOMAXCONN, SO_REUSEADDR,
} from '../lib/sys/constants.js';
import { EPOLL_EVENT_DATA_OFFSET, EPOLL_EVENT_SIZE, SIN_ADDR_OFFSET, SIN_FAMILY_OFFSET, SIN_PORT_OFFSET, SOCKADDR_IN_SIZE } from '../lib/sys/structs.js';

const sys = libc();
const fail = (what: string): never => { throw new Error(`${what} failed: errno ${sys.errno()}`); };
const [host = '127.0.0.1', portArg = '0'] = process.argv.slice(2);

const addr = Buffer.alloc(SOCKADDR_IN_SIZE);
const in4 = Buffer.alloc(4);
if (sys.inet_pton(AF_INET, host, in4) !== 1) throw new Error(`bad IPv4 address: ${host}`);
addr.writeUInt16LE(AF_INET, SIN_FAMILY_OFFSET);
addr.writeUInt16BE(Number(portArg), SIN_PORT_OFFSET);
in4.copy(addr, SIN_ADDR_OFFSET);
const lfd = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
if (lfd < 0) fail('socket');
if (sys.setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, new Uint8Array(new Int32Array([1]).buffer), 4) < 0) fail('setsockopt');
if (sys.bind(lfd, addr, SOCKADDR_IN_SIZE) < 0 || sys.listen(lfd, SOMAXCONN) < 0) fail('bind/listen');
sys.getsockname(lfd, addr, new Uint32Array([SOCKADDR_IN_SIZE]));

const ep = sys.epoll_create1(EPOLL_CLOEXEC);
const ev = Buffer.alloc(EPOLL_EVENT_SIZE);
const ctl = (op: number, fd: number, events: number): number => {
  ev.writeUInt32LE(events, 0);
  ev.writeInt32LE(fd, EPOLL_EVENT_DATA_OFFSET);
  return sys.epoll_ctl(ep, op, fd, ev);
};
if (ep < 0 || ctl(EPOLL_CTL_ADD, lfd, EPOLLIN) < 0) fail('epoll');

const MAX_EVENTS = 256;
const events = Buffer.alloc(EPOLL_EVENT_SIZE * MAX_EVENTS);
const buf = Buffer.allocUnsafe(64 * 1024);
const pending: Array<Buffer | undefined> = []; // by fd: bytes the kernel did not take yet
const open = new Set<number>();
let stopping = false;

function drop(fd: number): void {
  ctl(EPOLL_CTL_DEL, fd, 0);
  sys.close(fd);
  pending[fd] = undefined;
  open.delete(fd);
}

/** Send `data` (from offset 0); keep the rest and wait for EPOLLOUT if the kernel takes less. */
function sendOrKeep(fd: number, data: Buffer, len: number, waiting: boolean): void {
  const w = sys.send(fd, data, len, MSG_NOSIGNAL);
  if (w === len) {
    if (waiting) { pending[fd] = undefined; ctl(EPOLL_CTL_MOD, fd, EPOLLIN); }
  } else if (w < 0 && sys.errno() !== EAGAIN) {
    drop(fd);
  } else {
    pending[fd] = Buffer.from(data.subarray(Math.max(w, 0), len));
    if (!waiting) ctl(EPOLL_CTL_MOD, fd, EPOLLOUT);
  }
}

function tick(): void {
  // Up to 1000 waits per turn of Node's loop: a JS signal handler only
  // runs once control returns there (NOTES.md), at the latest after 100 ms idle.
  for (let turn = 0; turn < 1000 && !stopping; turn++) {
    const n = sys.epoll_wait(ep, events, MAX_EVENTS, 100);
    if (n <= 0) {
      if (n < 0 && sys.errno() !== EINTR) fail('epoll_wait');
      break;
    }
    for (let i = 0; i < n; i++) {
      const mask = events.readUInt32LE(i * EPOLL_EVENT_SIZE);
      const fd = events.readInt32LE(i * EPOLL_EVENT_SIZE + EPOLL_EVENT_DATA_OFFSET);
      if (fd === lfd) {
        for (let c; (c = sys.accept4(lfd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          if (ctl(EPOLL_CTL_ADD, c, EPOLLIN) < 0) sys.close(c);
          else open.add(c);
        }
        continue;
      }
      if (!open.has(fd)) continue;
      const p = pending[fd];
      if (p !== undefined) {
        if (mask & (EPOLLOUT | EPOLLERR | EPOLLHUP)) sendOrKeep(fd, p, p.length, true);
      } else if (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        const r = sys.recv(fd, buf, buf.length, 0);
        if (r > 0) sendOrKeep(fd, buf, r, false);
        else if (r === 0 || sys.errno() !== EAGAIN) drop(fd);
      }
    }
  }
  if (!stopping) { setImmediate(tick); return; }
  for (const fd of [...open]) drop(fd);
  sys.close(ep);
  sys.close(lfd);
  console.log('caught signal, exiting');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { stopping = true; });
console.log(`listening on ${host}:${addr.readUInt16BE(SIN_PORT_OFFSET)}`);
setImmediate(tick);
