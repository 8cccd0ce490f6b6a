// EpollSelector-specific behaviour: kernel refusals roll back, MOD failures
// drop the key, fileno(), no syscall for data-only modify.
import t from 'tap';
import { openSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EpollSelector } from '../../selectors/epoll-selector.js';
import { EVENT_READ, EVENT_WRITE } from '../../selectors/events.js';
import { SyscallError } from '../../lib/errors.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_MOD, ENOSPC, EPERM } from '../../lib/sys/constants.js';
import { libc } from '../../lib/sys/libc.js';
import { closeFd, pair, put } from './helpers.js';
import { scripted } from './fake-libc.js';

t.test('a regular file is refused with EPERM and not kept', async (t) => {
  const sel = new EpollSelector();
  t.teardown(() => sel.close());
  const dir = mkdtempSync(join(tmpdir(), 'ns-epoll-'));
  const fd = openSync(join(dir, 'f'), 'w');
  t.teardown(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  });
  const err = t.throws(() => sel.register(fd, EVENT_READ), { code: 'EPERM', syscall: 'epoll_ctl' }) as SyscallError;
  t.ok(err instanceof SyscallError);
  t.equal(sel.getMap()!.size, 0);
  t.throws(() => sel.getKey(fd), { code: 'ERR_FD_NOT_REGISTERED' });
  const [a] = pair(t);
  t.doesNotThrow(() => sel.register(a, EVENT_READ), 'still usable');
});

t.test('a closed fd is refused with EBADF and not kept', async (t) => {
  const sel = new EpollSelector();
  t.teardown(() => sel.close());
  const [a] = pair(t);
  closeFd(a);
  t.throws(() => sel.register(a, EVENT_READ), { code: 'EBADF' });
  t.equal(sel.getMap()!.size, 0);
});

t.test('ENOSPC on ADD propagates and nothing is kept', async (t) => {
  const fake = scripted();
  const sel = new EpollSelector({ sys: fake.sys });
  t.teardown(() => sel.close());
  const [a] = pair(t);
  fake.fail('epoll_ctl', ENOSPC, (_ep: number, op: number) => op === EPOLL_CTL_ADD);
  t.throws(() => sel.register(a, EVENT_READ), { code: 'ENOSPC' });
  t.equal(sel.getMap()!.size, 0);
  t.ok(sel.register(a, EVENT_READ), 'a retry works');
});

t.test('a failed MOD unregisters the key and propagates', async (t) => {
  const fake = scripted();
  const sel = new EpollSelector({ sys: fake.sys });
  t.teardown(() => sel.close());
  const [a, b] = pair(t);
  sel.register(a, EVENT_READ);
  fake.fail('epoll_ctl', EPERM, (_ep: number, op: number) => op === EPOLL_CTL_MOD);
  t.throws(() => sel.modify(a, EVENT_WRITE), { code: 'EPERM' });
  t.throws(() => sel.getKey(a), { code: 'ERR_FD_NOT_REGISTERED' });
  put(b, 'x');
  t.same(sel.select(0), [], 'the fd left the kernel set too');
  t.ok(sel.register(a, EVENT_READ), 'and can be registered again');
});

t.test('modify with only new data makes no epoll_ctl call', async (t) => {
  const fake = scripted();
  const sel = new EpollSelector({ sys: fake.sys });
  t.teardown(() => sel.close());
  const [a] = pair(t);
  sel.register(a, EVENT_READ, 1);
  const before = fake.calls.get('epoll_ctl');
  sel.modify(a, EVENT_READ, 2);
  t.equal(fake.calls.get('epoll_ctl'), before);
  sel.modify(a, EVENT_WRITE, 2);
  t.equal(fake.calls.get('epoll_ctl'), before! + 1);
});

t.test('fileno() is the epoll fd', async (t) => {
  const sel = new EpollSelector();
  const fd = sel.fileno();
  t.ok(fd >= 0);
  t.equal(libc().fcntl(fd, 1, 0) & 1, 1, 'FD_CLOEXEC set');
  sel.close();
  t.equal(libc().fcntl(fd, 1, 0), -1, 'closed with the selector');
});

t.test('select reuses one event buffer: results stay correct over many calls', async (t) => {
  const sel = new EpollSelector();
  t.teardown(() => sel.close());
  const pairs = Array.from({ length: 20 }, () => pair(t));
  const keys = pairs.map(([a]) => sel.register(a, EVENT_READ | EVENT_WRITE));
  for (let round = 0; round < 50; round++) {
    const ready = sel.select(0);
    t.equal(ready.length, 20);
    if (ready.some(([k, ev]) => !keys.includes(k) || ev !== EVENT_WRITE)) {
      t.fail(`round ${round}: bad entry`);
      break;
    }
  }
});
