// Child-process fixture of sockets-in-worker.test.ts: a worker thread makes
// sockets, an EpollSelector and a select.epoll() and never closes them; then it is
// terminated, or exits by itself. Prints one JSON line: the process's fds
// before and after each worker. Run as: node sockets-in-worker.ts
// The main thread loads the library only for the `borrowed` run.
import { readdirSync, readlinkSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

interface Job {
  end: 'terminate' | 'return';
  /** An fd of the main thread the worker wraps `borrowed`, or -1. */
  borrowedFd: number;
}

/** The process's open fds, as "number:target". */
function fds(): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.push(`${name}:${readlinkSync(`/proc/self/fd/${name}`)}`);
    } catch {
      // The directory's own fd, gone already.
    }
  }
  return out.sort();
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function inWorker(job: Job): Promise<void> {
  const { createServer, createConnection, socketpair, Socket } = await import('../../lib/socket/socket.js');
  const { EpollSelector } = await import('../../selectors/epoll-selector.js');
  const { EVENT_READ } = await import('../../selectors/events.js');
  const { epoll } = await import('../../lib/select/epoll.js');
  const server = createServer(['127.0.0.1', 0]);
  const client = createConnection(server.getsockname() as [string, number]);
  const accepted = server.accept();
  const [a, b] = socketpair();
  // A closed socket whose number is taken again by the next one.
  const c = socketpair()[0];
  c.close();
  const again = socketpair();
  const sel = new EpollSelector();
  for (const s of [server, client, a, again[0]]) sel.register(s, EVENT_READ);
  const ep = epoll(); // select.epoll(), not a selector's
  ep.register(b.fileno());
  if (job.borrowedFd >= 0) new Socket(null, null, null, job.borrowedFd, { borrowed: true }).getsockname();
  // Kept reachable until the worker ends: no garbage collector involved.
  (globalThis as { keep?: unknown }).keep = [server, client, accepted, a, b, again, sel, ep];
  parentPort?.postMessage('ready');
  if (job.end === 'terminate') setInterval(() => {}, 1000);
}

async function run(job: Job): Promise<object> {
  const before = fds();
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  const errors: string[] = [];
  worker.on('error', (err) => errors.push(err.message));
  await new Promise<void>((resolve) => worker.on('message', () => resolve()));
  const during = fds().length;
  if (job.end === 'terminate') await worker.terminate();
  const code = await exited;
  await sleep(50);
  const after = fds();
  return {
    code,
    errors,
    opened: during - before.length,
    leftOpen: after.filter((f) => !before.includes(f)),
    closedBehind: before.filter((f) => !after.includes(f)),
  };
}

if (isMainThread) {
  const results: Record<string, object> = {};
  results.terminate = await run({ end: 'terminate', borrowedFd: -1 });
  results.return = await run({ end: 'return', borrowedFd: -1 });
  const { socketpair } = await import('../../lib/socket/socket.js');
  const [mine, peer] = socketpair();
  results.borrowed = await run({ end: 'terminate', borrowedFd: mine.fileno() });
  let stillMine = true;
  try {
    mine.getsockname();
    mine.close();
    peer.close();
  } catch {
    stillMine = false;
  }
  results.borrowedStillOpen = { stillMine };
  console.log(JSON.stringify(results));
} else {
  await inWorker(workerData as Job);
}
