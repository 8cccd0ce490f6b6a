// The doorbell of PollSelector/SelectSelector async waits: a private epoll
// set kept in step with the registrations, including fds epoll refuses and
// fd numbers closed and reused behind the selector's back.
import t, { type Test } from 'tap';
import { openSync, closeSync } from 'node:fs';
import { DoorbellWait, type Registration } from '../../selectors/doorbell-wait.js';
import { PollSelector } from '../../selectors/poll-selector.js';
import { EVENT_READ, EVENT_WRITE } from '../../selectors/events.js';
import { libc } from '../../lib/sys/libc.js';
import { pair } from './helpers.js';

const sys = libc();

// A doorbell over a plain map of registrations, and one wait on it.
function bell(t: Test): { regs: Map<number, Registration>; ring: (ms: number) => Promise<boolean>; waiter: DoorbellWait } {
  const regs = new Map<number, Registration>();
  const waiter = new DoorbellWait(sys, (fd) => regs.get(fd), () => regs.values());
  t.teardown(() => waiter.close());
  // Resolves true if the doorbell rang well before `ms` passed. (A timer
  // may fire a little before `ms` by a fresh clock, libuv's loop time being
  // cached: half the time tells a ring from a timeout either way.)
  const ring = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const start = performance.now();
      waiter.arm(ms, () => resolve(performance.now() - start < ms / 2));
    });
  return { regs, ring, waiter };
}

t.test('rings for a ready fd, not for an idle one; follows modify and unregister', async (t) => {
  const { regs, ring, waiter } = bell(t);
  const [a, b] = pair(t);
  regs.set(a, { fd: a, events: EVENT_READ });
  t.equal(await ring(30), false, 'idle');
  regs.set(a, { fd: a, events: EVENT_WRITE });
  waiter.registrationsChanged(a);
  t.equal(await ring(1000), true, 'writable after modify');
  regs.delete(a);
  waiter.registrationsChanged(a);
  sys.write(b, Buffer.from('x'), 1);
  t.equal(await ring(30), false, 'unregistered: not watched');
});

t.test('a change during an armed wait wakes it', async (t) => {
  const { regs, waiter } = bell(t);
  const [a] = pair(t);
  regs.set(a, { fd: a, events: EVENT_READ });
  const woke = new Promise<void>((resolve) => waiter.arm(5000, resolve));
  regs.set(a, { fd: a, events: EVENT_WRITE });
  waiter.registrationsChanged(a);
  await woke;
  t.pass('woken');
});

t.test('fds epoll refuses (a regular file) or that are closed are left out', async (t) => {
  const { regs, ring, waiter } = bell(t);
  const file = openSync(new URL(import.meta.url), 'r');
  t.teardown(() => closeSync(file));
  regs.set(file, { fd: file, events: EVENT_READ });
  regs.set(1999, { fd: 1999, events: EVENT_READ });
  t.equal(await ring(20), false, 'no error, nothing rings');
  regs.set(file, { fd: file, events: EVENT_WRITE });
  waiter.registrationsChanged(file);
  regs.delete(file);
  regs.delete(1999);
  waiter.registrationsChanged(file);
  waiter.registrationsChanged(1999);
  t.equal(await ring(20), false);
});

t.test('an fd number closed and reused behind its back', async (t) => {
  const { regs, ring, waiter } = bell(t);
  const [a, b] = pair(t);
  const [c, d] = pair(t);
  regs.set(a, { fd: a, events: EVENT_READ });
  t.equal(await ring(10), false);
  // a now names another socket: epoll dropped the old one (ENOENT on modify).
  sys.dup2(c, a);
  regs.set(a, { fd: a, events: EVENT_READ | EVENT_WRITE });
  waiter.registrationsChanged(a);
  t.equal(await ring(1000), true, 'the new socket is watched');
  // The doorbell forgot a while epoll still holds it (EEXIST on add).
  const keep = sys.dup(a);
  t.teardown(() => sys.close(keep));
  regs.delete(a);
  sys.close(a);
  waiter.registrationsChanged(a);
  // (epoll keeps (a, its file) while `keep` holds the file, as it would
  // for EpollSelector: it may ring; poll() with timeout 0 still decides.)
  await ring(10);
  sys.dup2(keep, a);
  regs.set(a, { fd: a, events: EVENT_READ });
  waiter.registrationsChanged(a);
  sys.write(d, Buffer.from('x'), 1);
  t.equal(await ring(1000), true, 'watched again');
  void b;
});

t.test('PollSelector: the doorbell is made at the first async wait and closed by close()', async (t) => {
  const sel = new PollSelector();
  const [a, b] = pair(t);
  sel.register(a, EVENT_READ);
  t.same(await sel.selectAsync(0.02), []);
  setTimeout(() => sys.write(b, Buffer.from('x'), 1), 10);
  t.same((await sel.selectAsync(5)).map(([k, ev]) => [k.fd, ev]), [[a, EVENT_READ]]);
  sel.close();
  t.ok(sel.closed);
});
