// Seed 003, select/poll/epoll explained: the select() echo server with
// output queues (select-echo-server), the poll() "hello world" server
// (poll-server) and the epoll echo server (epoll-echo-server); the static
// web server has its own suites (web-server, browser). Spawned from
// dist/examples on 127.0.0.1 with port 0, talked to with nc-style raw
// sockets: concurrent clients, payloads larger than the socket buffers,
// no fd leaks over a burst, SIGINT exits 0.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { INTERRUPTED, concurrently, exchange, fdCount, rawConnection, runToEnd, settleFds, startServer } from './http-helpers.js';

/** Python's bytes.upper(). */
function upper(b: Buffer): Buffer {
  return Buffer.from(b.map((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c)));
}

/** Random lowercase text (so that upper-casing changes it). */
function lowercaseText(n: number): Buffer {
  return Buffer.from(randomBytes(n).map((c) => 0x61 + (c % 26)));
}

t.test('--help and usage lines', async (t) => {
  for (const name of ['select-echo-server', 'poll-server', 'epoll-echo-server']) {
    const h = await runToEnd(name, ['--help']);
    t.equal(h.code, 0, `${name} --help exits 0`);
    t.match(h.out, new RegExp(`^usage: ${name} \\[host\\] \\[port\\]\\n`));
    for (const flag of ['--backlog', '--trace', '--quiet']) t.match(h.out, `\n  ${flag} `, `${name} lists ${flag}`);
    const bad = await runToEnd(name, ['127.0.0.1', 'port']);
    t.equal(bad.code, 2, `${name}: a bad port exits 2`);
    t.match(bad.err, new RegExp(`invalid port 'port'\\nusage: ${name}`));
  }
});

t.test('select-echo-server: output queues, upper-case echo, many clients, big payloads', async (t) => {
  const prog = await startServer(t, 'select-echo-server', ['--trace', '--backlog', '128']);
  const baseline = fdCount(prog.pid);

  const one = await rawConnection(t, prog.port);
  one.sock.write('hello, select\n');
  t.equal((await one.waitBytes(14)).toString(), 'HELLO, SELECT\n', 'the message comes back in upper case (as the seed sends it)');
  one.sock.write('second line\n');
  t.equal((await one.waitBytes(26)).toString(), 'HELLO, SELECT\nSECOND LINE\n', 'the connection stays open for more');
  one.sock.end();
  await one.waitEnd();
  await prog.waitFor(/closing \('127\.0\.0\.1', \d+\) after reading no data/);
  t.match(prog.out(), /new connection from \('127\.0\.0\.1', \d+\)/, 'the seed messages: new connection');
  t.match(prog.out(), /received b'hello, select\\n' from \('127\.0\.0\.1', \d+\)/, 'received ... from');
  t.match(prog.out(), /sending b'HELLO, SELECT\\n' to/, 'sending ... to');
  t.match(prog.out(), /output queue for \('127\.0\.0\.1', \d+\) is empty/, 'a socket leaves the write list once its queue is empty');
  t.match(prog.out(), /trace: fd \d+ \('127\.0\.0\.1', \d+\) WRITE/, '--trace shows WRITE readiness');
  t.match(prog.out(), /trace: fd \d+ listening socket READ/, '--trace shows the listening socket');

  const many = await concurrently(50, async (i) => {
    const msg = Buffer.from(`client number ${i}\n`);
    const r = await exchange(prog.port, [msg], { untilBytes: msg.length });
    return r.data.equals(upper(msg));
  });
  t.equal(many.filter(Boolean).length, 50, '50 concurrent clients each get their own message back');

  const big = lowercaseText(300_000);
  const r = await exchange(prog.port, [big], { untilBytes: big.length, timeoutMs: 20_000 });
  t.ok(r.data.equals(upper(big)), '300 kB come back whole and in order (queued, partial sends resumed)');

  t.equal(await settleFds(prog.pid, baseline), baseline, 'no fd leak');
  const stopped = await prog.stop();
  t.equal(stopped.code, 0, 'SIGINT: exit 0');
  t.match(stopped.out, new RegExp(`${INTERRUPTED}\\n$`));
  t.equal(stopped.err, '');
});

