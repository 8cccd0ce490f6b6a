import t from 'tap';
import { epoll, Epoll, EPOLL_DEFAULT_EVENTMASK, EPOLL_DEFAULT_MAXEVENTS } from '../../lib/select/index.js';
import { libc } from '../../lib/sys/libc.js';
import {
  EEXIST,
  EINTR,
  EINVAL,
  EMFILE,
  ENOENT,
  ENOSPC,
  EPERM,
  EPOLLERR,
  EPOLLET,
  EPOLLEXCLUSIVE,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDHUP,
  EPOLL_CLOEXEC,
  FD_CLOEXEC,
  F_GETFD,
  SHUT_WR,
} from '../../lib/sys/constants.js';
import { EPOLL_EVENT_DATA_OFFSET, EPOLL_EVENT_SIZE } from '../../lib/sys/structs.js';
import { CodedError, SyscallError } from '../../lib/errors.js';
import { openFds, freeFd, isFree, scriptedLibc, sleepSync, writeFd, drainFd } from './fixtures/fds.js';

type Coded = Error & { code: string; errno?: number; syscall?: string };

/** A new epoll object closed in t's teardown. */
function newEpoll(t: { teardown(fn: () => void): void }, ...args: Parameters<typeof epoll>): Epoll {
  const ep = epoll(...args);
  t.teardown(() => ep.close());
  return ep;
}

t.test('creation, fileno, close, closed', async (t) => {
  const ep = newEpoll(t);
  t.ok(ep instanceof Epoll);
  const fd = ep.fileno();
  t.ok(fd >= 0);
  t.equal(libc().fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC, 'always close-on-exec');
  t.equal(ep.closed, false);
  ep.close();
  t.equal(ep.closed, true);
  t.ok(isFree(fd), 'fd released');
  ep.close();
  t.equal(ep.closed, true, 'close is idempotent');

  newEpoll(t, 5).close();
  newEpoll(t, -1, EPOLL_CLOEXEC).close();
  t.equal(EPOLL_DEFAULT_EVENTMASK, EPOLLIN | EPOLLPRI | EPOLLOUT);
  t.equal(EPOLL_DEFAULT_MAXEVENTS, 1023);
});

t.test('constructor argument errors', async (t) => {
  t.throws(() => epoll(0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, 'Python: negative sizehint');
  t.throws(() => epoll(-2), { name: 'RangeError' });
  t.throws(() => epoll(1.5), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => epoll(-1, 1.5), { name: 'TypeError' });
  const err = t.throws(() => epoll(-1, 1)) as Coded;
  t.ok(err instanceof SyscallError);
  t.equal(err.code, 'EINVAL');
  t.equal(err.errno, EINVAL);

  const sys = scriptedLibc((state) => ({
    epoll_create1: () => {
      state.errno = EMFILE;
      return -1;
    },
  }));
  t.throws(() => new Epoll(-1, 0, sys), { name: 'SyscallError', code: 'EMFILE', syscall: 'epoll_create1' });
});

t.test('level-triggered reports until drained; the default mask', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register({ fileno: () => a }, EPOLLIN);
  t.same(ep.poll(0), []);
  writeFd(b, 'abc');
  t.same(ep.poll(0), [[a, EPOLLIN]]);
  t.same(ep.poll(0), [[a, EPOLLIN]], 'still readable: reported again');
  t.equal(drainFd(a), 3);
  t.same(ep.poll(0), []);
  ep.register(b);
  t.same(ep.poll(0), [[b, EPOLLOUT]], 'default mask includes EPOLLOUT');
  ep.unregister(b);
  ep.modify(a, EPOLLIN | EPOLLOUT);
  t.same(ep.poll(null), [[a, EPOLLOUT]], 'null blocks, but a is writable');
  t.same(ep.poll(), [[a, EPOLLOUT]]);
});

t.test('EPOLLET reports once until new data arrives', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register(a, EPOLLIN | EPOLLET);
  writeFd(b, 'one');
  t.same(ep.poll(0), [[a, EPOLLIN]]);
  t.same(ep.poll(0), [], 'no new edge while the data sits there');
  writeFd(b, 'two');
  t.same(ep.poll(0), [[a, EPOLLIN]], 'new data: new edge');
  t.same(ep.poll(0), []);
  t.equal(drainFd(a), 6);
  ep.modify(a, (EPOLLIN | EPOLLET) | 0);
  t.same(ep.poll(0), [], 'the signed spelling of EPOLLET works too');
});

