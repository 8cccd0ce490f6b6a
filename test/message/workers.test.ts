// MessageServerWorkers (one loop per worker thread, one SO_REUSEPORT port)
// and `--workers N` on the server programs: every worker accepts, echo and
// the app protocol are served right, stopping leaves no thread or fd, a
// crashed worker is reported and the others serve on. Loopback, port 0,
// every wait bounded, every server stopped by its test.
import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import { connect, createServer as createNetServer, type Server } from 'node:net';
import { MessageServerWorkers } from '../../lib/message/index.js';
import { createRequest, encodeMessage } from '../../lib/protocol/index.js';
import { interrupt, runProgram, sleep, spawnProgram, startServer } from '../examples/server-harness.js';

const FACTORY = new URL('../fixtures/message/worker-factory.ts', import.meta.url);
// test/message/uring/workers.test.ts runs this file with every loop on the completion engine.
const URING = process.env.TEST_MESSAGE_ENGINE === 'uring';
const ENGINE = URING ? 'uring' : 'epoll';
const ENGINE_FLAGS = URING ? ['--engine', 'uring'] : [];

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const threadCount = (): number => readdirSync('/proc/self/task').length;

/** Connect, send `text`, read until as many bytes came back (or EOF/error): what was echoed. */
function echoOnce(port: number, text: string, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) done();
    });
    sock.on('error', done);
    sock.on('close', done);
  });
}

/** Start a group on 127.0.0.1:0 with the fixture's `echo`; closed at teardown. */
async function startGroup(tt: Test, workers: number, data?: unknown): Promise<{ group: MessageServerWorkers; port: number }> {
  const group = new MessageServerWorkers(['127.0.0.1', 0], { workers, engine: ENGINE, createMessage: { module: FACTORY, export: 'echo', data } });
  tt.teardown(() => group.close());
  const address = await group.ready;
  return { group, port: (address as [string, number])[1] };
}

t.test('every worker accepts, echo is right, close() leaves no thread or fd', async (t) => {
  // Settle what the test process itself starts lazily (threadpool, tap's pipes).
  await echoOnce(1, 'x', 100).catch(() => '');
  const fds0 = fdCount();
  const threads0 = threadCount();
  const { group, port } = await startGroup(t, 2);
  t.equal(group.workers, 2);
  t.equal(group.running, 2, 'two threads run');
  t.ok(threadCount() >= threads0 + 2, 'the worker threads show in /proc/self/task');
  const perWorker = [0, 0];
  group.on('connection', (i) => perWorker[i]++);
  const N = 200;
  let right = 0;
  for (let i = 0; i < N; i += 20) {
    const batch = Array.from({ length: 20 }, (_, j) => echoOnce(port, `hello ${i + j}\n`));
    for (const [j, got] of (await Promise.all(batch)).entries()) if (got === `hello ${i + j}\n`) right++;
  }
  t.equal(right, N, `all ${N} connections echoed`);
  // The relayed counters may trail the replies by a message: wait (bounded).
  for (let i = 0; i < 100 && perWorker[0] + perWorker[1] < N; i++) await sleep(10);
  t.same(group.accepted, perWorker, 'accepted[] matches the connection events');
  t.equal(perWorker[0] + perWorker[1], N, 'every connection counted once');
  t.ok(perWorker[0] > 0 && perWorker[1] > 0, `both workers accepted some (${perWorker.join(' / ')})`);
  let closed = 0;
  group.on('close', () => closed++);
  await group.close();
  t.equal(closed, 1, "'close' once");
  t.equal(group.running, 0, 'no worker runs');
  let fds = fdCount();
  for (let i = 0; i < 100 && fds > fds0; i++) {
    await sleep(20);
    fds = fdCount();
  }
  t.equal(fds, fds0, 'fd count back to the baseline');
  let threads = threadCount();
  for (let i = 0; i < 100 && threads > threads0; i++) {
    await sleep(20);
    threads = threadCount();
  }
  t.ok(threads <= threads0, `threads back to the baseline (${threads} <= ${threads0})`);
  t.equal(await echoOnce(port, 'anyone?', 2000), '', 'nobody listens on the port any more');
});

