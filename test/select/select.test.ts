import t from 'tap';
import { select, selectFds } from '../../lib/select/index.js';
import { libc, type Libc } from '../../lib/sys/libc.js';
import { EBADF, EINTR, ENOMEM } from '../../lib/sys/constants.js';
import { FD_SET_SIZE, fdIsSet, fdSet } from '../../lib/sys/structs.js';
import { SyscallError } from '../../lib/errors.js';
import { openFds, freeFd, nofileLimit, scriptedLibc, sleepSync, writeFd, drainFd } from './fixtures/fds.js';

type Coded = Error & { code: string; errno?: number; syscall?: string };

/** Read the struct timeval select() was given: µs, or null for NULL. */
function tvMicros(tv: Uint8Array | null): number | null {
  if (tv === null) return null;
  const view = new DataView(tv.buffer, tv.byteOffset, 16);
  return Number(view.getBigInt64(0, true)) * 1e6 + Number(view.getBigInt64(8, true));
}

t.test('readable, writable and empty lists return the same objects', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const objA = { fileno: () => a };
  const objB = { fileno: () => b };

  let r: unknown[], w: unknown[], x: unknown[];
  [r, w, x] = select([objA, objB], [], [], 0);
  t.same([r, w, x], [[], [], []], 'nothing readable yet');

  [r, w, x] = select([], [objA, b], [objA], 0);
  t.equal(r.length, 0);
  t.equal(w.length, 2);
  t.equal(w[0], objA, 'the very object passed in');
  t.equal(w[1], b, 'ints stay ints');
  t.same(x, []);

  writeFd(b, 'hello');
  [r, w, x] = select([objA, objB, objA], [], [], 0);
  t.equal(r.length, 2, 'an object listed twice is returned twice, as in Python');
  t.equal(r[0], objA);
  t.equal(r[1], objA);

  [r, w, x] = select(new Set([a]), [], [], null);
  t.same(r, [a], 'any iterable; null blocks but data is there');
  t.equal(drainFd(a), 5);

  [r, w, x] = select([], [], [], 0);
  t.same([r, w, x], [[], [], []], 'three empty lists');
});

t.test('timeout 0 returns at once, a timeout in seconds waits', async (t) => {
  const fds = openFds(t);
  const [a] = fds.socketpair();
  let start = performance.now();
  select([a], [], [], 0);
  t.ok(performance.now() - start < 1000, 'timeout 0 does not wait');

  start = performance.now();
  const res = select([], [], [], 0.3);
  const elapsed = performance.now() - start;
  t.same(res, [[], [], []]);
  t.ok(elapsed >= 250 && elapsed < 3000, `waited ~0.3 s (${elapsed.toFixed(0)} ms)`);

  start = performance.now();
  t.same(select([a], [], [], 0.05), [[], [], []]);
  t.ok(performance.now() - start >= 40, 'a readable list that stays idle times out');
});

const limit = nofileLimit();
const noHighFd = limit <= 1600 ? `RLIMIT_NOFILE is ${limit}: cannot dup2 to fd 1500` : false;

t.test('fds >= FD_SETSIZE are refused before anything is touched', { skip: noHighFd }, async (t) => {
  const fds = openFds(t);
  const [a] = fds.socketpair();
  const high = freeFd(1500);
  t.equal(libc().dup2(a, high), high);
  fds.track(high);

  let selectCalls = 0;
  const sys = scriptedLibc(() => ({
    select: () => {
      selectCalls++;
      return 0;
    },
  }));
  const err = t.throws(() => select([a], [{ fileno: () => high }], [], 0, sys)) as Coded;
  t.ok(err instanceof RangeError);
  t.equal(err.code, 'ERR_FD_OUT_OF_RANGE');
  t.match(err.message, /wlist\[0\]/);
  t.equal(selectCalls, 0, 'select(2) never called');
});

t.test('argument errors', async (t) => {
  t.throws(() => select([], [], [], -1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, 'negative timeout');
  t.throws(() => select([], [], [], -0.001), { name: 'RangeError' });
  t.throws(() => select([], [], [], NaN), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => select([], [], [], '1' as unknown as number), { name: 'TypeError' });
  t.throws(() => select([], [], [], Infinity), { name: 'RangeError' }, 'Python: OverflowError');
  t.throws(() => select(5 as unknown as number[], [], []), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => select([], null as unknown as number[], []), { name: 'TypeError' });
  t.throws(() => select(['x' as unknown as number], [], []), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => select([-1], [], []), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  const noSelect = { select: () => { throw new Error('not reached'); } } as unknown as Libc;
  t.throws(() => select([], [], [0, 1024], 0, noSelect), { name: 'RangeError', code: 'ERR_FD_OUT_OF_RANGE' }, 'fd 1024, even unopened');
});

t.test('a closed fd is EBADF from the kernel', async (t) => {
  const fd = freeFd(900);
  const err = t.throws(() => select([fd], [], [], 0)) as Coded;
  t.ok(err instanceof SyscallError);
  t.equal(err.code, 'EBADF');
  t.equal(err.errno, EBADF);
  t.equal(err.syscall, 'select');
});

t.test('scripted EBADF and ENOMEM propagate as SyscallError', async (t) => {
  for (const errno of [EBADF, ENOMEM]) {
    const sys = scriptedLibc((state) => ({
      select: () => {
        state.errno = errno;
        return -1;
      },
    }));
    t.throws(() => select([0], [], [], 0, sys), { code: errno === EBADF ? 'EBADF' : 'ENOMEM', syscall: 'select' });
  }
});

t.test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const timeouts: Array<number | null> = [];
  const sys = scriptedLibc((state, real) => ({
    select: (nfds, r, w, x, tv) => {
      timeouts.push(tvMicros(tv));
      if (timeouts.length === 1) {
        sleepSync(30);
        r!.fill(0); // POSIX: the sets are unspecified after a failure
        state.errno = EINTR;
        return -1;
      }
      state.errno = 0;
      return real.select(nfds, r, w, x, tv);
    },
  }));
  writeFd(b);
  const [r] = select([a], [], [], 1, sys);
  t.same(r, [a], 'the retry saw the original read set');
  t.equal(timeouts.length, 2);
  t.equal(timeouts[0], 1_000_000);
  t.ok(timeouts[1]! < timeouts[0]! && timeouts[1]! > 0, `second timeout smaller (${timeouts[1]} µs)`);

  timeouts.length = 0;
  const [r2] = select([a], [], [], null, sys);
  t.same(r2, [a]);
  t.same(timeouts, [null, null], 'a blocking select stays blocking');
});