t.test('EPOLLONESHOT fires once, then modify re-arms', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register(a, EPOLLIN | EPOLLONESHOT);
  writeFd(b);
  t.same(ep.poll(0), [[a, EPOLLIN]]);
  t.same(ep.poll(0), [], 'disarmed');
  writeFd(b);
  t.same(ep.poll(0), [], 'still disarmed after more data');
  ep.modify(a, EPOLLIN | EPOLLONESHOT);
  t.same(ep.poll(0), [[a, EPOLLIN]], 're-armed');
  t.same(ep.poll(0), []);
  t.throws(() => ep.register(a, EPOLLIN), { code: 'EEXIST' }, 'a disarmed fd is still registered');
});

t.test('EPOLLRDHUP on peer shutdown, EPOLLHUP on close', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const [c, d] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register(a, EPOLLIN | EPOLLRDHUP);
  ep.register(c, EPOLLIN);
  t.equal(libc().shutdown(b, SHUT_WR), 0);
  fds.close(d);
  const res = new Map(ep.poll(0));
  t.equal(res.get(a), EPOLLIN | EPOLLRDHUP);
  t.ok((res.get(c)! & EPOLLHUP) !== 0, 'peer closed: EPOLLHUP');
  t.equal(res.get(c)! & EPOLLRDHUP, 0, 'EPOLLRDHUP only when asked for');
});

t.test('EPOLLEXCLUSIVE: accepted by register, EINVAL on modify', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register(a, EPOLLIN | EPOLLEXCLUSIVE);
  writeFd(b);
  t.same(ep.poll(0), [[a, EPOLLIN]]);
  t.throws(() => ep.modify(a, EPOLLIN | EPOLLEXCLUSIVE), { code: 'EINVAL', syscall: 'epoll_ctl' });
});

t.test('kernel errors: EEXIST, ENOENT, EPERM, EBADF', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register(a, EPOLLIN);

  const eexist = t.throws(() => ep.register(a, EPOLLIN)) as Coded;
  t.ok(eexist instanceof SyscallError);
  t.equal(eexist.code, 'EEXIST');
  t.equal(eexist.errno, EEXIST);
  t.equal(eexist.syscall, 'epoll_ctl');
  t.equal(eexist.message, 'epoll_ctl EEXIST');

  const mod = t.throws(() => ep.modify(b, EPOLLIN)) as Coded;
  t.equal(mod.code, 'ENOENT');
  t.equal(mod.errno, ENOENT);
  t.throws(() => ep.unregister(b), { code: 'ENOENT', errno: ENOENT }, 'unregister passes the kernel error through');

  const file = fds.regularFile();
  t.throws(() => ep.register(file, EPOLLIN), { code: 'EPERM', errno: EPERM }, 'regular files do not support epoll');

  const closed = freeFd(1700);
  t.throws(() => ep.register(closed), { code: 'EBADF' });
  t.throws(() => ep.unregister(closed), { code: 'EBADF' }, 'no EBADF swallowing (CPython 3 passes it through)');

  t.throws(() => ep.register(a, 1.5), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => ep.register(-1), { name: 'RangeError' });
  t.throws(() => ep.register('x' as unknown as number), { name: 'TypeError' });
  t.throws(() => ep.register(b, -1), { code: 'EINVAL' }, '-1 is every bit, as in Python');
});

