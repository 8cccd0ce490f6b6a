import t from 'tap';
import { poll, Poll, POLL_DEFAULT_EVENTMASK } from '../../lib/select/index.js';
import {
  EINTR,
  ENOENT,
  ENOMEM,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
} from '../../lib/sys/constants.js';
import { KeyError, SyscallError } from '../../lib/errors.js';
import { openFds, freeFd, scriptedLibc, sleepSync, writeFd, drainFd } from './fixtures/fds.js';

type Coded = Error & { code: string; errno?: number; syscall?: string };

t.test('register, poll, modify, unregister', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const p = poll();
  t.ok(p instanceof Poll);
  t.equal(POLL_DEFAULT_EVENTMASK, POLLIN | POLLPRI | POLLOUT);
  t.same(p.poll(0), [], 'nothing registered');

  p.register(a);
  t.same(p.poll(0), [[a, POLLOUT]], 'default mask includes POLLOUT');

  p.register({ fileno: () => a }, POLLIN);
  t.same(p.poll(0), [], 're-register overwrites the mask');

  writeFd(b, 'hi');
  p.register(b, POLLIN);
  t.same(p.poll(0), [[a, POLLIN]], 'registration order, only ready fds');

  p.modify(b, POLLOUT);
  t.same(p.poll(0), [[a, POLLIN], [b, POLLOUT]]);

  p.unregister(a);
  t.same(p.poll(0), [[b, POLLOUT]]);
  t.same(p.poll(null), [[b, POLLOUT]], 'null blocks, something is ready');
  t.same(p.poll(), [[b, POLLOUT]]);
  t.equal(drainFd(a), 2);
});

t.test('errors of register/modify/unregister', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const p = poll();
  p.register(a, POLLIN);

  const enoent = t.throws(() => p.modify(b, POLLIN)) as Coded;
  t.ok(enoent instanceof SyscallError);
  t.equal(enoent.code, 'ENOENT');
  t.equal(enoent.errno, ENOENT);
  t.equal(enoent.syscall, 'modify');

  const keyErr = t.throws(() => p.unregister(b)) as KeyError;
  t.ok(keyErr instanceof KeyError);
  t.equal(keyErr.code, 'ERR_FD_NOT_REGISTERED');
  t.equal(keyErr.key, b);

  p.unregister(a);
  t.throws(() => p.unregister(a), { code: 'ERR_FD_NOT_REGISTERED' }, 'twice');

  t.throws(() => p.register(a, 70000), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, 'Python: OverflowError');
  t.throws(() => p.register(a, -1), { name: 'RangeError' });
  t.throws(() => p.register(a, 1.5), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => p.modify(a, 0x10000), { name: 'RangeError' }, 'mask checked before the lookup');
  t.throws(() => p.register(-3), { name: 'RangeError' });
  t.throws(() => p.register('x' as unknown as number), { name: 'TypeError' });
  p.register(a, 0xffff);
  p.register(a, 0);
  t.same(p.poll(0), [], 'mask 0: nothing asked for');
});

t.test('POLLHUP when the peer closes, POLLNVAL for a closed fd', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const [rd, wr] = fds.pipe();
  const p = poll();
  p.register(a, POLLIN);
  p.register(rd, POLLIN);
  fds.close(b);
  fds.close(wr);
  const res = new Map(p.poll(0));
  t.ok((res.get(a)! & POLLHUP) !== 0, 'socketpair peer closed: POLLHUP');
  t.ok((res.get(rd)! & POLLHUP) !== 0, 'pipe writer closed: POLLHUP');

  const closed = freeFd(1800);
  const q = poll();
  q.register(closed, POLLIN);
  t.same(q.poll(0), [[closed, POLLNVAL]], 'POLLNVAL even though not asked for');
});

