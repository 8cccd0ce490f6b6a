// PollSelector and EpollSelector with thousands of fds: raise RLIMIT_NOFILE
// as far as allowed, register several thousand socketpair ends, expect every
// writable end in one select().
import t from 'tap';
import { libc } from '../../lib/sys/libc.js';
import { AF_UNIX, RLIMIT_NOFILE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../lib/sys/constants.js';
import { EpollSelector } from '../../selectors/epoll-selector.js';
import { PollSelector } from '../../selectors/poll-selector.js';
import { EVENT_WRITE } from '../../selectors/events.js';

const sys = libc();
const rl = Buffer.alloc(16);
sys.getrlimit(RLIMIT_NOFILE, rl);
const hard = rl.readBigUInt64LE(8);
const want = 20_000n;
rl.writeBigUInt64LE(hard < want ? hard : want, 0);
sys.setrlimit(RLIMIT_NOFILE, rl);
sys.getrlimit(RLIMIT_NOFILE, rl);
const soft = Number(rl.readBigUInt64LE(0));
const PAIRS = Math.min(4000, Math.floor((soft - 200) / 2));

for (const [name, make] of [['EpollSelector', () => new EpollSelector()], ['PollSelector', () => new PollSelector()]] as const) {
  const skip = PAIRS < 1100 ? `RLIMIT_NOFILE is ${soft}: too low for a meaningful test` : false;
  t.test(`${name}: ${PAIRS} registrations`, { skip }, async (t) => {
    const sel = make();
    const fds: number[] = [];
    t.teardown(() => {
      sel.close();
      for (const fd of fds) sys.close(fd);
    });
    const sv = new Int32Array(2);
    for (let i = 0; i < PAIRS; i++) {
      t.equal(sys.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
      fds.push(sv[0], sv[1]);
    }
    t.ok(Math.max(...fds) > 1024, 'fds beyond select()\'s reach');
    const registered = new Set<number>();
    for (let i = 0; i < fds.length; i += 2) {
      sel.register(fds[i], EVENT_WRITE, i);
      registered.add(fds[i]);
    }
    t.equal(sel.getMap()!.size, PAIRS);
    const ready = sel.select(0);
    t.equal(ready.length, PAIRS, 'every writable end in one call');
    const seen = new Set(ready.map(([k]) => k.fd));
    t.equal(seen.size, PAIRS);
    t.ok([...seen].every((fd) => registered.has(fd)));
    t.ok(ready.every(([, ev]) => ev === EVENT_WRITE));
    for (let i = 0; i < fds.length; i += 4) sel.unregister(fds[i]);
    t.equal(sel.select(0).length, PAIRS - Math.ceil(PAIRS / 2));
  });
}