t.test('maxevents limits the results; the buffer grows', async (t) => {
  const fds = openFds(t);
  const ep = newEpoll(t);
  const ends: number[] = [];
  for (let i = 0; i < 3; i++) ends.push(fds.socketpair()[0]);
  for (const fd of ends) ep.register(fd, EPOLLOUT);
  t.equal(ep.poll(0, 2).length, 2);
  t.equal(ep.poll(0, 1).length, 1);
  t.same(ep.poll(0).map(([fd]) => fd).sort((x, y) => x - y), ends.slice().sort((x, y) => x - y));
  t.equal(ep.poll(0, 5000).length, 3, 'maxevents above the default grows the buffer');
  t.equal(ep.wait(0, 2), 2);
  t.ok(ends.includes(ep.readyFd(0)) && ends.includes(ep.readyFd(1)));
  t.equal(ep.readyEvents(1), EPOLLOUT);

  t.throws(() => ep.poll(0, 0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ep.poll(0, -2), { name: 'RangeError' });
  t.throws(() => ep.wait(0, 1.5), { name: 'RangeError' });
  t.throws(() => ep.wait(0, 2 ** 31), { name: 'RangeError' }, 'above the kernel limit, nothing allocated');
});

t.test('timeouts are seconds, rounded up to ms', async (t) => {
  const fds = openFds(t);
  const [a] = fds.socketpair();
  const ep = newEpoll(t);
  ep.register(a, EPOLLIN);
  const start = performance.now();
  t.same(ep.poll(0.06), []);
  const elapsed = performance.now() - start;
  t.ok(elapsed >= 50 && elapsed < 3000, `waited ~60 ms (${elapsed.toFixed(0)})`);
  t.throws(() => ep.poll(NaN), { name: 'TypeError' });
  t.throws(() => ep.poll(2 ** 31 / 1000), { name: 'RangeError' }, 'Python: OverflowError');
  t.throws(() => ep.poll(Infinity), { name: 'RangeError' });

  const seen: number[] = [];
  const sys = scriptedLibc((state, real) => ({
    epoll_wait: (epfd, buf, max, ms) => {
      seen.push(ms);
      return real.epoll_wait(epfd, buf, max, 0);
    },
  }));
  const ep2 = newEpoll(t, -1, 0, sys);
  for (const s of [0, 0.0001, 0.001, 0.0015, 1, -1, -0.5, null, undefined]) ep2.poll(s);
  t.same(seen, [0, 1, 1, 2, 1000, -1, -1, -1, -1]);
  seen.length = 0;
  for (const ms of [-3, 0.2, 2 ** 40]) ep2.wait(ms, 1);
  t.same(seen, [-1, 1, 2 ** 31 - 1]);
});

t.test('events decode with the arch stride and stay unsigned', async (t) => {
  const sys = scriptedLibc((state, real) => ({
    epoll_wait: (epfd, buf, max) => {
      // Three entries written the way the kernel lays them out.
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const entries: Array<[number, number]> = [[0x80000001, 7], [EPOLLIN | EPOLLERR, 2 ** 31 - 1], [0xffffffff, 0]];
      entries.slice(0, max).forEach(([events, fd], i) => {
        view.setUint32(i * EPOLL_EVENT_SIZE, events, true);
        view.setInt32(i * EPOLL_EVENT_SIZE + EPOLL_EVENT_DATA_OFFSET, fd, true);
        view.setUint32(i * EPOLL_EVENT_SIZE + EPOLL_EVENT_DATA_OFFSET + 4, 0xdeadbeef, true);
      });
      return Math.min(3, max);
    },
  }));
  const ep = newEpoll(t, -1, 0, sys);
  t.same(ep.poll(0), [[7, (EPOLLET | EPOLLIN) >>> 0], [2 ** 31 - 1, EPOLLIN | EPOLLERR], [0, 0xffffffff]]);
  t.same(ep.poll(0, 1), [[7, 0x80000001]]);
});

t.test('epoll_ctl writes the mask unsigned and the fd in the low data word', async (t) => {
  const masks: Array<[number, number, number, number]> = [];
  const sys = scriptedLibc((state) => ({
    epoll_ctl: (epfd, op, fd, ev) => {
      const view = new DataView(ev!.buffer, ev!.byteOffset, EPOLL_EVENT_SIZE);
      masks.push([op, fd, view.getUint32(0, true), view.getUint32(EPOLL_EVENT_DATA_OFFSET, true)]);
      state.errno = 0;
      return 0;
    },
  }));
  const ep = newEpoll(t, -1, 0, sys);
  ep.register(9, EPOLLIN | EPOLLET);
  ep.modify(9, -1);
  ep.modify(9, 2 ** 32 + EPOLLOUT);
  ep.unregister(9);
  t.same(masks, [
    [1, 9, 0x80000001, 9],
    [3, 9, 0xffffffff, 9],
    [3, 9, EPOLLOUT, 9],
    [2, 9, 0, 9],
  ]);
  t.throws(() => ep.register(9, 2 ** 53), { name: 'TypeError' }, 'unsafe integers are refused');
});

t.test('scripted ENOSPC and EPERM from epoll_ctl, EBADF from epoll_wait', async (t) => {
  let errno = ENOSPC;
  const sys = scriptedLibc((state) => ({
    epoll_ctl: () => {
      state.errno = errno;
      return -1;
    },
    epoll_wait: () => {
      state.errno = 9;
      return -1;
    },
  }));
  const ep = newEpoll(t, -1, 0, sys);
  const e1 = t.throws(() => ep.register(0, EPOLLIN)) as Coded;
  t.ok(e1 instanceof SyscallError);
  t.equal(e1.code, 'ENOSPC');
  t.equal(e1.errno, ENOSPC);
  t.equal(e1.syscall, 'epoll_ctl');
  errno = EPERM;
  t.throws(() => ep.modify(0, EPOLLIN), { code: 'EPERM', errno: EPERM });
  t.throws(() => ep.poll(0), { code: 'EBADF', syscall: 'epoll_wait' });
});

t.test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  writeFd(b);
  const seen: number[] = [];
  let fail = 1;
  const sys = scriptedLibc((state, real) => ({
    epoll_wait: (epfd, buf, max, ms) => {
      seen.push(ms);
      if (fail > 0) {
        fail--;
        sleepSync(30);
        state.errno = EINTR;
        return -1;
      }
      state.errno = 0;
      return real.epoll_wait(epfd, buf, max, ms);
    },
  }));
  const ep = newEpoll(t, -1, 0, sys);
  ep.register(a, EPOLLIN);
  t.same(ep.poll(1), [[a, EPOLLIN]]);
  t.equal(seen.length, 2);
  t.equal(seen[0], 1000);
  t.ok(seen[1] < 1000 && seen[1] > 0, `second timeout smaller (${seen[1]} ms)`);

  seen.length = 0;
  fail = 1;
  t.same(ep.poll(), [[a, EPOLLIN]]);
  t.same(seen, [-1, -1], 'blocking stays blocking');

  seen.length = 0;
  fail = 1;
  t.equal(ep.wait(10), 0, 'deadline passed during the interrupted call');
  t.same(seen, [10], 'no retry');

  seen.length = 0;
  fail = 1;
  t.same(ep.poll(0), [], 'EINTR with timeout 0: nothing ready, no retry');
  t.same(seen, [0]);
  t.equal(drainFd(a), 1);
});