t.test('timeouts are milliseconds', async (t) => {
  const fds = openFds(t);
  const [a] = fds.socketpair();
  const p = poll();
  p.register(a, POLLIN);
  let start = performance.now();
  t.same(p.poll(0), []);
  t.ok(performance.now() - start < 1000, '0 polls');
  start = performance.now();
  t.same(p.poll(60), []);
  const elapsed = performance.now() - start;
  t.ok(elapsed >= 50 && elapsed < 3000, `waited ~60 ms (${elapsed.toFixed(0)})`);

  t.throws(() => p.poll(2 ** 31), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, 'Python: OverflowError');
  t.throws(() => p.poll(NaN), { name: 'TypeError' });
  t.throws(() => p.poll('5' as unknown as number), { name: 'TypeError' });

  const seen: number[] = [];
  const sys = scriptedLibc((state, real) => ({
    poll: (buf, nfds, ms) => {
      seen.push(ms);
      return real.poll(buf, nfds, 0);
    },
  }));
  const q = poll(sys);
  q.register(a, POLLIN);
  for (const ms of [0, 0.5, 10, 10.2, -1, -0.5, -1000, null, undefined, 2 ** 31 - 1]) q.poll(ms);
  t.same(seen, [0, 1, 10, 11, -1, -1, -1, -1, -1, 2 ** 31 - 1]);
  seen.length = 0;
  for (const ms of [-7, 0.1, 2 ** 40, NaN]) q.wait(ms);
  t.same(seen, [-1, 1, 2 ** 31 - 1, 0], 'wait() clamps and never throws');
});

t.test('the pollfd buffer grows and is rebuilt only after a change', async (t) => {
  const fds = openFds(t);
  let polls = 0;
  const nfdsSeen: number[] = [];
  const sys = scriptedLibc((state, real) => ({
    poll: (buf, nfds, ms) => {
      polls++;
      nfdsSeen.push(nfds);
      return real.poll(buf, nfds, ms);
    },
  }));
  const p = poll(sys);
  const ends: number[] = [];
  for (let i = 0; i < 10; i++) ends.push(...fds.socketpair());
  for (const fd of ends) p.register(fd, POLLOUT);
  const n = p.wait(0);
  t.equal(n, 20);
  const got = [];
  for (let i = 0; i < n; i++) got.push([p.readyFd(i), p.readyEvents(i)]);
  t.same(got, ends.map((fd) => [fd, POLLOUT]), '20 > initial capacity 8');
  p.unregister(ends[3]);
  t.equal(p.wait(0), 19);
  t.equal(p.readyFd(3), ends[4]);
  t.same(nfdsSeen, [20, 19]);
  t.equal(polls, 2);
});

t.test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  writeFd(b);
  const seen: number[] = [];
  let fail = 1;
  const sys = scriptedLibc((state, real) => ({
    poll: (buf, nfds, ms) => {
      seen.push(ms);
      if (fail > 0) {
        fail--;
        sleepSync(30);
        state.errno = EINTR;
        return -1;
      }
      state.errno = 0;
      return real.poll(buf, nfds, ms);
    },
  }));
  const p = poll(sys);
  p.register(a, POLLIN);
  t.same(p.poll(1000), [[a, POLLIN]]);
  t.equal(seen.length, 2);
  t.equal(seen[0], 1000);
  t.ok(seen[1] < 1000 && seen[1] > 0, `second timeout smaller (${seen[1]} ms)`);

  seen.length = 0;
  fail = 1;
  t.same(p.poll(), [[a, POLLIN]]);
  t.same(seen, [-1, -1], 'blocking stays blocking');

  seen.length = 0;
  fail = 1;
  t.same(p.poll(10), [], 'deadline passed during the interrupted call');
  t.same(seen, [10], 'no retry');

  seen.length = 0;
  fail = 1;
  t.equal(p.wait(0), 0, 'EINTR with timeout 0: nothing ready, no retry');
  t.same(seen, [0]);
  t.equal(drainFd(a), 1);
});

t.test('other poll(2) failures are SyscallErrors', async (t) => {
  const sys = scriptedLibc((state) => ({
    poll: () => {
      state.errno = ENOMEM;
      return -1;
    },
  }));
  const p = poll(sys);
  p.register(0, POLLIN);
  t.throws(() => p.poll(0), { name: 'SyscallError', code: 'ENOMEM', syscall: 'poll' });
});
