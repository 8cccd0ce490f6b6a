// Child-process fixture of the worker tests: a selector's Node-loop wait
// pending in a worker thread when that worker is terminated or exits, or
// pending in the main thread while fs and dns work. It prints one JSON line.
// Run as: node wait-in-worker.ts <backend> <scenario:api>...
//   terminate: the worker is terminated during the wait
//   exit:      the worker calls process.exit(0) during the wait
//   abort:     the worker ends its wait with an AbortSignal and then has
//              nothing left to do (it must exit by itself)
// (one worker after another, each result keyed "scenario:api"), or as
//      node wait-in-worker.ts <backend> threadpool
// six waits pending in the main thread while fs and dns are timed.
// The watched fd is the child's stdin: a pipe the test holds open and never
// writes to, so this process loads koffi only in the workers (the case where
// koffi 3.3.4's poll handle crashed the process at worker teardown).
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { selectorClass, type BackendName } from '../../selectors/default-selector.js';
import { EVENT_READ } from '../../selectors/events.js';
import type { BaseSelector } from '../../selectors/base-selector.js';

type Api = 'selectAsync' | 'run' | 'events' | 'server' | 'recvAsync';
interface Job {
  scenario: string;
  backend: BackendName;
  api: Api;
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Start the wait the job names on `sel`; the promise it returns settles
// when the wait ends.
async function startWait(sel: BaseSelector, api: Api, signal: AbortSignal): Promise<{ ended: Promise<void> }> {
  if (api === 'selectAsync') {
    const ended = sel.selectAsync(null, { signal }).then(
      () => {},
      (err: Error) => {
        if (err.name !== 'AbortError') throw err;
      },
    );
    return { ended };
  }
  if (api === 'run') return { ended: sel.run(() => {}, { signal }) };
  if (api === 'events') {
    const drain = async (): Promise<void> => {
      for await (const event of sel.events({ signal })) void event;
    };
    return { ended: drain() };
  }
  if (api === 'recvAsync') {
    // A socket's own wait (lib/socket/reactor.ts), not the selector's:
    // neither the reactor's epoll fd nor the application's socketpair may
    // stay open after terminate().
    const { socketpair } = await import('../../lib/socket/socket.js');
    const [a, b] = socketpair();
    a.setblocking(false);
    signal.addEventListener('abort', () => { a.close(); b.close(); });
    return { ended: a.recvAsync(10, 0, { signal }).then(() => {}, () => {}) };
  }
  // MessageServer.run() is the selector's run(), plus a listening socket.
  const { MessageServer } = await import('../../lib/message/message-server.js');
  const { EchoMessage } = await import('../../lib/message/echo-message.js');
  const server = new MessageServer(['127.0.0.1', 0], {
    selector: sel,
    createMessage: (sl, s, addr) => new EchoMessage(sl, s, addr),
  });
  signal.addEventListener('abort', () => server.close());
  return { ended: server.run({ signal }) };
}

async function inWorker(job: Job): Promise<void> {
  const sel = new (selectorClass(job.backend))();
  sel.register(0, EVENT_READ);
  const controller = new AbortController();
  const { ended } = await startWait(sel, job.api, controller.signal);
  // Armed once the first poll found nothing: a later turn of the loop.
  await sleep(50);
  parentPort?.postMessage('waiting');
  if (job.scenario === 'exit') process.exit(0);
  if (job.scenario === 'abort') {
    controller.abort();
    await ended;
    sel.close();
    parentPort?.postMessage('aborted');
  }
}

async function inMain(job: Job): Promise<object> {
  const before = fdCount();
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const messages: string[] = [];
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  worker.on('error', (err) => messages.push(`error: ${err.message}`));
  await new Promise<void>((resolve) =>
    worker.on('message', (m: string) => {
      messages.push(m);
      resolve();
    }),
  );
  if (job.scenario === 'terminate') await worker.terminate();
  const code = await exited;
  // The worker's handles are closed during its teardown; give the
  // process a moment before counting.
  await sleep(50);
  return { code, messages, before, after: fdCount() };
}

async function threadpool(job: Job): Promise<object> {
  const file = new URL(import.meta.url);
  await readFile(file);
  await lookup('localhost');
  const selectors: BaseSelector[] = [];
  const controller = new AbortController();
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 6; i++) {
    const sel = new (selectorClass(job.backend))();
    sel.register(0, EVENT_READ);
    selectors.push(sel);
    waits.push((await startWait(sel, i % 2 === 0 ? 'selectAsync' : 'run', controller.signal)).ended);
  }
  await sleep(50);
  let start = performance.now();
  await readFile(file);
  const readFileMs = performance.now() - start;
  start = performance.now();
  await lookup('localhost');
  const lookupMs = performance.now() - start;
  controller.abort();
  await Promise.all(waits);
  for (const sel of selectors) sel.close();
  return { readFileMs, lookupMs };
}

if (isMainThread) {
  const [backend, ...runs] = process.argv.slice(2);
  const results: Record<string, object> = {};
  for (const run of runs) {
    const [scenario, api = 'selectAsync'] = run.split(':');
    const job: Job = { scenario, backend: backend as BackendName, api: api as Api };
    results[run] = scenario === 'threadpool' ? await threadpool(job) : await inMain(job);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  await inWorker(workerData as Job);
}