t.test('EINTR after the deadline returns nothing without retrying', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  writeFd(b);
  let calls = 0;
  const sys = scriptedLibc((state) => ({
    select: () => {
      calls++;
      sleepSync(30);
      state.errno = EINTR;
      return -1;
    },
  }));
  t.same(select([a], [a], [], 0.01, sys), [[], [], []]);
  t.equal(calls, 1);
  t.same(select([a], [a], [], 0, sys), [[], [], []], 'timeout 0: no retry either');
  t.equal(calls, 2);
});

t.test('selectFds: caller-owned sets, ms timeouts, snapshot and restore', async (t) => {
  const fds = openFds(t);
  const [a, b] = fds.socketpair();
  const rset = new Uint8Array(FD_SET_SIZE);
  const wset = new Uint8Array(FD_SET_SIZE);
  const nfds = Math.max(a, b) + 1;

  fdSet(rset, a);
  fdSet(wset, b);
  t.equal(selectFds(nfds, rset, wset, null, 0), 1, 'only b writable');
  t.notOk(fdIsSet(rset, a), 'kernel cleared the not-ready bit');
  t.ok(fdIsSet(wset, b));

  writeFd(b);
  rset.fill(0);
  fdSet(rset, a);
  t.equal(selectFds(nfds, rset, null, null, -1), 1, 'negative blocks, but a is ready');
  t.ok(fdIsSet(rset, a));

  // The timeval given for each timeout.
  const seen: Array<number | null> = [];
  let scribble = false;
  const sys = scriptedLibc((state, real) => ({
    select: (n, r, w, x, tv) => {
      seen.push(tvMicros(tv));
      if (scribble) {
        scribble = false;
        r!.fill(0xff);
        state.errno = EINTR;
        return -1;
      }
      state.errno = 0;
      return real.select(n, r, w, x, tv);
    },
  }));
  for (const ms of [0, 1.5, 2500, -5, Infinity, NaN]) {
    rset.fill(0);
    fdSet(rset, a);
    selectFds(nfds, rset, null, null, ms, sys);
  }
  t.same(seen, [0, 1500, 2_500_000, null, null, 0]);

  // EINTR: the set is restored from the snapshot before the retry.
  rset.fill(0);
  fdSet(rset, a);
  scribble = true;
  seen.length = 0;
  t.equal(selectFds(nfds, rset, null, null, 1000, sys), 1);
  t.equal(seen.length, 2);
  t.ok(fdIsSet(rset, a));
  const others = [...Array(nfds).keys()].filter((fd) => fd !== a && fdIsSet(rset, fd));
  t.same(others, [], 'no other bit set after the restore');
  t.equal(drainFd(a), 1);

  t.equal(selectFds(0, null, null, null, 0), 0, 'nothing at all');
});

t.test('selectFds clears the sets when EINTR comes after the deadline', async (t) => {
  const rset = new Uint8Array(FD_SET_SIZE);
  const wset = new Uint8Array(FD_SET_SIZE);
  const xset = new Uint8Array(FD_SET_SIZE);
  fdSet(rset, 3);
  fdSet(wset, 4);
  fdSet(xset, 5);
  const sys = scriptedLibc((state) => ({
    select: () => {
      sleepSync(20);
      state.errno = EINTR;
      return -1;
    },
  }));
  t.equal(selectFds(6, rset, wset, xset, 5, sys), 0);
  t.ok(rset.every((v) => v === 0) && wset.every((v) => v === 0) && xset.every((v) => v === 0));
});

t.test('selectFds argument checks', async (t) => {
  const set = new Uint8Array(FD_SET_SIZE);
  t.throws(() => selectFds(1025, set, null, null, 0), { name: 'RangeError', code: 'ERR_FD_OUT_OF_RANGE' });
  t.throws(() => selectFds(-1, set, null, null, 0), { code: 'ERR_FD_OUT_OF_RANGE' });
  t.throws(() => selectFds(1.5, set, null, null, 0), { code: 'ERR_FD_OUT_OF_RANGE' });
  t.throws(() => selectFds(100, new Uint8Array(8), null, null, 0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => selectFds(1, null, [0] as unknown as Uint8Array, null, 0), { name: 'TypeError' });
  const noSelect = { select: () => { throw new Error('not reached'); } } as unknown as Libc;
  t.throws(() => selectFds(64, null, null, new Uint8Array(7), 0, noSelect), { code: 'ERR_OUT_OF_RANGE' }, 'nfds 64 needs 8 bytes');
});
