/**
 * The entry of each worker thread of {@link MessageServerWorkers}
 * (server-workers.ts): load the factory module, run one MessageServer on
 * its own SO_REUSEPORT listener in this thread's Node loop, and obey the
 * main thread's 'shutdown' and 'close'. Nothing is shared with the other
 * workers but the port.
 *
 * Messages to the main thread: `{ type: 'listening', address }`,
 * `{ type: 'connection' }` per accepted connection, `{ type: 'error',
 * error }` (name, message, code, stack) when the server fails; then the
 * thread ends by itself (every handle closed), never by terminate().
 */

import { parentPort, workerData } from 'node:worker_threads';
import { invalidArgType } from '../errors.js';
import type { Address } from '../socket/index.js';
import { MessageServer, type MessageFactory, type MessageServerOptions } from './message-server.js';

/** What the main thread passes in `workerData`. */
export interface WorkerJob {
  index: number;
  workers: number;
  address: Address;
  options: Omit<MessageServerOptions, 'createMessage' | 'selector' | 'reuseport'>;
  module: string;
  exportName: string;
  data: unknown;
}

/** The command the main thread sends. */
export type WorkerCommand = { type: 'shutdown'; timeoutMs: number } | { type: 'close' };

function report(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  parentPort?.postMessage({
    type: 'error',
    error: { name: e.name, message: e.message, code: (e as { code?: unknown }).code, stack: e.stack },
  });
}

async function serve(job: WorkerJob): Promise<void> {
  const mod = (await import(job.module)) as Record<string, unknown>;
  const make = mod[job.exportName];
  if (typeof make !== 'function') throw invalidArgType(`export '${job.exportName}' of ${job.module}`, 'a function', make);
  const createMessage = (await (make as (data: unknown, worker: { index: number; workers: number }) => unknown)(
    job.data, { index: job.index, workers: job.workers })) as MessageFactory;
  if (typeof createMessage !== 'function') throw invalidArgType(`the result of '${job.exportName}'`, 'a function', createMessage);
  const server = new MessageServer(job.address, { ...job.options, reuseport: true, createMessage });
  const stop = new AbortController();
  const port = parentPort!;
  port.on('message', (command: WorkerCommand) => {
    if (command.type === 'shutdown') void server.shutdown(command.timeoutMs).then(() => stop.abort());
    else {
      server.close();
      stop.abort();
    }
  });
  server.on('connection', () => port.postMessage({ type: 'connection' }));
  port.postMessage({ type: 'listening', address: server.address(), fd: server.socket.fileno() });
  try {
    await server.run({ signal: stop.signal });
  } finally {
    server.close();
  }
}

const port = parentPort;
if (port !== null) {
  serve(workerData as WorkerJob).catch((err: unknown) => {
    report(err);
    process.exitCode = 1;
  }).finally(() => port.close());
}
