/**
 * epoll-server — seed 004's last server model: an echo server on
 * select.epoll(), level-triggered.
 *
 * What it teaches: epoll's interface. Unlike select(), the set of watched
 * fds lives in the kernel: register(fd, EPOLLIN) once per socket, then
 * poll() returns only the fds that are ready, with their event bits — no
 * list copied in on every call, no scan of every fd, no 1024-fd limit. The
 * loop is the usual one: the listening fd ready → accept() and register
 * the connection for EPOLLIN; a connection ready → recv() and send the
 * data back, or on no bytes (or EPOLLHUP/EPOLLERR) unregister and close.
 *
 * Level-triggered (the default mode; the seed describes both): poll()
 * reports an fd for as long as it is ready, so reading one chunk per
 * event is fine — what is left is reported again next time. With
 * EPOLLET (edge-triggered) an fd is reported once per change, and the
 * program must read until recv() would block, or the rest waits forever
 * (seed 000's edge-triggered example shows that).
 *
 * Writes: a non-blocking send() may not take everything; the rest is kept
 * and the connection is modified to EPOLLIN|EPOLLOUT until it is out, then
 * back to EPOLLIN (watching EPOLLOUT all the time would wake the loop
 * constantly: a socket is almost always writable). Above 1 MiB pending, it
 * stops reading from that client (EPOLLOUT only) until the echo drains.
 * The seed checks `events == select.EPOLLIN`, which misses EPOLLIN|EPOLLHUP;
 * this one tests bits.
 *
 * Self-contained on purpose: its epoll loop is written out, to be read alone.
 *
 * Run:    node-selectors epoll-server 127.0.0.1 7788
 * Talk:   nc 127.0.0.1 7788   (several at once)
 *         node-selectors multiconn-client 127.0.0.1 7788 5
 * Flags:  --trace (each event with its EPOLL* bits), --quiet, --backlog N
 *         (default 10, as the seed)
 */

import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  SyscallError,
  formatAddress,
  pythonRepr,
  select,
  type Socket,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, epollEventNames, hostAndPort, traceEvent } from './common/raw-loop.js';
import { acceptPending, listenTcp } from './common/echo-servers.js';

const HIGH_WATER = 1024 * 1024;

interface Connection {
  sock: Socket;
  peer: string;
  /** Echo the kernel has not taken yet. */
  pending: Buffer[];
  pendingBytes: number;
  /** The events it is registered for. */
  mask: number;
  /** The client closed its end: close once the pending echo is out. */
  eof: boolean;
}

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const ep = select.epoll();
  let server: Socket;
  try {
    server = listenTcp(host, port, ctx.backlog(10));
  } catch (err) {
    ep.close();
    throw err;
  }
  // Python's connections/addresses dicts, keyed by fd.
  const connections = new Map<number, Connection>();
  // Out of fds (EMFILE), the listening fd stays ready while accept() fails:
  // it is watched for nothing during a short pause (one line is printed).
  const acceptPause = new AcceptPause();

  const setMask = (c: Connection, mask: number): void => {
    if (c.mask === mask) return;
    ep.modify(c.sock, mask);
    c.mask = mask;
  };
  const close = (fd: number, c: Connection, why?: string): void => {
    ep.unregister(fd);
    connections.delete(fd);
    c.sock.close();
    acceptPause.fdFreed();
    ctx.log('client', c.peer, why === undefined ? 'closed' : `failed: ${why}`);
  };
  /** Send what is pending; returns false when the connection is done. */
  const flush = (c: Connection): boolean => {
    while (c.pending.length > 0) {
      const chunk = c.pending[0];
      const sent = c.sock.send(chunk); // null: the send buffer is full
      if (sent === null) break;
      c.pendingBytes -= sent;
      if (sent < chunk.length) {
        c.pending[0] = chunk.subarray(sent);
        break;
      }
      c.pending.shift();
    }
    if (c.pending.length === 0 && c.eof) return false;
    const reading = !c.eof && c.pendingBytes < HIGH_WATER ? EPOLLIN : 0;
    setMask(c, reading | (c.pending.length > 0 ? EPOLLOUT : 0));
    return true;
  };

  try {
    server.setblocking(false);
    ep.register(server, EPOLLIN);
    const serverFd = server.fileno();
    for (;;) {
      if (acceptPause.due()) ep.modify(serverFd, EPOLLIN); // the pause is over: accept again
      // Block until some registered fd is ready (Ctrl-C: KeyboardInterrupt).
      for (const [fd, events] of ep.poll(acceptPause.timeout(null))) {
        if (fd === serverFd) {
          traceEvent(ctx, fd, 'listening socket', epollEventNames(events));
          // Up to 64 per event, so that the open connections get their turn.
          const accepting = acceptPending(server, acceptPause, (sock, addr) => {
            sock.setblocking(false);
            const c: Connection = { sock, peer: formatAddress(addr), pending: [], pendingBytes: 0, mask: EPOLLIN, eof: false };
            connections.set(sock.fileno(), c);
            ep.register(sock, EPOLLIN);
            ctx.log('new client', c.peer);
          });
          if (!accepting) ep.modify(serverFd, 0); // out of fds: paused
          continue;
        }
        const c = connections.get(fd);
        if (c === undefined) continue;
        traceEvent(ctx, fd, c.peer, epollEventNames(events));
        try {
          if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) !== 0 && (c.mask & EPOLLIN) !== 0) {
            // Readable, or hung up / failed (recv() then returns b'' or throws the error).
            const data = c.sock.recv(1024);
            if (data !== null && data.length === 0) {
              c.eof = true;
            } else if (data !== null) {
              ctx.log('received', pythonRepr(data), 'from', c.peer);
              c.pending.push(data);
              c.pendingBytes += data.length;
            }
          }
          if (!flush(c)) close(fd, c);
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          close(fd, c, err.message);
        }
      }
    }
  } finally {
    for (const c of connections.values()) c.sock.close();
    ep.close();
    server.close();
  }
}

const spec: ProgramSpec = {
  name: 'epoll-server',
  usage: '[host] [port]',
  summary: 'Seed 004: level-triggered echo server on select.epoll()',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'EPOLLIN/EPOLLOUT/EPOLLHUP…',
  help: 'Defaults: 127.0.0.1 7788. Talk to it with: nc 127.0.0.1 7788, or node-selectors multiconn-client 127.0.0.1 7788 5',
  main,
};

export default spec;
runMain(spec, import.meta.url);
