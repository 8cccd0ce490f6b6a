// Seed 000, the epoll howto: Example 1 (howto-blocking-once), 2
// (howto-blocking), 3 (howto-epoll-lt), 4 (howto-epoll-et), 5
// (howto-epoll-cork), 6 (howto-epoll-nodelay). Each is spawned from
// dist/examples on 127.0.0.1 with port 0 and talked to with curl, raw
// node:net sockets and node:http; 100 concurrent clients each get the
// howto's exact response, no fd leaks over the burst, SIGINT exits 0.
import t from 'tap';
import { get } from 'node:http';
import { connect } from 'node:net';
import {
  INTERRUPTED, concurrently, curl, exchange, fdCount, noCurl, runToEnd, settleFds, startServer,
} from './http-helpers.js';

const RESPONSE = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!',
);
const PROGRAMS = ['howto-blocking-once', 'howto-blocking', 'howto-epoll-lt', 'howto-epoll-et', 'howto-epoll-cork', 'howto-epoll-nodelay'];
const LOOPS = PROGRAMS.slice(1);

function httpBody(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode as number, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

t.test('--help, usage errors and one-line errors', async (t) => {
  const helps = await Promise.all(PROGRAMS.map((name) => runToEnd(name, ['--help'])));
  for (const [i, name] of PROGRAMS.entries()) {
    const h = helps[i];
    t.equal(h.code, 0, `${name} --help exits 0`);
    t.match(h.out, new RegExp(`^usage: ${name} \\[host\\] \\[port\\]\\n`), `${name} --help starts with the usage line`);
    t.match(h.out, /--backlog/, `${name} documents --backlog`);
    t.match(h.out, /defaults to 1, as in the howto/, `${name} says why the backlog default is 1`);
    t.match(h.out, /tests and[\s\S]*--backlog 128/, `${name} says when to raise it`);
    t.match(h.out, /127\.0\.0\.1/, `${name} explains its default host`);
  }
  const usage = await runToEnd('howto-epoll-lt', ['a', 'b', 'c']);
  t.equal(usage.code, 2, 'too many arguments: exit 2');
  t.equal(usage.err, 'usage: howto-epoll-lt [host] [port]\n');
  const port = await runToEnd('howto-blocking', ['127.0.0.1', '99999']);
  t.equal(port.code, 2, 'a bad port: exit 2');
  t.match(port.err, /invalid port '99999'\nusage: howto-blocking/);
  const host = await runToEnd('howto-epoll-et', ['nosuch.invalid', '0']);
  t.equal(host.code, 1, 'a host that does not resolve: exit 1');
  t.match(host.err, /^howto-epoll-et: error: getaddrinfo (ENOTFOUND|EAI_AGAIN) nosuch\.invalid\n$/, 'one line, no stack');
  const backlog = await runToEnd('howto-epoll-lt', ['--backlog', 'x', '127.0.0.1', '0']);
  t.equal(backlog.code, 2, 'a bad --backlog: exit 2');
});

t.test('EADDRINUSE is one line and exit 1', async (t) => {
  const first = await startServer(t, 'howto-epoll-lt');
  const second = await runToEnd('howto-epoll-nodelay', ['127.0.0.1', String(first.port)]);
  t.equal(second.code, 1);
  t.equal(second.err, `howto-epoll-nodelay: error: bind EADDRINUSE 127.0.0.1:${first.port}\n`);
  const stopped = await first.stop();
  t.equal(stopped.code, 0);
});

t.test('howto-blocking-once answers one request, prints it, and exits', async (t) => {
  const prog = await startServer(t, 'howto-blocking-once');
  if (noCurl) {
    const { data } = await exchange(prog.port, ['GET /once HTTP/1.0\r\n\r\n']);
    t.same(data, RESPONSE);
  } else {
    const r = await curl(['-i', `http://127.0.0.1:${prog.port}/once`]);
    t.equal(r.code, 0, 'curl succeeds');
    t.equal(r.out, RESPONSE.toString(), 'curl gets the howto response byte for byte');
  }
  const exit = await prog.exited;
  t.equal(exit.code, 0, 'exits 0 after one request');
  t.match(prog.out(), /-{40}\nGET \/once HTTP\/1\.\d\r?\n/, 'the request is printed under a line of dashes');
  t.notMatch(prog.out(), INTERRUPTED);
});

t.test('howto-blocking-once: Ctrl-C while blocked in accept(), and a client that closes early', async (t) => {
  const idle = await startServer(t, 'howto-blocking-once');
  const stopped = await idle.stop('SIGINT');
  t.equal(stopped.code, 0, 'SIGINT: exit 0');
  t.match(stopped.out, `${INTERRUPTED}\n`);
  t.equal(stopped.err, '', 'nothing on stderr');

  const early = await startServer(t, 'howto-blocking-once');
  await exchange(early.port, ['GET / HTTP/1.0\r\n'], { end: true });
  const exit = await early.exited;
  t.equal(exit.code, 1, 'no complete request: exit 1');
  t.match(early.err(), /^howto-blocking-once: error: the client closed the connection before the request was complete\n$/);
});

for (const name of LOOPS) {
  t.test(`${name}: curl, 100 concurrent clients, no fd leak, Ctrl-C`, async (t) => {
    const prog = await startServer(t, name, ['--backlog', '128']);
    // Taken at rest: the "listening on" line comes once the server is set up.
    const baseline = fdCount(prog.pid);
    if (noCurl) {
      t.comment(`curl part skipped: ${noCurl}`);
    } else {
      const r = await curl([`http://127.0.0.1:${prog.port}/from-curl`]);
      t.equal(r.out, 'Hello, world!', 'curl gets the body');
      await prog.waitFor(/GET \/from-curl HTTP\/1\.1\r?\nHost: 127\.0\.0\.1:\d+/);
      t.pass('the request is printed as the howto does');
    }
    const raw = await concurrently(100, (i) => exchange(prog.port, [`GET /raw/${i} HTTP/1.0\r\nHost: x\r\n\r\n`]));
    t.equal(raw.filter((r) => r.data.equals(RESPONSE)).length, 100, '100 concurrent raw clients get the exact response');
    const viaHttp = await concurrently(20, (i) => httpBody(prog.port, `/http/${i}`));
    t.ok(viaHttp.every((r) => r.status === 200 && r.body === 'Hello, world!'), '20 concurrent node:http clients get 200 Hello, world!');
    t.equal(await settleFds(prog.pid, baseline), baseline, `fds back to ${baseline} after the burst`);
    if (name === 'howto-epoll-nodelay') t.match(prog.out(), /accepted \('127\.0\.0\.1', \d+\) TCP_NODELAY = 1/, 'accepted sockets inherit TCP_NODELAY');
    const stopped = await prog.stop('SIGINT');
    t.equal(stopped.code, 0, 'SIGINT: exit 0');
    t.match(stopped.out, new RegExp(`${INTERRUPTED}\\n$`));
    t.equal(stopped.err, '', 'nothing on stderr');
  });
}

t.test('edge-triggered: a request larger than one recv() comes in one event; level-triggered needs one per recv()', async (t) => {
  const big = `GET /big HTTP/1.0\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
  const reads = Math.ceil(big.length / 1024);
  const et = await startServer(t, 'howto-epoll-et', ['--trace']);
  const lt = await startServer(t, 'howto-epoll-lt', ['--trace']);
  const baseline = fdCount(et.pid);
  const a = await exchange(et.port, [big]);
  const b = await exchange(lt.port, [big]);
  t.same(a.data, RESPONSE, 'ET: the response');
  t.same(b.data, RESPONSE, 'LT: the response');
  const count = (out: string, localPort: number): number => out.split('\n').filter((l) => l.includes(`('127.0.0.1', ${localPort}) EPOLLIN`)).length;
  const etEvents = count(et.out(), a.localPort);
  const ltEvents = count(lt.out(), b.localPort);
  t.ok(etEvents >= 1 && etEvents < reads / 2, `ET: ${etEvents} EPOLLIN event(s) for ${reads} reads of 1024 bytes`);
  t.ok(ltEvents >= reads, `LT: ${ltEvents} EPOLLIN events for ${reads} reads`);
  t.match(et.out(), `('127.0.0.1', ${a.localPort}) EPOLLOUT`, 'ET: then one EPOLLOUT');
  t.match(et.out(), `('127.0.0.1', ${a.localPort}) EPOLLHUP`, 'ET: then EPOLLHUP after shutdown()');

  // A request in three pieces: each brings a new edge, and the drained bytes add up.
  const split = await exchange(et.port, ['GET /split HT', 'TP/1.0\r\nHost: x\r\n', '\r\n'], { delayMs: 60 });
  t.same(split.data, RESPONSE, 'ET: a request split across three writes');
  // The client half-closes right after its request: end of stream and a complete request in one drain.
  const halfClosed = await exchange(et.port, ['GET /half HTTP/1.0\r\n\r\n'], { end: true });
  t.same(halfClosed.data, RESPONSE, 'ET: a client that shuts down its side after the request still gets the response');
  // A client that gives up mid-request is closed, and the server carries on.
  const partial = await exchange(et.port, ['GET /partial HTTP/1.0\r\n'], { end: true });
  t.equal(partial.data.length, 0, 'ET: an incomplete request gets no response, just the close');
  const after = await exchange(et.port, ['GET /after HTTP/1.0\r\n\r\n']);
  t.same(after.data, RESPONSE, 'ET: still serving');
  t.equal(await settleFds(et.pid, baseline), baseline, 'ET: no fd left behind');

  const stopped = await et.stop('SIGTERM');
  t.equal(stopped.code, 0, 'SIGTERM: exit 0 too');
  t.match(stopped.out, INTERRUPTED);
  t.equal((await lt.stop()).code, 0);
});

t.test('level-triggered: the howto bugs fixed (early close, bare-LF requests, resets)', async (t) => {
  const prog = await startServer(t, 'howto-epoll-lt', ['--backlog', '16']);
  const baseline = fdCount(prog.pid);
  const early = await exchange(prog.port, ['GET / HTTP/1.0\r\n'], { end: true });
  t.equal(early.data.length, 0, 'a client that closes before the blank line is closed (the howto spins)');
  const nc = await exchange(prog.port, ['GET / HTTP/1.0\n\n']);
  t.same(nc.data, RESPONSE, 'EOL1: bare LF line ends, as typed into nc');
  const resets = await concurrently(
    10,
    () =>
      new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: prog.port }, () => {
          s.write('GET / HTTP/1.0\r\n');
          setTimeout(() => {
            s.resetAndDestroy();
            resolve();
          }, 20);
        });
        s.on('error', () => resolve());
      }),
  );
  t.equal(resets.length, 10, 'ten clients reset their connections mid-request');
  const after = await exchange(prog.port, ['GET / HTTP/1.0\r\n\r\n']);
  t.same(after.data, RESPONSE, 'still serving');
  t.equal(await settleFds(prog.pid, baseline), baseline, 'no fd leak');
  t.equal((await prog.stop()).code, 0);
});

t.test('through the node-selectors CLI', async (t) => {
  const prog = await startServer(t, 'cli', ['howto-epoll-et', '--quiet']);
  const { data } = await exchange(prog.port, ['GET /cli HTTP/1.0\r\n\r\n']);
  t.same(data, RESPONSE, 'node-selectors howto-epoll-et serves');
  const stopped = await prog.stop();
  t.equal(stopped.code, 0);
  t.equal(stopped.out, `listening on ('127.0.0.1', ${prog.port})\n${INTERRUPTED}\n`, '--quiet: the listening line and the exit message only');
});