t.test('every method but close/closed throws ERR_EPOLL_CLOSED after close', async (t) => {
  const ep = epoll();
  ep.close();
  const calls: Array<[string, () => unknown]> = [
    ['fileno', () => ep.fileno()],
    ['register', () => ep.register(0, EPOLLIN)],
    ['modify', () => ep.modify(0, EPOLLIN)],
    ['unregister', () => ep.unregister(0)],
    ['poll', () => ep.poll(0)],
    ['poll(bad timeout)', () => ep.poll(NaN)],
    ['wait', () => ep.wait(0)],
    ['readyFd', () => ep.readyFd(0)],
    ['readyEvents', () => ep.readyEvents(0)],
  ];
  for (const [name, call] of calls) {
    const err = t.throws(call, name) as Coded;
    t.ok(err instanceof CodedError, `${name}: CodedError`);
    t.equal(err.code, 'ERR_EPOLL_CLOSED');
    t.equal(err.message, 'I/O operation on closed epoll object');
  }
  t.doesNotThrow(() => ep.close());
  t.equal(ep.closed, true);
});

t.test('fromfd adopts an epoll fd; dispose closes', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const ep = newEpoll(t);
  const dupFd = libc().dup(ep.fileno());
  t.ok(dupFd >= 0);
  const ep2 = Epoll.fromfd(dupFd);
  t.teardown(() => ep2.close());
  t.equal(ep2.fileno(), dupFd);
  ep2.register(a, EPOLLIN);
  writeFd(b);
  t.same(ep.poll(0), [[a, EPOLLIN]], 'same epoll instance through both objects');
  t.throws(() => ep.register(a, EPOLLIN), { code: 'EEXIST' });

  const ep3 = epoll();
  t.equal(ep3.fileno() >= 0, true, 'fromfd does not leak its adoption into the next constructor');
  ep2[Symbol.dispose]();
  t.equal(ep2.closed, true);
  t.ok(isFree(dupFd), 'dispose closed the fd');
  {
    using ep4 = ep3;
    t.equal(ep4.closed, false);
  }
  t.equal(ep3.closed, true, '`using` closes it');

  t.throws(() => Epoll.fromfd(-1), { name: 'RangeError' });
  t.throws(() => Epoll.fromfd({ fileno: () => 3 } as unknown as number), { name: 'TypeError' });
  t.equal(drainFd(a), 1);
});

t.test('select.epoll.fromfd and new select.epoll(), as in Python', async (t) => {
  const { epoll } = await import('../../lib/select/epoll.js');
  const ep = epoll();
  const adopted = epoll.fromfd(ep.fileno());
  t.equal(adopted.fileno(), ep.fileno());
  const viaNew = new (epoll as unknown as new () => ReturnType<typeof epoll>)();
  t.ok(viaNew.fileno() >= 0);
  t.notOk(viaNew.closed);
  viaNew.close();
  adopted.close();
  t.ok(ep.fileno() >= 0 || ep.closed);
  t.ok(adopted.closed);
});
