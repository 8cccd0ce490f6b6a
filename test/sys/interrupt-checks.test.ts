// While keyboard interrupts are armed, a kernel wait that may block first
// reads the signal flag (a umask() call) — at most every
// INTERRUPT_CHECK_INTERVAL_MS, cutting a wait short at the next read and
// resuming it, so that the caller still gets the timeout it asked for.
import t from 'tap';
import { enableKeyboardInterrupt } from '../../lib/interrupt.js';
import { libc, type Libc } from '../../lib/sys/libc.js';
import { INTERRUPT_CHECK_INTERVAL_MS } from '../../lib/sys/interrupt.js';
import { Epoll } from '../../lib/select/epoll.js';
import { Poll } from '../../lib/select/poll.js';
import { select } from '../../lib/select/select.js';
import { socketpair } from '../../lib/socket/socket.js';
import { EPOLLIN, EPOLLOUT, POLLIN } from '../../lib/sys/constants.js';

/** The real libc, counting umask() calls (the flag reads). */
function counting(): { sys: Libc; reads: () => number } {
  const real = libc();
  let n = 0;
  const sys = new Proxy(real, {
    get(target, key) {
      if (key === 'umask') return (mask: number) => { n++; return real.umask(mask); };
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { sys, reads: () => n };
}

t.test('a busy loop of waits reads the flag at most once per interval', async (t) => {
  const { sys, reads } = counting();
  const handle = enableKeyboardInterrupt({ sys });
  t.teardown(() => handle.disable());
  const [a, b] = socketpair();
  t.teardown(() => { a.close(); b.close(); });
  const ep = new Epoll();
  t.teardown(() => ep.close());
  ep.register(a, EPOLLOUT); // always ready: the waits never block
  const before = reads();
  const start = performance.now();
  let waits = 0;
  let ready = 0;
  while (performance.now() - start < 100) {
    ready += ep.wait(1000);
    waits++;
  }
  t.equal(ready, waits, 'every wait found the fd ready');
  const elapsed = performance.now() - start;
  const n = reads() - before;
  t.ok(waits > 50, `${waits} waits`);
  t.ok(n <= Math.ceil(elapsed / INTERRUPT_CHECK_INTERVAL_MS) + 2, `${n} flag reads in ${elapsed.toFixed(0)} ms`);
  t.ok(n >= 1, 'the flag was read');
});

t.test('waits cut short for a flag read resume for the time that is left', async (t) => {
  const { sys } = counting();
  const handle = enableKeyboardInterrupt({ sys });
  t.teardown(() => handle.disable());
  const [a, b] = socketpair();
  t.teardown(() => { a.close(); b.close(); });
  const ep = new Epoll();
  t.teardown(() => ep.close());
  ep.register(a, EPOLLIN);
  const p = new Poll();
  p.register(a, POLLIN);
  for (const [name, wait] of [
    ['epoll', () => ep.poll(0.15).length],
    ['poll', () => p.poll(150).length],
    ['select', () => select([a], [], [], 0.15)[0].length],
  ] as const) {
    // Read the flag now, so that the next wait starts inside an interval and is capped.
    ep.register(b, EPOLLOUT);
    ep.wait(1000);
    ep.unregister(b);
    const start = performance.now();
    t.equal(wait(), 0, `${name}: nothing ready`);
    const ms = performance.now() - start;
    t.ok(ms >= 145, `${name}: waited the whole timeout (${ms.toFixed(0)} ms)`);
  }
});
