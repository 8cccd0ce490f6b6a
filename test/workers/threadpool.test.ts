// No Node-loop wait holds a libuv threadpool thread: with six waits pending
// (more than the pool's four threads), fs.promises.readFile and
// dns.promises.lookup('localhost') still answer at once. When the poll and
// select waits ran on the threadpool, these calls waited for them.
import t from 'tap';
import { runFixture } from './child.js';

// Far above what either call takes here (about 1 ms, even on a loaded
// machine's scheduler), far below the waits, which never end by themselves.
const PROMPT_MS = 2000;

for (const backend of ['poll', 'select', 'epoll']) {
  t.test(`${backend}: six pending waits leave fs and dns prompt`, async (t) => {
    const { code, signal, timedOut, result, stderr } = await runFixture([backend, 'threadpool']);
    t.same({ code, signal, timedOut }, { code: 0, signal: null, timedOut: false }, stderr);
    const times = (result?.threadpool ?? {}) as { readFileMs?: number; lookupMs?: number };
    t.ok(Number(times.readFileMs) < PROMPT_MS, `readFile took ${times.readFileMs} ms`);
    t.ok(Number(times.lookupMs) < PROMPT_MS, `lookup took ${times.lookupMs} ms`);
  });
}
