// The suite of teardown-<backend>.test.ts (one file per backend, so that
// each child gets the whole per-file time limit on a loaded machine).
// A selector's Node-loop wait pending in a worker thread, on every backend
// and through every way of waiting: terminating the worker leaves the
// process alive and no fd behind; a worker that exits, or ends its wait
// and has nothing left to do, exits. (koffi 3.3.4's poll handle used to
// crash the process with SIGSEGV at worker teardown, and the poll/select
// waits on the threadpool made terminate() hang.) One child process per
// backend runs its workers one after another.
import type { Test } from 'tap';
import { runFixture } from './child.js';

const APIS = ['selectAsync', 'run', 'events'];
const RUNS = [...APIS.map((api) => `terminate:${api}`), 'terminate:server', 'terminate:recvAsync', 'exit:run', 'abort:events'];

/** Terminate, exit and abort workers waiting on `backend`; check the process and its fds. */
export async function teardownSuite(t: Test, backend: string): Promise<void> {
  const { code, signal, timedOut, result, stderr } = await runFixture([backend, ...RUNS], 100_000);
  t.same({ code, signal, timedOut }, { code: 0, signal: null, timedOut: false }, 'the process survives every worker');
  t.equal(stderr, '');
  const runs = (result ?? {}) as Record<string, { code?: number; before?: number; after?: number; messages?: string[] }>;
  for (const api of APIS) {
    const r = runs[`terminate:${api}`];
    t.equal(r?.code, 1, `${api}: terminate() ends the worker`);
    t.equal(r?.after, r?.before, `${api}: no fd left behind`);
  }
  // MessageServer.run() is the selector's run(); its listening socket is
  // the application's, closed too when the worker ends.
  t.equal(runs['terminate:server']?.code, 1, 'MessageServer.run(): terminate() ends the worker');
  t.equal(runs['terminate:server']?.after, runs['terminate:server']?.before, 'MessageServer.run(): no fd left behind');
  const socketWait = runs['terminate:recvAsync'];
  t.equal(socketWait?.code, 1, 'a socket\'s recvAsync(): terminate() ends the worker');
  t.equal(socketWait?.after, socketWait?.before, 'recvAsync(): no fd left behind (the wait\'s epoll fd, and the application\'s socketpair: sockets close at worker exit)');
  const exit = runs['exit:run'];
  t.equal(exit?.code, 0, 'process.exit() in the worker ends it');
  t.equal(exit?.after, exit?.before, 'process.exit(): no fd left behind');
  const abort = runs['abort:events'];
  t.same(abort?.messages, ['waiting', 'aborted']);
  t.equal(abort?.code, 0, 'a worker whose wait was aborted exits by itself');
  t.equal(abort?.after, abort?.before, 'abort: no fd left behind');
}
