/**
 * multi-thread-server — seed 004's third server model (多线程服务器): the
 * main thread only accepts; every connection is served by a thread of its
 * own (a worker_threads Worker), with blocking calls.
 *
 * What it teaches: threads share the process's file descriptors. The main
 * thread accept()s and passes the connected socket's fd NUMBER to a
 * worker in `workerData`; the worker wraps it with
 * `new Socket(family, SOCK_STREAM, 0, fd)` and serves the client with
 * blocking recv()/sendall() — blocking only its own thread. Because the
 * fd is shared (not copied, as with a child process), it must be closed
 * exactly once: here the main thread keeps the Socket and closes it when
 * the worker has ended (the seed's thread closes it itself, and its main
 * thread — unlike the multi-process parent — must not).
 *
 * Threads are cheaper than processes (no new process, shared memory) but
 * a Node worker is still a whole JavaScript engine instance: a thread per
 * client does not scale to thousands of clients either. Each thread also
 * needs fds of its own (its event loop): when the process runs out, a
 * thread cannot start, that connection is closed, and accepting pauses
 * for a moment (one line is printed) instead of failing every connection
 * that arrives meanwhile. So that this stays rare, a thread is started
 * only while about 40 fds are free for each thread starting (counted in
 * /proc/self/fd against RLIMIT_NOFILE), or when no thread runs at all;
 * further clients wait in the listen backlog.
 *
 * The main thread waits for connections with selectAsync(), in Node's
 * loop: workers' console output is relayed through that loop, and a main
 * thread blocked in accept() would hold it back. On Ctrl-C/SIGTERM it
 * stops accepting and shuts down (shutdown(SHUT_RDWR)) every connection a
 * worker is still serving: the worker's blocking recv() returns EOF, the
 * worker ends, the main thread closes the socket and exits. (A worker
 * blocked in a system call cannot be stopped with worker.terminate(),
 * which only interrupts running JavaScript.)
 *
 * Run:    node-selectors multi-thread-server 127.0.0.1 7788
 * Talk:   nc 127.0.0.1 7788   (several at once: each gets its own thread)
 *         node-selectors multiconn-client 127.0.0.1 7788 5
 * Flags:  --quiet, --backlog N (default 128; with the seed's 5, a burst of
 *         connections overflows the queue while workers start, and the
 *         kernel resets some)
 */

import { readFileSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SHUT_RDWR, formatAddress, type Socket, type SocketAddress } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { hostAndPort, type AcceptPause } from './common/raw-loop.js';
import { acceptAndHandOff } from './common/echo-servers.js';

const WORKER = new URL('./children/echo-thread.js', import.meta.url);
// How long stopping workers may take before they are terminated.
const STOP_GRACE_MS = 5000;

/**
 * The fds a thread may need while it starts: its event loop keeps a few,
 * and while it loads it has its module files open (up to about 40 fds in all, measured here). A
 * thread that cannot start for lack of fds was seen to leave some of those
 * open for good (Node 20), so a new thread is started only while that many
 * fds are free for each thread still starting; further clients wait in
 * the listen backlog.
 */
const FDS_PER_START = 40;

/** RLIMIT_NOFILE (soft), from /proc (Linux); Infinity if unlimited or unknown. */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s{2,}/)[1]);
  return Number.isFinite(soft) ? soft : Infinity;
}

/** Open fds of this process (Infinity if even the listing needs an fd there is none for). */
function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return Infinity;
  }
}

/** A worker serving one connection, with the connection it owns. */
interface Serving {
  worker: Worker;
  conn: Socket;
  /** The worker has loaded its modules (its 'started' message). */
  started: boolean;
  done: Promise<void>;
}

function handOff(ctx: ProgramContext, conn: Socket, addr: SocketAddress, serving: Set<Serving>, pause: AcceptPause): void {
  const peer = formatAddress(addr);
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { workerData: { fd: conn.fileno(), family: conn.family, addr, quiet: ctx.quiet } });
  } catch (err) {
    conn.close();
    throw err;
  }
  ctx.log('new client', peer, 'handed to thread', worker.threadId);
  const entry: Serving = {
    worker,
    conn,
    started: false,
    done: new Promise<void>((resolve) => {
      worker.once('message', () => (entry.started = true));
      worker.on('error', (err) => {
        // A thread needs fds of its own (its event loop): out of them, it
        // cannot start. Pause accepting (one line) rather than fail each
        // connection that arrives meanwhile with a line of its own.
        const outOfFds = /\b(EMFILE|ENFILE)\b/.exec(err.message);
        if (outOfFds !== null && pause.failed({ code: outOfFds[1], message: err.message })) return;
        console.error(`${ctx.name}: thread ${worker.threadId} serving ${peer} failed: ${err.message}`);
      });
      worker.on('exit', () => {
        // The worker is gone: nobody uses the fd any more.
        conn.close();
        pause.fdFreed();
        serving.delete(entry);
        resolve();
      });
    }),
  };
  serving.add(entry);
}

async function stopWorkers(serving: Set<Serving>): Promise<void> {
  const all = [...serving];
  for (const { conn } of all) {
    try {
      conn.shutdown(SHUT_RDWR); // the worker's recv() returns b'' at once
    } catch {
      // Already disconnected (ENOTCONN): the worker is ending anyway.
    }
  }
  const grace = setTimeout(() => {
    for (const { worker } of all) void worker.terminate();
  }, STOP_GRACE_MS);
  await Promise.all(all.map((s) => s.done));
  clearTimeout(grace);
}

async function main(ctx: ProgramContext): Promise<void> {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const serving = new Set<Serving>();
  const limit = openFileLimit();
  // No room for one more thread to start, counting those still starting.
  // With no thread at all, one is always tried (if it fails, accepting pauses).
  const full = (): boolean => {
    if (serving.size === 0) return false;
    let starting = 1;
    for (const s of serving) if (!s.started) starting++;
    return openFds() + starting * FDS_PER_START > limit;
  };
  await acceptAndHandOff(host, port, ctx.backlog(128), ctx.signal, (conn, addr, pause) => handOff(ctx, conn, addr, serving, pause), () => stopWorkers(serving), full);
}

const spec: ProgramSpec = {
  name: 'multi-thread-server',
  usage: '[host] [port]',
  summary: 'Seed 004: echo server with a worker thread per connection (the fd handed to the worker)',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  help: 'Defaults: 127.0.0.1 7788. Talk to it with: nc 127.0.0.1 7788 (several at once), or node-selectors multiconn-client 127.0.0.1 7788 5',
  main,
};

export default spec;
runMain(spec, import.meta.url);