t.test('poll-server: "hello world" to each client, then close', async (t) => {
  const prog = await startServer(t, 'poll-server', ['--trace', '--backlog', '128']);
  const baseline = fdCount(prog.pid);
  const r = await exchange(prog.port, ['hi']);
  t.equal(r.data.toString(), 'hello world', 'the answer, then the server closes');
  t.match(prog.out(), new RegExp(`trace: fd \\d+ \\('127\\.0\\.0\\.1', ${r.localPort}\\) POLLIN`), '--trace shows POLLIN');
  t.match(prog.out(), new RegExp(`trace: fd \\d+ \\('127\\.0\\.0\\.1', ${r.localPort}\\) POLLOUT`), 'then POLLOUT');

  const many = await concurrently(100, (i) => exchange(prog.port, [`message ${i}`]));
  t.equal(many.filter((m) => m.data.toString() === 'hello world').length, 100, '100 concurrent clients all answered');
  const silent = await exchange(prog.port, [], { end: true });
  t.equal(silent.data.length, 0, 'a client that sends nothing and closes is closed (the seed would poll it for ever)');
  t.equal(await settleFds(prog.pid, baseline), baseline, 'no fd leak');
  const stopped = await prog.stop();
  t.equal(stopped.code, 0, 'SIGINT: exit 0');
  t.match(stopped.out, INTERRUPTED);
  t.equal(stopped.err, '');
});

t.test('epoll-echo-server: echo, 1 MB through 1024-byte reads, many clients', async (t) => {
  const prog = await startServer(t, 'epoll-echo-server', ['--backlog', '128']);
  const one = await rawConnection(t, prog.port);
  one.sock.write('ping\n');
  t.equal((await one.waitBytes(5)).toString(), 'ping\n', 'a line comes back');
  one.sock.end();
  await one.waitEnd();
  t.match(prog.out(), /client connected: \('127\.0\.0\.1', \d+\)/, 'the seed messages');
  t.match(prog.out(), /------recvdata---------\n-{40}\nping\n/);
  t.match(prog.out(), /-------send data---------/);
  await prog.waitFor(/client closed: \('127\.0\.0\.1', \d+\)/);
  const stopped = await prog.stop();
  t.equal(stopped.code, 0, 'SIGINT: exit 0');
  t.match(stopped.out, INTERRUPTED);

  const quiet = await startServer(t, 'epoll-echo-server', ['--quiet', '--backlog', '128']);
  const quietBaseline = fdCount(quiet.pid);
  const payload = randomBytes(1024 * 1024);
  const r = await exchange(quiet.port, [payload], { untilBytes: payload.length, timeoutMs: 30_000 });
  t.ok(r.data.equals(payload), '1 MB echoed byte for byte');
  const many = await concurrently(100, async (i) => {
    const msg = randomBytes(2000 + i);
    const e = await exchange(quiet.port, [msg], { untilBytes: msg.length });
    return e.data.equals(msg);
  });
  t.equal(many.filter(Boolean).length, 100, '100 concurrent clients each get their bytes back');
  t.equal(await settleFds(quiet.pid, quietBaseline), quietBaseline, 'no fd leak');
  t.equal(quiet.out(), quiet.out().split('\n')[0] + '\n', '--quiet: only the listening line');
  const s2 = await quiet.stop('SIGTERM');
  t.equal(s2.code, 0, 'SIGTERM: exit 0');
  t.match(s2.out, INTERRUPTED);
});

t.test('through the node-selectors CLI', async (t) => {
  const prog = await startServer(t, 'cli', ['poll-server', '--quiet']);
  const r = await exchange(prog.port, ['hi']);
  t.equal(r.data.toString(), 'hello world', 'node-selectors poll-server answers');
  const stopped = await prog.stop();
  t.equal(stopped.code, 0);
  t.match(stopped.out, INTERRUPTED);
});
