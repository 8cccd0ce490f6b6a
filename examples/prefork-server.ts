/**
 * prefork-server — seed 004's multi-process server (多进程服务器) as real
 * servers run it: a POOL of worker processes started up front, and the
 * parent handing each accepted connection to an idle worker by passing
 * its file descriptor over a Unix socket (sendFds, SCM_RIGHTS).
 *
 * What it teaches: file descriptor passing. multi-process-server gives a
 * connection to a child by starting that child with the fd in its stdio
 * (inheritance: it only works at spawn time, so it costs a process start
 * per client). Here the workers already run. The parent keeps one
 * socketpair per worker; `sendFds(channel, ['C'], [conn.fileno()])` makes
 * the kernel install a copy of the connection's fd in the worker (with
 * another number), and the worker's `recvFds()` returns that number. The
 * parent then closes its copy, as in multi-process-server. Workers say "R"
 * (ready) on their channel when they start and after each client; the
 * parent hands connections only to ready workers, and keeps the others
 * waiting until one is free (apache's prefork MPM, nginx's and
 * gunicorn's worker pools share a listening socket instead; passing the
 * accepted fd lets the parent choose the worker).
 *
 * The parent's loop waits with selectAsync() for the listening socket and
 * the channels at once. At most 64 accepted connections wait for a worker:
 * beyond that the parent stops watching the listening socket, and further
 * clients wait in the kernel's backlog rather than cost the parent an fd
 * each. Out of fds (EMFILE) anyway, it pauses accepting (one line is
 * printed). A worker that dies (its channel reaches end of
 * stream) is replaced. On Ctrl-C/SIGTERM the parent stops accepting,
 * closes the channels (idle workers exit), sends SIGTERM to the workers
 * still serving, waits for all of them, and exits.
 *
 * Run:    node-selectors prefork-server 127.0.0.1 7788 --workers 4
 * Talk:   nc 127.0.0.1 7788   (up to --workers at once; more wait for a free worker)
 *         node-selectors multiconn-client 127.0.0.1 7788 5
 * Flags:  --workers N (default 4), --quiet, --backlog N (default 128)
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  AF_UNIX, EVENT_READ, SOCK_STREAM, SyscallError, formatAddress, sendFds, socketpair,
  type BaseSelector, type Socket, type SocketAddress,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, hostAndPort } from './common/raw-loop.js';
import { acceptPending, listenTcp } from './common/echo-servers.js';

const WORKER = fileURLToPath(new URL('./children/prefork-worker.js', import.meta.url));
// How long stopping workers may take before they are killed.
const STOP_GRACE_MS = 5000;
// The most accepted connections that wait for a free worker; more wait in the kernel's backlog.
const MAX_WAITING = 64;

/** One pre-started worker: its process, the parent's end of its channel, and how many "R"s are unused. */
interface Worker {
  proc: ChildProcess;
  channel: Socket;
  ready: number;
  /** It has said "R" at least once. */
  started: boolean;
}

function startWorker(ctx: ProgramContext, sel: BaseSelector<Worker | null>, workers: Set<Worker>): Worker {
  const [mine, theirs] = socketpair(AF_UNIX, SOCK_STREAM);
  let proc: ChildProcess;
  try {
    proc = spawn(process.execPath, [WORKER, ...(ctx.quiet ? ['--quiet'] : [])], {
      stdio: ['ignore', 'inherit', 'inherit', theirs.fileno()],
    });
  } catch (err) {
    mine.close();
    throw err;
  } finally {
    // The worker has its own copy (fd 3); the parent keeps only its end.
    theirs.close();
  }
  mine.setblocking(false);
  const w: Worker = { proc, channel: mine, ready: 0, started: false };
  proc.on('error', (err) => console.error(`${ctx.name}: could not start a worker: ${err.message}`));
  proc.on('exit', (code, signal) => {
    if (code !== 0) ctx.log('worker', proc.pid, 'ended with', signal ?? `status ${code}`);
  });
  workers.add(w);
  sel.register(mine, EVENT_READ, w);
  return w;
}