t.test('shutdown() drains: an open connection is served to the end, then every thread ends', async (t) => {
  const { group, port } = await startGroup(t, 2);
  const sock = connect(port, '127.0.0.1');
  sock.setEncoding('utf8');
  let got = '';
  let ended = false;
  sock.on('data', (d: string) => (got += d));
  sock.on('end', () => (ended = true));
  sock.on('error', () => {});
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write('before shutdown');
  for (let i = 0; i < 200 && got.length < 15; i++) await sleep(10);
  t.equal(got, 'before shutdown');
  const stopped = group.shutdown(1000);
  await stopped;
  t.equal(group.running, 0, 'every thread ended');
  for (let i = 0; i < 100 && !ended; i++) await sleep(10);
  t.ok(ended, 'the client saw the connection end');
  sock.destroy();
  t.equal(await group.shutdown(), undefined, 'shutdown() again resolves');
});

t.test('a crashed worker is reported; the other keeps serving', async (t) => {
  const { group, port } = await startGroup(t, 2, { crashIndex: 0 });
  const errors: Array<[Error & { code?: string }, number]> = [];
  group.on('error', (err, i) => errors.push([err, i]));
  // Connections hashed to worker 0 crash it; go on until it did (bounded).
  for (let i = 0; i < 100 && errors.length === 0; i++) await echoOnce(port, `try ${i}`, 2000);
  t.equal(errors.length, 1, 'one error');
  t.equal(errors[0]?.[1], 0, 'from worker 0');
  t.equal(errors[0]?.[0].code, 'ERR_TEST_CRASH', 'with its code');
  t.match(errors[0]?.[0].message, /worker 0 crashed on purpose/);
  for (let i = 0; i < 100 && group.running !== 1; i++) await sleep(10);
  t.equal(group.running, 1, 'worker 1 still runs');
  let right = 0;
  for (let i = 0; i < 30; i++) if ((await echoOnce(port, `after ${i}`)) === `after ${i}`) right++;
  t.equal(right, 30, 'every later connection is served (by worker 1)');
  await group.close();
  t.equal(group.running, 0);
});

t.test("a stalled worker still gets its share of new connections; they wait, not lost", async (t) => {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const { group, port } = await startGroup(t, 2, { stallIndex: 0, gate });
  t.teardown(() => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
  });
  const answered = new Set<number>();
  const N = 40;
  const all = Array.from({ length: N }, (_, i) => echoOnce(port, `stall ${i}`, 15_000).then((got) => {
    if (got === `stall ${i}`) answered.add(i);
    return got;
  }));
  // Worker 1 serves its share meanwhile (bounded wait for it).
  for (let i = 0; i < 300 && answered.size === 0; i++) await sleep(10);
  await sleep(500);
  const duringStall = answered.size;
  t.ok(duringStall > 0, `the free worker answered ${duringStall} of ${N} while the other was stalled`);
  t.ok(duringStall <= N - 2, `the stalled worker's share (${N - duringStall}) waits: the kernel does not send it elsewhere`);
  t.equal(group.accepted[0], 0, 'the stalled worker has reported no connection');
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  const replies = await Promise.all(all);
  t.equal(replies.filter((got, i) => got === `stall ${i}`).length, N, 'once it runs again, its queued connections are served too');
  t.ok(group.accepted[0] > 0 && group.accepted[1] > 0, `both served some (${group.accepted.join(' / ')})`);
  await group.close();
});

t.test('close() terminates a worker stuck in JavaScript after terminateAfterMs', async (t) => {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const group = new MessageServerWorkers(['127.0.0.1', 0], {
    workers: 2, terminateAfterMs: 300, createMessage: { module: FACTORY, export: 'echo', data: { stallIndex: 0, gate } },
  });
  t.teardown(() => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    return group.close();
  });
  const address = await group.ready;
  t.same(group.address(), address, 'address() is the address ready resolved with');
  const port = (address as [string, number])[1];
  // Enough connections that worker 0 gets one and stalls for good.
  const all = Array.from({ length: 20 }, (_, i) => echoOnce(port, `stuck ${i}`, 10_000));
  for (let i = 0; i < 300 && group.accepted[1] === 0; i++) await sleep(10);
  await sleep(200);
  t.equal(group.accepted[0], 0, 'worker 0 is stuck');
  await group.close();
  t.equal(group.running, 0, 'both threads ended, the stuck one terminated');
  t.equal(Atomics.load(gate, 0), 0, 'without the gate being opened');
  await Promise.all(all);
});

