// epoll-web-server (seed 003's static web server, for real): spawned from
// dist/examples on 127.0.0.1 with port 0, serving a temporary root made
// here (files, a directory, a file with a space, symlinks inside and out,
// a FIFO, a 3 MiB file). Talked to with curl, node:http and raw sockets:
// Content-Type, HEAD, 404, redirects, percent-decoding, every way out of
// the root, 400/405/431/501/505, keep-alive (HTTP/1.1 and 1.0),
// pipelining, split requests, a large file to a slow reader, bad input
// that must cost one connection only, 100 concurrent clients, no fd leak,
// idle timeout, SIGINT.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, get, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  type HttpResponse, INTERRUPTED, ROOT, concurrently, curl, exchange, fdCount, noCurl, parseResponses, rawConnection, runToEnd, settleFds,
  sleep, startServer, until,
} from './http-helpers.js';

const base = mkdtempSync(join(tmpdir(), 'epoll-web-server-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const root = join(base, 'root');
const outside = join(base, 'outside');
mkdirSync(join(root, 'sub'), { recursive: true });
mkdirSync(join(root, 'nodir'));
mkdirSync(outside);
const INDEX = '<!doctype html><title>test root</title><h1>test root</h1>\n';
writeFileSync(join(root, 'index.html'), INDEX);
writeFileSync(join(root, 'style.css'), 'body { color: red; }\n');
writeFileSync(join(root, 'app.js'), 'console.log(1);\n');
writeFileSync(join(root, 'a b.txt'), 'space file\n');
writeFileSync(join(root, 'ünï.txt'), 'utf-8 name\n');
writeFileSync(join(root, 'noext'), 'bytes\n');
writeFileSync(join(root, 'sub', 'index.html'), '<h1>sub index</h1>\n');
writeFileSync(join(root, 'sub', 'page.txt'), 'sub page\n');
const BIG = randomBytes(3 * 1024 * 1024);
writeFileSync(join(root, 'big.bin'), BIG);
// More than loopback's socket buffers hold (a few MiB each side): the server must wait for EPOLLOUT.
const HUGE = randomBytes(32 * 1024 * 1024);
writeFileSync(join(root, 'huge.bin'), HUGE);
writeFileSync(join(outside, 'secret.txt'), 'TOP SECRET\n');
symlinkSync(join(root, 'index.html'), join(root, 'link-inside.html'));
symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
symlinkSync(outside, join(root, 'dir-out'));
const haveFifo = spawnSync('mkfifo', [join(root, 'fifo')]).status === 0;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** One request on a fresh connection (closed after the response). */
async function one(port: number, head: string, isHead = false): Promise<HttpResponse & { raw: Buffer }> {
  const { data } = await exchange(port, [head]);
  const [res] = parseResponses(data, [isHead]);
  if (res === undefined) throw new Error(`no complete response to ${JSON.stringify(head)}: ${JSON.stringify(data.toString('latin1'))}`);
  return { ...res, raw: data };
}

const GET = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`;

t.test('the web server', async (t) => {
  const srv = await startServer(t, 'epoll-web-server', ['--trace', '--root', root]);
  const { port } = srv;
  await srv.waitFor(/serving \S+/);
  const baseline = fdCount(srv.pid);

  await t.test('GET and HEAD with curl: status, Content-Type, Content-Length', { skip: noCurl }, async (t) => {
    const page = await curl(['-i', `http://127.0.0.1:${port}/`]);
    t.equal(page.code, 0);
    t.match(page.out, /^HTTP\/1\.1 200 OK\r\n/);
    t.match(page.out, /\r\nContent-Type: text\/html; charset=utf-8\r\n/);
    t.match(page.out, new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(INDEX)}\\r\\n`));
    t.ok(page.out.endsWith(`\r\n\r\n${INDEX}`), '/ serves index.html');
    const head = await curl(['-I', `http://127.0.0.1:${port}/style.css`]);
    t.match(head.out, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Type: text\/css; charset=utf-8\r\n/);
    t.match(head.out, /Content-Length: 21\r\n/, 'HEAD: the length of the body it does not send');
    const missing = await curl(['-w', '%{http_code}', `http://127.0.0.1:${port}/no/such/file.html`]);
    t.match(missing.out, /file not found[\s\S]*404$/, '404 with the seed\'s message');
    const escape = await curl(['--path-as-is', '-w', '%{http_code}', '-o', '/dev/null', `http://127.0.0.1:${port}/../outside/secret.txt`]);
    t.equal(escape.out, '403', 'curl --path-as-is /../: 403');
  });

  await t.test('Content-Type by extension, directories, percent-decoding, symlinks inside', async (t) => {
    const types: Array<[string, string]> = [
      ['/style.css', 'text/css; charset=utf-8'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/a%20b.txt', 'text/plain; charset=utf-8'],
      ['/noext', 'application/octet-stream'],
      ['/big.bin', 'application/octet-stream'],
      ['/sub/', 'text/html; charset=utf-8'],
    ];
    for (const [path, type] of types) {
      const r = await one(port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, true);
      t.equal(r.status, 200, `HEAD ${path}: 200`);
      t.equal(r.headers.get('content-type'), type, `${path}: ${type}`);
      t.equal(r.raw.length, r.head.length + 4, `HEAD ${path}: no body`);
    }
    t.equal((await one(port, GET('/a%20b.txt'))).body.toString(), 'space file\n', '%20 decoded');
    t.equal((await one(port, GET('/%C3%BCn%C3%AF.txt'))).body.toString(), 'utf-8 name\n', 'UTF-8 percent-escapes decoded');
    t.equal((await one(port, GET('/sub/page.txt?x=1#frag'))).body.toString(), 'sub page\n', 'query and fragment ignored');
    t.equal((await one(port, GET('/sub/'))).body.toString(), '<h1>sub index</h1>\n', 'a directory serves its index.html');
    const redirect = await one(port, GET('/sub?a=b'));
    t.equal(redirect.status, 301, '/sub without the slash: 301');
    t.equal(redirect.headers.get('location'), '/sub/?a=b', 'Location: /sub/ (query kept)');
    t.equal((await one(port, GET('/nodir/'))).status, 404, 'a directory without index.html: 404');
    t.equal((await one(port, GET('/link-inside.html'))).body.toString(), INDEX, 'a symlink that stays inside the root is served');
    t.equal((await one(port, GET('http://example.test/sub/page.txt'))).body.toString(), 'sub page\n', 'absolute-form target');
    const notFound = await one(port, `HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, true);
    t.equal(notFound.status, 404, 'HEAD of a missing file: 404');
    t.ok(Number(notFound.headers.get('content-length')) > 0, 'with the length of the 404 page');
    t.equal(notFound.raw.length, notFound.head.length + 4, 'and no body');
  });

  await t.test('no way out of the root', async (t) => {
    const attempts: Array<[string, number[]]> = [
      ['/../outside/secret.txt', [403]],
      ['/sub/../../outside/secret.txt', [403]],
      ['/%2e%2e/outside/secret.txt', [403]],
      ['/%2E%2E%2Foutside%2Fsecret.txt', [403]],
      ['/..%2f..%2foutside%2fsecret.txt', [403]],
      ['/.%2e/outside/secret.txt', [403]],
      ['/sub/%2e%2e/%2e%2e/outside/secret.txt', [403]],
      ['http://x/../outside/secret.txt', [403]],
      ['/link-out.txt', [403]],
      ['/dir-out/secret.txt', [403]],
      ['/dir-out/', [403]],
      [`/${join(outside, 'secret.txt')}`, [404]],
      [`/${encodeURIComponent(join(outside, 'secret.txt'))}`, [404]],
      [`/${join(outside, 'secret.txt').replace(/\//g, '//')}`, [404]],
      ['/etc/passwd', [404]],
      ['/..\\outside\\secret.txt', [403, 404]],
      ['outside/secret.txt', [400]],
      ['/%00', [400]],
      ['/secret.txt%00.html', [400]],
      ['/%zz', [400]],
    ];
    for (const [target, statuses] of attempts) {
      const r = await one(port, GET(target));
      t.ok(statuses.includes(r.status), `${target}: ${r.status} (expected ${statuses.join(' or ')})`);
      t.notMatch(r.raw.toString('latin1'), /TOP SECRET|root:x:0/, `${target}: nothing from outside`);
    }
    if (haveFifo) {
      t.equal((await one(port, GET('/fifo'))).status, 403, 'a FIFO is not opened (it would block the server)');
    }
    t.equal((await one(port, GET('/'))).status, 200, 'still serving');
  });

  await t.test('methods and malformed requests: 405, 400, 431, 501, 505 — one connection each', async (t) => {
    const post = await rawConnection(t, port);
    post.sock.write('POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n');
    const [r405, next] = await post.waitResponses(2);
    t.equal(r405.status, 405, 'POST: 405');
    t.equal(r405.headers.get('allow'), 'GET, HEAD', 'with Allow: GET, HEAD');
    t.equal(next.status, 200, 'the body was skipped: the next request on the connection is served');
    t.equal(next.body.toString(), 'body { color: red; }\n');
    post.sock.destroy();
    t.equal((await one(port, 'DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 405, 'DELETE: 405');

    const bad: Array<[string, number, string]> = [
      ['HELLO\r\n\r\n', 400, 'not a request line'],
      ['GET /\r\n\r\n', 400, 'HTTP/0.9 style'],
      ['GET / HTTP/1.1 extra\r\n\r\n', 400, 'too many words'],
      ['GET / HTTP/1.1\r\nNo colon here\r\n\r\n', 400, 'header without a colon'],
      ['GET / HTTP/1.1\r\nHost: x\r\n folded: y\r\n\r\n', 400, 'folded header'],
      ['GET / HTTP/1.1\r\nBad Name: y\r\n\r\n', 400, 'space in a header name'],
      ['GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400, 'negative Content-Length'],
      ['GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400, 'conflicting Content-Length'],
      ['GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 501, 'Transfer-Encoding'],
      ['GET / HTTP/2.0\r\n\r\n', 505, 'HTTP/2.0'],
      [`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'a 20 kB header'],
      [`${randomBytes(3000).toString('latin1').replace(/\n/g, ' ')}\r\n\r\n`, 400, 'binary garbage'],
    ];
    for (const [input, status, what] of bad) {
      const { data } = await exchange(port, [Buffer.from(input, 'latin1')]);
      const [res] = parseResponses(data);
      t.equal(res?.status, status, `${what}: ${status}`);
      t.equal(res?.headers.get('connection'), 'close', `${what}: Connection: close, then closed`);
    }
    t.equal((await one(port, GET('/'))).status, 200, 'still serving');
  });

  await t.test('keep-alive: HTTP/1.1 by default, HTTP/1.0 on request, Connection: close honoured', async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const reused: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = get({ host: '127.0.0.1', port, path: i % 2 === 0 ? '/' : '/style.css', agent }, (res) => {
          let b = '';
          res.setEncoding('utf8').on('data', (d: string) => (b += d));
          res.on('end', () => resolve(b));
        });
        req.on('error', reject);
        req.on('socket', () => reused.push(req.reusedSocket));
      });
      t.equal(body, i % 2 === 0 ? INDEX : 'body { color: red; }\n', `request ${i + 1} answered`);
    }
    t.same(reused, [false, true, true, true, true], 'node:http reused one connection for five requests');

    if (!noCurl) {
      const twice = await curl(['-v', '-o', '/dev/null', '-o', '/dev/null', `http://127.0.0.1:${port}/`, `http://127.0.0.1:${port}/style.css`]);
      t.match(twice.err, /Re-using existing connection/, 'curl reuses the connection');
    }

    const c10 = await rawConnection(t, port);
    c10.sock.write('GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [first] = await c10.waitResponses(1);
    t.equal(first.headers.get('connection'), 'keep-alive', 'HTTP/1.0 + keep-alive: Connection: keep-alive');
    await sleep(100);
    t.notOk(c10.ended(), 'and the connection stays open');
    c10.sock.write('GET / HTTP/1.0\r\n\r\n');
    const both = await c10.waitResponses(2);
    t.equal(both[1].body.toString(), INDEX, 'a second request on it');
    t.equal(both[1].headers.get('connection'), 'close', 'plain HTTP/1.0: Connection: close');
    await c10.waitEnd();
    t.pass('plain HTTP/1.0: the server closes after the response');

    const close11 = await rawConnection(t, port);
    close11.sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n');
    await close11.waitEnd();
    const rs = parseResponses(close11.received());
    t.equal(rs.length, 1, 'Connection: close: one response, the request after it ignored');
    t.equal(rs[0].headers.get('connection'), 'close');
  });

  await t.test('pipelining and requests split across reads', async (t) => {
    const pipe = await rawConnection(t, port);
    pipe.sock.write(
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const rs = await pipe.waitResponses(4, [false, true, false, false]);
    t.same(
      rs.map((r) => r.status),
      [200, 200, 404, 200],
      'four pipelined requests, four responses in order',
    );
    t.equal(rs[0].body.toString(), INDEX);
    t.equal(rs[1].body.length, 0, 'the HEAD response has no body');
    t.equal(rs[3].body.toString(), 'space file\n');

    const many = await rawConnection(t, port);
    const n = 40;
    many.sock.write(Array.from({ length: n }, (_, i) => `GET /${i % 10 === 0 ? 'big.bin' : 'style.css'} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    const all = await many.waitResponses(n, [], 30_000);
    t.equal(all.length, n, `${n} pipelined requests (more than the server queues at once), all answered`);
    t.ok(
      all.every((r, i) => (i % 10 === 0 ? r.body.equals(BIG) : r.body.toString() === 'body { color: red; }\n')),
      'every body whole and in order',
    );
    many.sock.destroy();

    const request = 'GET /sub/page.txt HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const bytes = [...request].map((c) => c);
    const { data } = await exchange(port, bytes, { delayMs: 2 });
    const split = parseResponses(data);
    t.same(
      split.map((r) => r.body.toString()),
      ['sub page\n', INDEX],
      'two requests sent one byte per write',
    );
    const { data: halfClosed } = await exchange(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n'], { end: true });
    t.same(
      parseResponses(halfClosed).map((r) => r.status),
      [200, 200],
      'a client that shuts down its side after two requests gets both answers, then the close',
    );
    const { data: lf } = await exchange(port, ['GET /sub/page.txt HTTP/1.0\n', '\n']);
    t.equal(parseResponses(lf)[0]?.status, 200, 'bare LF line ends, as typed into nc');
  });

  await t.test('a large file to a slow reader: partial writes, the server keeps serving others', async (t) => {
    const slow = await rawConnection(t, port);
    slow.sock.pause();
    slow.sock.write('GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(300);
    const other = await one(port, GET('/'));
    t.equal(other.body.toString(), INDEX, 'another client is served while the big response waits');
    slow.sock.resume();
    const [big] = await slow.waitResponses(1, [], 30_000);
    t.equal(big.headers.get('content-length'), String(HUGE.length));
    t.equal(sha(big.body), sha(HUGE), '32 MiB received whole');
    const peer = `('127.0.0.1', ${slow.sock.localPort})`;
    const outEvents = srv.out().split('\n').filter((l) => l.includes(`${peer} EPOLLOUT`)).length;
    t.ok(outEvents >= 1, `${outEvents} EPOLLOUT events: the rest of the file was sent as the socket drained`);
    // Write interest only while output is pending: an idle keep-alive connection raises no events.
    const before = srv.out().split('\n').filter((l) => l.includes(peer)).length;
    await sleep(1200);
    const afterIdle = srv.out().split('\n').filter((l) => l.includes(peer)).length;
    t.equal(afterIdle, before, 'no event for the idle connection (EPOLLOUT is not left registered)');
    slow.sock.destroy();
  });

  await t.test('bad clients cost their own connection only', async (t) => {
    await concurrently(30, async (i) => {
      const kind = i % 3;
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          if (kind === 0) s.write(randomBytes(5000));
          else if (kind === 1) s.write('GET /sub/page.txt HTTP/1.1\r\nHo');
          else s.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
          setTimeout(() => {
            s.resetAndDestroy();
            resolve();
          }, kind === 2 ? 30 : 10);
        });
        s.on('error', () => resolve());
      });
    });
    t.equal((await one(port, GET('/'))).status, 200, 'the server survived garbage, half requests and resets mid-download');
  });

  await t.test('100 concurrent clients, then no fd leak', async (t) => {
    const results = await concurrently(100, (i) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: i % 2 === 0 ? '/' : '/sub/page.txt', agent: false }, (res) => {
          let b = '';
          res.setEncoding('utf8').on('data', (d: string) => (b += d));
          res.on('end', () => resolve({ status: res.statusCode as number, body: b }));
        });
        req.on('error', reject);
        req.end();
      }),
    );
    t.equal(
      results.filter((r, i) => r.status === 200 && r.body === (i % 2 === 0 ? INDEX : 'sub page\n')).length,
      100,
      '100 concurrent node:http clients: all 200 with the right body',
    );
    t.equal(await settleFds(srv.pid, baseline), baseline, `fds back to ${baseline}`);
  });

  await t.test('Ctrl-C with keep-alive connections open', async (t) => {
    const open = await rawConnection(t, port);
    open.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await open.waitResponses(1);
    const stopped = await srv.stop('SIGINT');
    t.equal(stopped.code, 0, 'exit 0');
    t.match(stopped.out, new RegExp(`${INTERRUPTED}\\n$`));
    t.equal(stopped.err, '', 'nothing on stderr');
    await open.waitEnd();
    t.pass('the open connection was closed');
    t.match(stopped.out, /127\.0\.0\.1:\d+ "GET \/ HTTP\/1\.1" 200 \d+\n/, 'the access log');
    t.match(stopped.out, /"GET \/\.\.\/outside\/secret\.txt HTTP\/1\.1" 403 /, 'refusals are logged');
  });
});

t.test('command line: the sample site by default, one number = port, --root checked, --idle-timeout', async (t) => {
  const sample = await startServer(t, 'epoll-web-server', ['--quiet'], ['0']);
  t.match(sample.out(), /listening on \('127\.0\.0\.1', \d+\)/, '"epoll-web-server 0": port 0 on 127.0.0.1');
  const site = await one(sample.port, GET('/'));
  t.equal(site.body.toString(), readFileSync(join(ROOT, 'examples/site/index.html'), 'utf8'), 'serves examples/site by default');
  t.equal(sample.out().split('\n').filter(Boolean).length, 2, '--quiet: no access log');
  t.equal((await sample.stop()).code, 0);

  const missing = await runToEnd('epoll-web-server', ['--root', join(base, 'nope'), '127.0.0.1', '0']);
  t.equal(missing.code, 2, 'a --root that does not exist: exit 2');
  t.match(missing.err, /--root: '.*nope' is not a directory\nusage: epoll-web-server/);

  const idle = await startServer(t, 'epoll-web-server', ['--idle-timeout', '1', '--root', root]);
  const quietClient = await rawConnection(t, idle.port);
  const started = Date.now();
  await quietClient.waitEnd(5000);
  t.ok(Date.now() - started >= 900, 'an idle connection is closed after --idle-timeout');
  await idle.waitFor(/idle for 1 s: closing/);
  const slowloris = await rawConnection(t, idle.port);
  slowloris.sock.write('GET / HTTP/1.1\r\n');
  await slowloris.waitEnd(5000);
  t.pass('so is one that never finishes its request');
  t.equal((await idle.stop()).code, 0);
});

const noPrlimit = spawnSync('prlimit', ['--version']).status === 0 ? false : 'prlimit (util-linux) is not installed';

t.test('out of fds: the server pauses accepting instead of spinning or dying', { skip: noPrlimit }, async (t) => {
  // Without tap's NODE_OPTIONS (added to every child it spawns): its coverage hooks need more fds to load.
  const wrap = ['prlimit', '--nofile=64', 'sh', '-c', 'unset NODE_OPTIONS; exec "$0" "$@"'];
  const srv = await startServer(t, 'epoll-web-server', ['--root', root], ['127.0.0.1', '0'], { wrap });
  await srv.waitFor(/serving/);
  const conns = await concurrently(60, async () => {
    const c = await rawConnection(t, srv.port);
    c.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    return c;
  });
  await srv.waitFor(/error: accept: accept EMFILE/);
  t.pass('accept() failed with EMFILE, and the server said so');
  // Close the answered connections: the waiting ones are accepted and answered in turn.
  const statuses: number[] = [];
  const pending = new Set(conns);
  await until(
    () => {
      for (const c of pending) {
        const [r] = parseResponses(c.received());
        if (r === undefined) continue;
        statuses.push(r.status);
        c.sock.destroy();
        pending.delete(c);
      }
      return pending.size === 0;
    },
    20_000,
    'every connection answered',
  );
  t.equal(statuses.length, 60, 'all 60 clients were answered');
  t.ok(statuses.every((s) => s === 200 || s === 503), `200, or 503 when no fd was left to open the file (${statuses.join(' ')})`);
  const errors = srv.out().split('\n').filter((l) => l.includes('accept EMFILE')).length;
  t.ok(errors < 20, `${errors} EMFILE messages: accepting pauses instead of spinning`);
  t.equal((await one(srv.port, GET('/'))).status, 200, 'serving normally again');
  t.equal((await srv.stop()).code, 0, 'SIGINT: exit 0');
});
