/**
 * `MessageServerWorkers`: one loop per core. n worker threads each run an
 * independent MessageServer (its own selector, its own SO_REUSEPORT
 * listening socket) on the same address; the kernel spreads new
 * connections over the n listeners by a hash of their 4-tuple. Nothing is
 * shared but the port.
 *
 * A worker cannot receive a JavaScript function, so the Messages are made
 * by a module: `createMessage: { module, export, data }` names a module
 * (URL or path) whose export is called once in each worker as
 * `make(data, { index, workers })` and returns that worker's
 * MessageFactory. `data` must be structured-cloneable.
 */

import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CodedError, invalidArgType, outOfRange } from '../errors.js';
import type { TypedEmitter } from '../typed-emitter.js';
import { AF_INET, AF_INET6, AF_UNIX, fromfd, SHUT_RDWR, SOCK_STREAM, type Address, type Socket, type SocketAddress } from '../socket/index.js';
import type { MessageServerOptions } from './message-server.js';
import type { WorkerCommand, WorkerJob } from './server-worker.js';

/** The module that makes each worker's MessageFactory. */
export interface WorkerFactoryModule {
  /** A module URL (`new URL('./factory.js', import.meta.url)`) or an absolute path. */
  module: string | URL;
  /** The export to call (default `'default'`): `(data, { index, workers }) => MessageFactory` (or a promise of one). */
  export?: string;
  /** Passed to the export in every worker; structured-cloneable. */
  data?: unknown;
}

/** Options of {@link MessageServerWorkers}. */
export interface MessageServerWorkersOptions extends Omit<MessageServerOptions, 'createMessage' | 'selector' | 'reuseport'> {
  /** How many worker threads (loops), >= 1. */
  workers: number;
  /** The module whose export makes each worker's MessageFactory. */
  createMessage: WorkerFactoryModule;
  /** After close(), how long a worker may take to end before it is terminated, in ms (default 5000). */
  terminateAfterMs?: number;
}

/** Events of a {@link MessageServerWorkers}. */
export type MessageServerWorkersEvents = {
  /** Every worker listens; `address` has the real port. */
  listening: (address: SocketAddress) => void;
  /** Worker `index` accepted a connection (relayed from its thread). */
  connection: (index: number) => void;
  /**
   * Worker `index` failed (its error, with name, message and code) or
   * ended unasked (`ERR_WORKER_EXITED`). The other workers keep serving;
   * a failure before every worker listened stops them all.
   */
  error: (err: Error & { code?: string }, index: number) => void;
  /** Every worker has ended. */
  close: () => void;
};

type WorkersEmitter = new () => TypedEmitter<MessageServerWorkersEvents>;

