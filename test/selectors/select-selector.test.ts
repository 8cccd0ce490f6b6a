// SelectSelector-specific behaviour: fds >= FD_SETSIZE are refused at
// register time, before any fd_set is touched.
import t from 'tap';
import { SelectSelector } from '../../selectors/select-selector.js';
import { EVENT_READ, EVENT_WRITE } from '../../selectors/events.js';
import { libc } from '../../lib/sys/libc.js';
import { RLIMIT_NOFILE } from '../../lib/sys/constants.js';
import { pair } from './helpers.js';

function nofileLimit(): bigint {
  const rl = Buffer.alloc(16);
  libc().getrlimit(RLIMIT_NOFILE, rl);
  return rl.readBigUInt64LE(0);
}

const skipHigh = nofileLimit() <= 1500n ? `RLIMIT_NOFILE soft limit ${nofileLimit()} does not allow fd 1500` : false;
t.test('an fd >= 1024 is a RangeError at register time', { skip: skipHigh }, async (t) => {
  const sel = new SelectSelector();
  t.teardown(() => sel.close());
  const [a] = pair(t);
  const high = libc().dup2(a, 1500);
  t.equal(high, 1500);
  t.teardown(() => libc().close(high));
  t.throws(() => sel.register(high, EVENT_READ), { name: 'RangeError', code: 'ERR_FD_OUT_OF_RANGE' });
  t.throws(() => sel.register(1024, EVENT_READ), { code: 'ERR_FD_OUT_OF_RANGE' }, 'the first fd out of range');
  t.equal(sel.getMap()!.size, 0, 'nothing kept');
  const k = sel.register(a, EVENT_WRITE);
  t.same(sel.select(0), [[k, EVENT_WRITE]], 'the selector is intact');
});

t.test('a closed registered fd makes select fail with EBADF', async (t) => {
  const sel = new SelectSelector();
  t.teardown(() => sel.close());
  const sys = libc();
  const sv = new Int32Array(2);
  sys.socketpair(1, 1 | 0o2000000, 0, sv);
  sel.register(sv[0], EVENT_READ);
  sys.close(sv[0]);
  sys.close(sv[1]);
  t.throws(() => sel.select(0), { code: 'EBADF', syscall: 'select' });
  sel.unregister(sv[0]);
  t.same(sel.select(0), []);
});

t.test('high and low fds in several fd_set words', async (t) => {
  const sel = new SelectSelector();
  t.teardown(() => sel.close());
  const fds = Array.from({ length: 40 }, () => pair(t)).flat();
  const keys = new Map(fds.map((fd) => [fd, sel.register(fd, EVENT_WRITE)]));
  const ready = sel.select(0);
  t.equal(ready.length, fds.length);
  t.ok(ready.every(([k, ev]) => keys.get(k.fd) === k && ev === EVENT_WRITE));
  for (const fd of fds.slice(0, 10)) sel.unregister(fd);
  t.equal(sel.select(0).length, fds.length - 10);
  const top = Math.max(...fds);
  sel.unregister(top);
  t.equal(sel.select(0).length, fds.length - 11, 'unregistering the highest fd recomputes nfds');
});

t.test('the async wait has no fd limit of its own: a doorbell fd >= 1024 works, and close() closes it', { skip: skipHigh }, async (t) => {
  const real = libc();
  const HIGH = 1400;
  // A libc whose epoll_create1() lands above FD_SETSIZE, as in a process with many fds open.
  const sys = new Proxy(real, {
    get(target, prop: string) {
      if (prop !== 'epoll_create1') return (target as unknown as Record<string, unknown>)[prop];
      return (flags: number): number => {
        const fd = real.epoll_create1(flags);
        const high = real.dup2(fd, HIGH);
        real.close(fd);
        return high;
      };
    },
  });
  const sel = new SelectSelector({ sys });
  t.teardown(() => sel.close());
  const [a, b] = pair(t);
  sel.register(a, EVENT_READ);
  t.same(await sel.selectAsync(0.05), [], 'times out');
  setTimeout(() => real.write(b, Buffer.from('x'), 1), 20);
  t.same((await sel.selectAsync(5)).map(([k, ev]) => [k.fd, ev]), [[a, EVENT_READ]], 'woken by the doorbell');
  sel.close();
  const d = real.dup(HIGH);
  if (d >= 0) real.close(d);
  t.equal(d, -1, 'close() closed the doorbell');
});
