/**
 * The completion API on epoll, where io_uring is unavailable.
 * (Placeholder until the epoll engine lands: it refuses to start.)
 */

import { CodedError } from '../errors.js';
import type { AcceptErrorHandler, AttachOptions, Connection, EngineCore, ListenHandle, ProactorStats } from './connection.js';
import type { ProactorOptions } from './proactor.js';

/** The readiness (epoll) engine behind a Proactor without io_uring. */
export class EpollEngine implements EngineCore {
  readonly stats: ProactorStats = { accepted: 0, bytesIn: 0, bytesOut: 0, dropped: 0, noBuffers: 0, rearmed: 0, acceptErrors: 0 };
  readonly connections = 0;
  constructor(_options: ProactorOptions) {
    throw new CodedError('ERR_URING_UNAVAILABLE', 'the epoll engine is not built yet');
  }
  listen(_fd: number, _onconnection: (conn: Connection) => void, _onerror?: AcceptErrorHandler): ListenHandle { throw new Error('unreachable'); }
  attach(_fd: number, _options?: AttachOptions): Connection { throw new Error('unreachable'); }
  defer(_callback: () => void): void { /* unreachable */ }
  turn(_timeoutMs: number): number { return 0; }
  run(): void { /* unreachable */ }
  start(): void { /* unreachable */ }
  stop(): void { /* unreachable */ }
  close(): void { /* unreachable */ }
}