const DEFAULT_SHUTDOWN_MS = 10_000;
const DEFAULT_TERMINATE_AFTER_MS = 5_000;
// Plain .ts when this library runs from its sources (the tests), .js when built.
const ENTRY = new URL(`./server-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

type FromWorker =
  | { type: 'listening'; address: SocketAddress; fd: number }
  | { type: 'connection' }
  | { type: 'error'; error: { name: string; message: string; code?: unknown; stack?: string } };

/**
 * n MessageServers, one per worker thread, on one address with
 * SO_REUSEPORT. Worker 0 binds first (so that port 0 becomes a real
 * port), the others bind that port. `shutdown()` drains every worker,
 * `close()` closes them at once; both resolve when every thread has
 * ended. TCP only (AF_INET/AF_INET6): an AF_UNIX path cannot be shared.
 */
export class MessageServerWorkers extends (EventEmitter as unknown as WorkersEmitter) {
  /** How many workers were started. */
  readonly workers: number;
  /** Resolves with the address once every worker listens; rejects if one fails first. */
  readonly ready: Promise<SocketAddress>;
  /** Resolves when every worker has ended. */
  readonly closed: Promise<void>;
  readonly #threads: (Worker | null)[];
  readonly #accepted: number[];
  readonly #listeners: Array<Socket | null> = [];
  readonly #alive = new Set<number>();
  readonly #terminateAfterMs: number;
  #address: SocketAddress | null = null;
  #stopping = false;
  #resolveClosed!: () => void;

  /**
   * Start worker 0; once it listens, the others.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a bad `createMessage` or `workers`.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` if `workers` < 1 or not an integer.
   */
  constructor(address: Address, options: MessageServerWorkersOptions) {
    super();
    const { workers, createMessage, terminateAfterMs, ...serverOptions } = options ?? ({} as MessageServerWorkersOptions);
    if (typeof workers !== 'number' || Number.isNaN(workers)) throw invalidArgType('workers', 'a number', workers);
    if (!Number.isInteger(workers) || workers < 1) throw outOfRange('workers', 'an integer >= 1', workers);
    const module = createMessage?.module;
    if (typeof module !== 'string' && !(module instanceof URL)) throw invalidArgType('createMessage.module', 'a URL or a path', module);
    const exportName = createMessage.export ?? 'default';
    if (typeof exportName !== 'string') throw invalidArgType('createMessage.export', 'a string', exportName);
    this.workers = workers;
    this.#terminateAfterMs = terminateAfterMs ?? DEFAULT_TERMINATE_AFTER_MS;
    this.#threads = new Array<Worker | null>(workers).fill(null);
    this.#accepted = new Array<number>(workers).fill(0);
    this.closed = new Promise((resolve) => { this.#resolveClosed = resolve; });
    const moduleUrl = module instanceof URL ? module.href
      : module.startsWith('file:') ? module : pathToFileURL(module).href;
    const job = (index: number, at: Address): WorkerJob => ({
      index, workers, address: at, options: serverOptions, module: moduleUrl, exportName, data: createMessage.data,
    });
    this.ready = new Promise<SocketAddress>((resolve, reject) => {
      let listening = 0;
      const onListening = (index: number, addr: SocketAddress): void => {
        if (index === 0) {
          this.#address = addr;
          // The real port, for the others (port 0 resolved).
          const at: Address = Array.isArray(address) && Array.isArray(addr) ? [address[0], addr[1] as number] : address;
          for (let i = 1; i < workers && !this.#stopping; i++) this.#start(i, job(i, at), onListening, onStartError);
        }
        if (++listening === workers) {
          this.emit('listening', this.#address!);
          resolve(this.#address!);
        }
      };
      const onStartError = (err: Error): void => {
        if (listening === workers) return;
        reject(err);
        void this.close();
      };
      this.#start(0, job(0, address), onListening, onStartError);
    });
    this.ready.catch(() => {});
  }

  /** The address every worker listens on (the real port for port 0); null until worker 0 listens. */
  address(): SocketAddress | null {
    return this.#address;
  }

  /** Connections accepted by each worker so far (index = worker). */
  get accepted(): readonly number[] {
    return [...this.#accepted];
  }

  /** Workers whose thread is still running. */
  get running(): number {
    return this.#alive.size;
  }

  /**
   * Graceful stop of every worker (`MessageServer.shutdown(timeoutMs)` in
   * each). Calling it again, or close(), while it runs is allowed.
   * @returns a promise resolved when every thread has ended.
   */
  shutdown(timeoutMs = DEFAULT_SHUTDOWN_MS): Promise<void> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw invalidArgType('timeoutMs', 'a number', timeoutMs);
    this.#stopping = true;
    this.#send({ type: 'shutdown', timeoutMs });
    return this.closed;
  }

  /**
   * Close every worker's server at once (queued output dropped); a worker
   * that has not ended `terminateAfterMs` later (stuck in JavaScript) is
   * terminated. Idempotent.
   * @returns a promise resolved when every thread has ended.
   */
  close(): Promise<void> {
    this.#stopping = true;
    this.#send({ type: 'close' });
    if (this.#alive.size > 0) {
      const timer = setTimeout(() => {
        for (const i of this.#alive) void this.#threads[i]?.terminate();
      }, this.#terminateAfterMs);
      timer.unref();
      void this.closed.then(() => clearTimeout(timer));
    }
    return this.closed;
  }

  #send(command: WorkerCommand): void {
    for (const i of this.#alive) this.#threads[i]?.postMessage(command);
    // Stop listening now, in every worker at once (their sockets are shared).
    for (let i = 0; i < this.#listeners.length; i++) this.#stopListener(i);
  }

  // The main thread's own reference to worker i's listening socket: a
  // worker that ends without closing it (process.exit(), terminate(), a
  // crash) may leave it open — its fd is closed at thread exit, but an
  // io_uring ACCEPT still in flight holds the socket, and a listener left in
  // the SO_REUSEPORT group would keep getting its share of connections that
  // nobody accepts. shutdown() on a listening socket takes it out of the
  // group (and resets what waits in its backlog), whoever else holds it.
  #stopListener(i: number): void {
    const held = this.#listeners[i];
    if (held === null || held === undefined) return;
    this.#listeners[i] = null;
    try {
      held.shutdown(SHUT_RDWR);
    } catch {
      // Not listening any more (ENOTCONN): nothing to take out.
    }
    held.close();
  }

  #start(index: number, job: WorkerJob, onListening: (i: number, a: SocketAddress) => void, onStartError: (e: Error) => void): void {
    const worker = new Worker(ENTRY, { workerData: job, execArgv: process.execArgv });
    this.#threads[index] = worker;
    this.#alive.add(index);
    let reported = false;
    let listening = false;
    const fail = (err: Error & { code?: string }): void => {
      reported = true;
      if (!listening) onStartError(err);
      if (this.listenerCount('error') > 0 || listening) this.emit('error', err, index);
    };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'connection') {
        this.#accepted[index]++;
        this.emit('connection', index);
      } else if (msg.type === 'listening') {
        listening = true;
        try {
          const family = typeof msg.address === 'string' ? AF_UNIX : (msg.address as unknown[]).length === 4 ? AF_INET6 : AF_INET;
          this.#listeners[index] = fromfd(msg.fd, family, SOCK_STREAM);
        } catch {
          // Closed already (a worker stopping at once): nothing to hold.
        }
        onListening(index, msg.address);
        // A close() that came before this worker listened.
        if (this.#stopping) worker.postMessage({ type: 'close' } satisfies WorkerCommand);
      } else {
        const e = msg.error;
        const err = Object.assign(new Error(e.message), { name: e.name }) as Error & { code?: string };
        if (typeof e.code === 'string') err.code = e.code;
        if (e.stack !== undefined) err.stack = e.stack;
        fail(err);
      }
    });
    worker.on('error', (err) => { if (!reported) fail(err); });
    worker.on('exit', (code) => {
      this.#stopListener(index);
      this.#alive.delete(index);
      this.#threads[index] = null;
      if (!reported && !this.#stopping) {
        fail(new CodedError('ERR_WORKER_EXITED', `Worker ${index} exited with code ${code} while serving.`));
      }
      if (this.#alive.size === 0) {
        this.#stopping = true;
        this.emit('close');
        this.#resolveClosed();
      }
    });
  }
}
