// EINTR: a signal sent from a child process during a 1.5 s select() must
// not end it early; the wait resumes with the time left and returns [].
// SIGWINCH: tap's exit handlers (signal-exit) do not listen for it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { BACKENDS, make, pair } from './helpers.js';
import { EVENT_READ } from '../../selectors/events.js';
import { scripted } from './fake-libc.js';
import { EINTR } from '../../lib/sys/constants.js';

for (const [name, factory] of BACKENDS) {
  t.test(`${name}: a signal during select(1.5)`, async (t) => {
    const fake = scripted();
    const sel = make(t, factory, fake.sys);
    const [a] = pair(t);
    sel.register(a, EVENT_READ);
    let signals = 0;
    const onSignal = (): void => {
      signals++;
    };
    process.on('SIGWINCH', onSignal);
    t.teardown(() => {
      process.off('SIGWINCH', onSignal);
    });
    const child = spawn('sh', ['-c', `sleep 0.3; kill -WINCH ${process.pid}`], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const start = performance.now();
    const ready = sel.select(1.5);
    const waited = performance.now() - start;
    t.same(ready, [], 'nothing ready');
    t.ok(waited >= 1000, `waited ${waited.toFixed(0)} ms (>= 1 s)`);
    t.ok(waited < 10_000);
    await exited;
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(signals, 1, 'the JS handler ran once control came back to Node');
    const fn = name === 'SelectSelector' ? 'select' : name === 'PollSelector' ? 'poll' : 'epoll_wait';
    t.comment(`${fn} was entered ${fake.calls.get(fn)} time(s): more than once means EINTR was retried`);
  });

  t.test(`${name}: scripted EINTR is retried with the time left`, async (t) => {
    const fake = scripted();
    const sel = make(t, factory, fake.sys);
    const [a] = pair(t);
    sel.register(a, EVENT_READ);
    const fn = name === 'SelectSelector' ? 'select' : name === 'PollSelector' ? 'poll' : 'epoll_wait';
    fake.fail(fn as 'poll', EINTR);
    const start = performance.now();
    t.same(sel.select(0.2), []);
    t.ok(performance.now() - start >= 150);
    t.ok((fake.calls.get(fn) ?? 0) >= 2, 'the call was made again');
  });
}
