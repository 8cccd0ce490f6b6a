/**
 * The io_uring peer of the echo benchmark (bench/echo.ts): an echo server
 * on the library's completion engine (lib/uring/proactor.ts). One
 * multishot ACCEPT on the listener, one multishot RECV per connection into
 * the shared provided-buffer ring, each received view sent straight back
 * (copied into the connection's native send chunk). One io_uring_enter per
 * loop turn submits the sends and waits for the next completions.
 *
 * usage: node dist/bench/uring-echo-server.js [--buffer-size 4096] [--buffer-count 4096] [--backend io_uring|epoll] HOST PORT   (PORT 0: any)
 * Prints "listening on HOST:PORT"; exits 0 on SIGINT/SIGTERM, after
 * printing the ring's counters ("enters N completions N bytes N"; 0
 * enters and completions on epoll). On SIGUSR2 it prints the same counters
 * to stderr as "counters enters N completions N bytes N", which the echo
 * benchmark reads at the start and end of its window (io_uring_enter calls
 * per message). `--backend epoll` runs the same
 * server on the Proactor's epoll fallback. Exits 2 with the reason when
 * io_uring is asked for and unavailable.
 */

import { createServer } from '../lib/socket/index.js';
import { Proactor } from '../lib/uring/proactor.js';
import { uringSupport } from '../lib/uring/ring.js';

const args = process.argv.slice(2);
// --buffer-size N: bytes per receive buffer (default 4096).
const sizeAt = args.indexOf('--buffer-size');
const bufferSize = sizeAt >= 0 ? Number(args.splice(sizeAt, 2)[1]) : 4096;
// --backend io_uring|epoll: the Proactor's engine (default io_uring).
const backendAt = args.indexOf('--backend');
const backend = backendAt >= 0 ? args.splice(backendAt, 2)[1] : 'io_uring';
if (backend !== 'io_uring' && backend !== 'epoll') {
  console.error(`--backend must be io_uring or epoll, not ${backend}`);
  process.exit(2);
}
// --buffer-count N: receive buffers, a power of two (default 4096).
const countAt = args.indexOf('--buffer-count');
const bufferCount = countAt >= 0 ? Number(args.splice(countAt, 2)[1]) : 4096;
const [host = '127.0.0.1', portArg = '0'] = args;
const support = uringSupport();
if (backend === 'io_uring' && !support.ok) {
  console.error(`io_uring unavailable: ${support.reason}`);
  process.exit(2);
}

const server = createServer([host, Number(portArg)], { backlog: 1024 });
const port = server.getsockname()[1];
const proactor = new Proactor({ entries: 1024, bufferCount, bufferSize, backend });
proactor.listen(server.detach(), (conn) => {
  conn.ondata = (data) => { conn.send(data); };
});

let stopping = false;
function counters(): string {
  const { enters, completions } = proactor.ring?.stats ?? { enters: 0, completions: 0 };
  return `enters ${enters} completions ${completions} bytes ${proactor.stats.bytesIn}`;
}
function tick(): void {
  // Back to Node's loop every 1000 turns (or 100 ms idle) so that the
  // signal handlers below can run.
  for (let turn = 0; turn < 1000 && !stopping; turn++) {
    if (proactor.turn(100) === 0) break;
  }
  if (!stopping) { setImmediate(tick); return; }
  console.log(counters());
  proactor.close();
  console.log('caught signal, exiting');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { stopping = true; });
// The ring's counters only: the epoll stand-in makes no io_uring_enter calls to count.
if (proactor.ring !== null) process.on('SIGUSR2', () => { console.error(`counters ${counters()}`); });
console.log(`listening on ${host}:${port}`);
setImmediate(tick);
