/**
 * The "selectors-level loop" peer of the echo benchmark (bench/echo.ts):
 * the library's public `selectors` + `socket` API with no Message layer,
 * written as a protocol author would write a fast echo loop. It is the
 * floor the Message layer builds on (issue target: >= 0.97x the C server).
 *
 * Same behaviour as bench/c/epoll-echo-server.c: level-triggered, accept
 * until would-block, one recvInto() of up to 64 KiB per event into one
 * reused Buffer, send() back; unsent bytes are kept and the connection
 * waits for EVENT_WRITE only until they are drained.
 *
 * usage: node dist/bench/selectors-echo-server.js [--backend epoll|poll|select] HOST PORT
 * Prints "listening on HOST:PORT"; exits 0 on SIGINT/SIGTERM.
 */

import { parseArgs } from 'node:util';
import { createServer, type Socket } from '../lib/socket/index.js';
import { EVENT_READ, EVENT_WRITE, selectorClass, type BackendName, type SelectorKey } from '../selectors/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { backend: { type: 'string', default: 'epoll' } } });
const [host = '127.0.0.1', portArg = '0'] = positionals;

/** One connection: its socket, and the bytes the kernel did not take yet. */
interface Conn {
  sock: Socket;
  pending: Buffer | null;
}

const Selector = selectorClass(values.backend as BackendName);
const sel = new Selector<Conn | null>();
const server = createServer([host, Number(portArg)], { backlog: 4096 });
server.setblocking(false);
sel.register(server, EVENT_READ, null);
const buf = Buffer.allocUnsafe(64 * 1024);
// send() takes the bytes as one object (Python's send(data)): the view of
// buf's first n bytes is kept and reused while n repeats, as a protocol
// author would, so the loop allocates nothing per message.
let view = buf.subarray(0, 0);
let stopping = false;

function drop(conn: Conn): void {
  sel.unregister(conn.sock);
  conn.sock.close();
}

/** Send `len` bytes of `data`; keep the rest and watch for writability if the kernel takes less. */
function sendOrKeep(key: SelectorKey<Conn | null>, conn: Conn, data: Buffer, len: number): void {
  let sent: number | null;
  try {
    let out = data;
    if (len !== data.length) {
      if (data !== buf) out = data.subarray(0, len);
      else if (view.length === len) out = view;
      else out = view = buf.subarray(0, len);
    }
    sent = conn.sock.send(out);
  } catch {
    drop(conn);
    return;
  }
  const waiting = conn.pending !== null;
  if (sent === len) {
    if (waiting) {
      conn.pending = null;
      sel.modify(conn.sock, EVENT_READ, conn);
    }
  } else {
    conn.pending = Buffer.from(data.subarray(sent ?? 0, len));
    if (!waiting) sel.modify(key.fileobj, EVENT_WRITE, conn);
  }
}

function accept(): void {
  for (let pair; (pair = server.accept()) !== null;) {
    const sock = pair[0];
    sock.setblocking(false);
    sel.register(sock, EVENT_READ, { sock, pending: null });
  }
}

function tick(): void {
  // Up to 1000 waits per turn of Node's loop, so that a signal handler runs.
  for (let turn = 0; turn < 1000 && !stopping; turn++) {
    const ready = sel.select(0.1);
    if (ready.length === 0) break;
    for (const [key, mask] of ready) {
      const conn = key.data;
      if (conn === null) {
        accept();
        continue;
      }
      if (conn.pending !== null) {
        if ((mask & EVENT_WRITE) !== 0) sendOrKeep(key, conn, conn.pending, conn.pending.length);
        continue;
      }
      let n: number | null;
      try {
        n = conn.sock.recvInto(buf);
      } catch {
        drop(conn);
        continue;
      }
      if (n === 0) drop(conn);
      else if (n !== null) sendOrKeep(key, conn, buf, n);
    }
  }
  if (!stopping) {
    setImmediate(tick);
    return;
  }
  for (const key of sel.getMap()?.values() ?? []) {
    if (key.data !== null) key.data.sock.close();
  }
  sel.close();
  server.close();
  console.log('caught signal, exiting');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { stopping = true; });
console.log(`listening on ${host}:${(server.getsockname() as [string, number])[1]}`);
setImmediate(tick);
