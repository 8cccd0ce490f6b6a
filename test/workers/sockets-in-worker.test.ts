// Sockets and selectors a worker thread made and never closed are closed
// when the worker ends, terminated or not: the process gets back to the
// fds it had. A socket wrapping a borrowed fd leaves it open.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { runNode } from '../helpers/run-node.js';

const fixture = fileURLToPath(new URL('./sockets-in-worker.ts', import.meta.url));

interface Run {
  code: number;
  errors: string[];
  opened: number;
  leftOpen: string[];
  closedBehind: string[];
}

t.test('a worker\'s sockets and epoll fds are closed when it ends', async (t) => {
  const run = await runNode([...process.execArgv, fixture], { cwd: process.cwd(), timeoutMs: 90_000 });
  t.same({ code: run.code, signal: run.signal, timedOut: run.timedOut }, { code: 0, signal: null, timedOut: false }, 'the process survives');
  t.equal(run.stderr, '', 'no warning, no error');
  const r = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, Run> & { borrowedStillOpen: { stillMine: boolean } };
  for (const name of ['terminate', 'return', 'borrowed'] as const) {
    const w = r[name];
    t.same(w?.errors, [], `${name}: no error in the worker`);
    // listening, connected, accepted, a socketpair, a reused pair, two epoll fds.
    t.ok((w?.opened ?? 0) >= 9, `${name}: the worker held its fds (${w?.opened} more)`);
    t.same(w?.leftOpen, [], `${name}: none of them is left open`);
    t.same(w?.closedBehind, [], `${name}: and nothing else was closed`);
  }
  t.equal(r.terminate?.code, 1, 'terminate() ends the worker');
  t.equal(r.return?.code, 0, 'the other worker ends by itself');
  t.same(r.borrowedStillOpen, { stillMine: true }, 'the main thread\'s fd a worker wrapped `borrowed` stays open');
});
