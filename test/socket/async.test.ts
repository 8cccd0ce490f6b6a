// The *Async socket methods: they wait in Node's loop (timers keep running),
// honour an AbortSignal, refuse blocking sockets and a second wait in the
// same direction, reject pending waits on close(), and hold no threadpool
// thread (fs work stays prompt with 1,000 waits pending).
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM, Socket, createServer, socketpair } from '../../lib/socket/index.js';
import { libc } from '../../lib/sys/libc.js';
import { reactorFor } from '../../lib/socket/reactor.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function pair(t: { teardown(fn: () => void): void }): [Socket, Socket] {
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  t.teardown(() => { a.close(); b.close(); });
  return [a, b];
}

t.test('recvAsync waits in Node\'s loop: a 1 ms interval timer keeps running', async (t) => {
  const [a, b] = pair(t);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  setTimeout(() => b.send('late'), 100);
  const start = performance.now();
  const data = await a.recvAsync(100);
  clearInterval(timer);
  t.equal(data.toString(), 'late');
  t.ok(performance.now() - start >= 90, 'it waited for the data');
  t.ok(ticks >= 20, `the timer ran meanwhile (${ticks} ticks)`);
  t.equal(reactorFor(libc()).pending, 0, 'nothing left waiting');
});

t.test('data already there: no wait at all', async (t) => {
  const [a, b] = pair(t);
  b.send('ready');
  t.equal((await a.recvAsync(100)).toString(), 'ready');
  const buf = Buffer.alloc(10);
  b.send('into');
  t.equal(await a.recvIntoAsync(buf), 4);
  t.equal(buf.subarray(0, 4).toString(), 'into');
  t.equal(await a.sendAsync('x'), 1);
  t.equal((await b.recvAsync(10)).toString(), 'x');
  b.close();
  t.equal((await a.recvAsync(10)).length, 0, 'EOF is an empty Buffer');
});

t.test('abort, errors with codes, close while waiting', async (t) => {
  const [a, b] = pair(t);
  const ac = new AbortController();
  const waiting = a.recvAsync(10, 0, { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await t.rejects(waiting, { name: 'AbortError', code: 'ABORT_ERR' });
  t.equal(reactorFor(libc()).pending, 0, 'the aborted wait is gone');
  await t.rejects(a.recvAsync(10, 0, { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' }, 'an aborted signal rejects at once');

  const first = a.recvAsync(10);
  await t.rejects(a.recvAsync(10), { code: 'ERR_SOCKET_BUSY' }, 'a second read wait on one socket');
  t.equal(await a.sendAsync('both directions at once'), 'both directions at once'.length, 'a write while a read waits is fine');
  b.send('x');
  t.equal((await first).toString(), 'x');

  const pending = a.recvAsync(10);
  setTimeout(() => a.close(), 10);
  await t.rejects(pending, { code: 'ERR_SOCKET_CLOSED' });

  const blocking = new Socket(AF_INET, SOCK_STREAM);
  t.teardown(() => blocking.close());
  await t.rejects(blocking.recvAsync(10), { code: 'ERR_SOCKET_BLOCKING' });
  await t.rejects(a.recvAsync(10), { code: 'EBADF' }, 'a closed socket');
});

t.test('TCP: acceptAsync, connectAsync, sendallAsync of 8 MiB, recvIntoAsync', async (t) => {
  const server = createServer(['127.0.0.1', 0]);
  server.setblocking(false);
  t.teardown(() => server.close());
  const port = server.getsockname()[1] as number;
  const client = new Socket(AF_INET, SOCK_STREAM);
  client.setblocking(false);
  t.teardown(() => client.close());
  const [[conn, addr]] = await Promise.all([server.acceptAsync(), client.connectAsync(['127.0.0.1', port])]);
  t.teardown(() => conn.close());
  t.equal(conn.getblocking(), false, 'the accepted socket is non-blocking, as asyncio makes it');
  t.same(addr, client.getsockname());
  const data = randomBytes(8 * 1024 * 1024);
  const received = (async () => {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(256 * 1024);
    let total = 0;
    for (;;) {
      const n = await conn.recvIntoAsync(buf);
      if (n === 0) return [total, hash.digest('hex')];
      hash.update(buf.subarray(0, n));
      total += n;
    }
  })();
  await client.sendallAsync(data);
  client.shutdown(1);
  t.same(await received, [data.length, createHash('sha256').update(data).digest('hex')], 'every byte, in order');

  const refused = new Socket(AF_INET, SOCK_STREAM);
  refused.setblocking(false);
  t.teardown(() => refused.close());
  const closedPort = createServer(['127.0.0.1', 0]);
  const deadPort = closedPort.getsockname()[1] as number;
  closedPort.close();
  await t.rejects(refused.connectAsync(['127.0.0.1', deadPort]), { code: 'ECONNREFUSED', port: deadPort });
});

t.test('UDP: sendtoAsync and recvfromAsync', async (t) => {
  const a = new Socket(AF_INET, SOCK_DGRAM);
  const b = new Socket(AF_INET, SOCK_DGRAM);
  t.teardown(() => { a.close(); b.close(); });
  a.setblocking(false);
  b.setblocking(false);
  b.bind(['127.0.0.1', 0]);
  a.bind(['127.0.0.1', 0]);
  const got = b.recvfromAsync(100);
  await sleep(10);
  t.equal(await a.sendtoAsync('datagram', b.getsockname() as [string, number]), 8);
  const [data, from] = await got;
  t.equal(data.toString(), 'datagram');
  t.same(from, a.getsockname());
});

t.test('1,000 pending recvAsync waits hold no threadpool thread', async (t) => {
  const pairs = Array.from({ length: 1000 }, () => pair(t));
  const waits = pairs.map(([a]) => a.recvAsync(10));
  await sleep(20);
  t.equal(reactorFor(libc()).pending, 1000);
  const start = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => readFile(new URL(import.meta.url))));
  const ms = performance.now() - start;
  // About 1 ms; were the pool's threads held, they would wait for the sends below, which never come.
  t.ok(ms < 2000, `eight fs.promises.readFile calls took ${ms.toFixed(1)} ms`);
  for (const [, b] of pairs) b.send('go');
  const results = await Promise.all(waits);
  t.ok(results.every((r) => r.toString() === 'go'), 'every wait got its data');
  t.equal(reactorFor(libc()).pending, 0);
});