/** Read a worker's "R"s; at end of stream the worker is gone: forget it, and start another unless stopping. */
function readWorker(ctx: ProgramContext, sel: BaseSelector<Worker | null>, w: Worker, workers: Set<Worker>): void {
  let data: Buffer | null;
  try {
    data = w.channel.recv(64);
  } catch (err) {
    // ECONNRESET: the worker died with a connection still unread in its
    // channel (the kernel closes that fd: its client sees the end). Gone too.
    if (!(err instanceof SyscallError)) throw err;
    data = Buffer.alloc(0);
  }
  if (data === null) return;
  if (data.length > 0) {
    if (!w.started) ctx.log('worker', w.proc.pid, 'ready');
    w.started = true;
    w.ready += data.length;
    return;
  }
  sel.unregister(w.channel);
  w.channel.close();
  workers.delete(w);
  if (!ctx.signal.aborted) {
    const next = startWorker(ctx, sel, workers);
    ctx.log('worker', w.proc.pid, 'is gone; started worker', next.proc.pid);
  }
}

/** Hand waiting connections to ready workers, oldest first; the parent closes its copy of each. */
function dispatch(ctx: ProgramContext, waiting: [Socket, SocketAddress][], workers: Set<Worker>): void {
  while (waiting.length > 0) {
    const w = [...workers].find((x) => x.ready > 0);
    if (w === undefined) return;
    const [conn, addr] = waiting[0];
    let sent: number | null = null;
    try {
      sent = sendFds(w.channel, ['C'], [conn.fileno()]);
    } catch (err) {
      // EPIPE/ECONNRESET: the worker just died; its end of stream will come through readWorker.
      if (!(err instanceof SyscallError)) throw err;
    }
    if (sent === null) {
      w.ready = 0;
      continue;
    }
    w.ready--;
    waiting.shift();
    conn.close();
    ctx.log('new client', formatAddress(addr), 'handed to worker', w.proc.pid);
  }
}

async function stopWorkers(workers: Set<Worker>): Promise<void> {
  const exits = [...workers].map((w) => new Promise<void>((resolve) => {
    // End of stream on the channel stops an idle worker; SIGTERM one that is serving.
    w.channel.close();
    const { proc } = w;
    if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    if (w.ready === 0) proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS).unref();
  }));
  await Promise.all(exits);
}

function workerCount(ctx: ProgramContext): number {
  const text = ctx.flags.workers;
  if (text === undefined) return 4;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) ctx.usageError(`--workers must be an integer from 1 to 64, not ${String(text)}`);
  return n;
}

async function main(ctx: ProgramContext): Promise<void> {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const count = workerCount(ctx);
  const sel = ctx.selector<Worker | null>();
  const workers = new Set<Worker>();
  const waiting: [Socket, SocketAddress][] = [];
  let server: Socket | undefined;
  try {
    server = listenTcp(host, port, ctx.backlog(128));
    server.setblocking(false);
    sel.register(server, EVENT_READ, null);
    let watching = true;
    const acceptPause = new AcceptPause();
    for (let i = 0; i < count; i++) startWorker(ctx, sel, workers);
    ctx.log(`${count} workers started:`, [...workers].map((w) => w.proc.pid).join(' '));
    while (!ctx.signal.aborted) {
      // Watch the listening socket only while there is room in `waiting` and fds to accept with.
      acceptPause.due();
      const accepting = !acceptPause.paused && waiting.length < MAX_WAITING;
      if (accepting !== watching) {
        if (accepting) sel.register(server, EVENT_READ, null);
        else sel.unregister(server);
        watching = accepting;
      }
      let ready;
      try {
        ready = await sel.selectAsync(acceptPause.timeout(null), { signal: ctx.signal });
      } catch (err) {
        if (ctx.signal.aborted) break;
        throw err;
      }
      for (const [key] of ready) {
        if (key.data === null) {
          // false: out of fds, paused
          acceptPending(server, acceptPause, (conn, addr) => waiting.push([conn, addr]), () => waiting.length >= MAX_WAITING);
        } else {
          readWorker(ctx, sel, key.data, workers);
        }
      }
      dispatch(ctx, waiting, workers);
    }
  } finally {
    sel.close();
    server?.close();
    for (const [conn] of waiting) conn.close();
    await stopWorkers(workers);
  }
}

const spec: ProgramSpec = {
  name: 'prefork-server',
  usage: '[host] [port]',
  summary: 'Seed 004: echo server with a pool of pre-started worker processes, each accepted fd passed to one with sendFds',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  options: {
    workers: { type: 'string', help: 'how many worker processes to start (default 4)' },
  },
  help: 'Defaults: 127.0.0.1 7788, 4 workers. Talk to it with: nc 127.0.0.1 7788, or node-selectors multiconn-client 127.0.0.1 7788 5',
  main,
};

export default spec;
runMain(spec, import.meta.url);
