// The proactor's behaviours that need a process of their own, on both of
// its engines (io_uring where the machine allows it; the epoll fallback,
// forced with NODE_SELECTORS_NO_URING=1 in the child): a worker running
// it in Node's loop terminated, Ctrl-C ending a blocking run(), and
// running out of fds (rlimit) while accepting.
import t from 'tap';
import { runNode, type RunResult } from '../helpers/run-node.js';
import type { ProactorBackend } from '../../lib/uring/proactor.js';
import { NO_URING_ENV, uringSupport } from '../../lib/uring/ring.js';

const support = uringSupport();
const backends: ProactorBackend[] = support.ok ? ['io_uring', 'epoll'] : ['epoll'];
if (!support.ok) t.comment(`io_uring unavailable on kernel ${support.kernel}: ${support.reason}; io_uring tests skipped`);

/** A child running `fixture` with the proactor's automatic choice, on io_uring or forced onto epoll. */
async function runFixture(fixture: string, backend: ProactorBackend, args: string[] = []): Promise<RunResult> {
  const path = new URL(`../fixtures/${fixture}`, import.meta.url).pathname;
  const env = backend === 'epoll' ? { [NO_URING_ENV]: '1' } : {};
  return runNode([...process.execArgv, path, ...args], { cwd: process.cwd(), timeoutMs: 60_000, env });
}

for (const backend of backends) {
  t.test(`${backend}: a worker running a proactor in Node-loop mode can be terminated; the process survives`, async (t) => {
    const res = await runFixture('uring-worker-terminate.ts', backend);
    t.equal(res.code, 0, res.stderr);
    t.equal(res.stdout.trim(), `survived ${backend}`);
  });

  for (const how of ['exit', 'terminate'] as const) {
    t.test(`${backend}: a worker that ends by ${how} without close(): its connection's client sees the end, no hang`, async (t) => {
      const res = await runFixture('uring-worker-exit-peers.ts', backend, [how]);
      t.equal(res.code, 0, res.stderr);
      const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
      t.equal(out.backend, backend);
      t.equal(out.echoed, 'ping', 'the worker served before it ended');
      t.ok(out.ended === 'end' || out.ended === 'reset', `the client saw the stream end (${out.ended}), not a connection left open`);
    });
  }

  t.test(`${backend}: Ctrl-C ends a blocking run() with a KeyboardInterrupt once interrupts are enabled`, async (t) => {
    const res = await runFixture('proactor-interrupt.ts', backend);
    t.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
    t.same(out, { backend, caught: 'KeyboardInterrupt', connections: 0 });
  });

  t.test(`${backend}: out of fds: accept backs off instead of spinning, then accepts again`, async (t) => {
    const res = await runFixture('uring-emfile.ts', backend);
    t.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
    t.equal(out.backend, backend);
    t.equal(out.acceptedWhileStarved, 0, 'nothing accepted without an fd to give');
    t.ok(out.errorsWhileStarved >= 1, `EMFILE seen (${out.errorsWhileStarved})`);
    t.equal(out.onerror, out.errorsWhileStarved, 'each failed accept reported to onerror');
    t.same(out.errnos, [24], 'with EMFILE');
    t.ok(out.errorsWhileStarved <= 10, `at most one failed accept per 100 ms back-off over 0.5 s (${out.errorsWhileStarved})`);
    t.equal(out.accepted, 2, 'both pending connections accepted once fds were free');
  });
}