t.test('a worker that exits unasked is reported as ERR_WORKER_EXITED', async (t) => {
  const { group, port } = await startGroup(t, 2, { exitIndex: 1 });
  const errors: Array<[Error & { code?: string }, number]> = [];
  group.on('error', (err, i) => errors.push([err, i]));
  for (let i = 0; i < 100 && errors.length === 0; i++) await echoOnce(port, `try ${i}`, 2000);
  t.equal(errors.length, 1, 'one error');
  t.equal(errors[0]?.[1], 1, 'from worker 1');
  t.equal(errors[0]?.[0].code, 'ERR_WORKER_EXITED');
  t.match(errors[0]?.[0].message, /exited with code 3/);
  t.equal(group.running, 1, 'worker 0 still runs');
  t.equal(await echoOnce(port, 'still there'), 'still there');
  await group.close();
});

t.test('bad options and failed starts', async (t) => {
  const mk = (o: unknown) => () => new MessageServerWorkers(['127.0.0.1', 0], o as never);
  t.throws(mk({ workers: 0, createMessage: { module: FACTORY } }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(mk({ workers: 1.5, createMessage: { module: FACTORY } }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(mk({ workers: '2', createMessage: { module: FACTORY } }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(mk({ workers: 2, createMessage: () => null }), { code: 'ERR_INVALID_ARG_TYPE' });

  const notFn = new MessageServerWorkers(['127.0.0.1', 0], { workers: 2, createMessage: { module: FACTORY, export: 'notAFunction' } });
  await t.rejects(notFn.ready, { code: 'ERR_INVALID_ARG_TYPE', message: /notAFunction/ }, 'an export that is not a function');
  await notFn.closed;
  t.equal(notFn.running, 0, 'nothing left running');

  // A port taken by a listener without SO_REUSEPORT: worker 0 cannot bind.
  const taken: Server = createNetServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const busy = new MessageServerWorkers(['127.0.0.1', port], { workers: 2, createMessage: { module: FACTORY, export: 'echo' } });
  await t.rejects(busy.ready, { code: 'EADDRINUSE' });
  await busy.closed;
  t.equal(busy.running, 0);
});

t.test('multiconn-server --workers 2: echo, then Ctrl-C exits 0', async (t) => {
  const { proc, port } = await startServer(t, 'multiconn-server', ['--workers', '2', '--quiet', ...ENGINE_FLAGS]);
  let right = 0;
  const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => echoOnce(port, `message ${i}`)));
  for (const [i, got] of replies.entries()) if (got === `message ${i}`) right++;
  t.equal(right, 40, 'every connection echoed');
  await interrupt(t, proc);
});

t.test('app-server --workers 2: the app protocol, then Ctrl-C drains and a second forces', async (t) => {
  const { proc, port } = await startServer(t, 'app-server', ['--workers', '2', '--keep-alive', '--quiet', '--shutdown-timeout', '60', ...ENGINE_FLAGS]);
  for (let i = 0; i < 4; i++) {
    const { code, out } = await runProgram(t, 'app-client', ['127.0.0.1', String(port), 'search', 'morpheus']);
    t.equal(code, 0);
    t.match(out, 'Follow the white rabbit', `answer ${i}`);
  }
  // A client that pipelines many requests and reads nothing: the first
  // Ctrl-C waits to deliver their answers.
  const slow = connect(port, '127.0.0.1');
  slow.on('error', () => {});
  await new Promise((resolve) => slow.once('connect', resolve));
  slow.pause();
  const frame = encodeMessage(createRequest('search', 'morpheus'));
  slow.write(Buffer.concat(Array.from({ length: 100_000 }, () => frame)));
  await sleep(500);
  proc.child.kill('SIGINT');
  await sleep(300);
  t.equal(proc.child.exitCode, null, 'still draining after the first Ctrl-C');
  await interrupt(t, proc, undefined, 'exits 0 on the second Ctrl-C');
  slow.destroy();
});

t.test('--workers: usage errors', async (t) => {
  for (const bad of ['0', 'x', '1.5']) {
    const { code, err } = await runProgram(t, 'multiconn-server', ['--workers', bad, '127.0.0.1', '0']);
    t.equal(code, 2, `--workers ${bad}`);
    t.match(err, /invalid --workers/);
  }
  const { code, err } = await runProgram(t, 'multiconn-server', ['--workers', '2', '--backend', 'poll', '127.0.0.1', '0']);
  t.equal(code, 2);
  t.match(err, /--workers/);
});
