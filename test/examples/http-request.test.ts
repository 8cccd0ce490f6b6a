// The pure parts of epoll-web-server, byte by byte: the incremental
// request parser (every split point of two pipelined requests, limits,
// every error status) and the target → file mapping (no way out of the
// root, redirects, Content-Type).
import t from 'tap';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_HEAD, RequestParser, type ParseResult } from '../../examples/common/http-request.js';
import { contentType, errorPage, resolveTarget, responseHead } from '../../examples/common/static-files.js';

function all(parser: RequestParser): ParseResult[] {
  const out: ParseResult[] = [];
  for (let r = parser.next(); r !== null; r = parser.next()) out.push(r);
  return out;
}

function parseOne(text: string): ParseResult | null {
  const p = new RequestParser();
  p.push(Buffer.from(text, 'latin1'));
  return p.next();
}

t.test('two pipelined requests, split at every byte', (t) => {
  const text = 'GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloHEAD /b%20c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = new RequestParser();
    const got: ParseResult[] = [];
    p.push(bytes.subarray(0, cut));
    got.push(...all(p));
    p.push(bytes.subarray(cut));
    got.push(...all(p));
    const summary = got.map((r) => (r.kind === 'request' ? `${r.request.method} ${r.request.target} ${r.request.version} ${r.request.keepAlive}` : `error ${r.error.status}`));
    if (summary.join('|') !== 'GET /a 1.1 true|HEAD /b%20c 1.0 true') {
      t.fail(`split at ${cut}: ${summary.join('|')}`);
      return t.end();
    }
  }
  t.pass(`all ${bytes.length + 1} split points give the same two requests (the body of the first skipped)`);
  t.end();
});

t.test('one byte at a time, line ends of every kind, leading blank lines', (t) => {
  for (const text of ['\r\nGET / HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1\n\n', 'GET / HTTP/1.1\nHost: x\n\r\n']) {
    const p = new RequestParser();
    const got: ParseResult[] = [];
    for (const b of Buffer.from(text)) {
      p.push(Buffer.from([b]));
      got.push(...all(p));
    }
    t.equal(got.length, 1, JSON.stringify(text));
    t.equal(got[0].kind === 'request' && got[0].request.target, '/', `${JSON.stringify(text)}: target /`);
    t.equal(p.buffered, 0, 'nothing left over');
  }
  t.end();
});

t.test('headers and persistence', (t) => {
  const r = parseOne('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a:  2 \r\nConnection: Keep-Alive, Close\r\n\r\n');
  t.equal(r?.kind, 'request');
  if (r?.kind !== 'request') return t.end();
  t.equal(r.request.headers.get('x-a'), '1, 2', 'repeated headers joined, names case-insensitive, values trimmed');
  t.equal(r.request.keepAlive, false, 'close wins');
  t.equal(r.request.line, 'GET / HTTP/1.1');
  const cases: Array<[string, boolean]> = [
    ['GET / HTTP/1.1\r\n\r\n', true],
    ['GET / HTTP/1.1\r\nConnection: close\r\n\r\n', false],
    ['GET / HTTP/1.0\r\n\r\n', false],
    ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true],
    ['GET / HTTP/1.9\r\n\r\n', true],
  ];
  for (const [text, keepAlive] of cases) {
    const c = parseOne(text);
    t.equal(c?.kind === 'request' && c.request.keepAlive, keepAlive, `${JSON.stringify(text)}: keep-alive ${keepAlive}`);
  }
  const same = parseOne('GET / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n');
  t.equal(same?.kind, 'request', 'the same Content-Length twice is accepted');
  t.end();
});

t.test('errors: the status to answer, then the parser is done', (t) => {
  const cases: Array<[string, number]> = [
    ['HELLO\r\n\r\n', 400],
    ['GET /\r\n\r\n', 400],
    ['G(T / HTTP/1.1\r\n\r\n', 400],
    ['GET / HTTP/1.1 x\r\n\r\n', 400],
    ['GET /\x01 HTTP/1.1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\n: empty name\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nA\x01: b\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nA: b\rc\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nContent-Length: 9999999999999999\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
    ['GET / HTTP/2.0\r\n\r\n', 505],
    ['GET / HTTP/0.9\r\n\r\n', 505],
    [`GET / HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD)}\r\n\r\n`, 431],
  ];
  for (const [text, status] of cases) {
    const p = new RequestParser();
    p.push(Buffer.from(text, 'latin1'));
    p.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const r = p.next();
    t.equal(r?.kind === 'error' && r.error.status, status, `${JSON.stringify(text.slice(0, 50))}: ${status}`);
    t.equal(p.next(), null, 'nothing after an error');
  }
  const endless = new RequestParser();
  endless.push(Buffer.alloc(MAX_HEAD, 0x61));
  t.equal(endless.next(), null, 'up to MAX_HEAD bytes without a blank line: wait for more');
  endless.push(Buffer.from('a'));
  const r = endless.next();
  t.equal(r?.kind === 'error' && r.error.status, 431, 'then 431');
  t.end();
});

t.test('resolveTarget: inside the root only', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'resolve-target-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  mkdirSync(join(root, 'd', 'e'), { recursive: true });
  mkdirSync(join(base, 'out'));
  writeFileSync(join(root, 'index.html'), 'i');
  writeFileSync(join(root, 'd', 'index.html'), 'd');
  writeFileSync(join(root, 'a b'), 'x');
  writeFileSync(join(base, 'out', 'secret'), 's');
  symlinkSync(join(base, 'out', 'secret'), join(root, 'out-link'));
  symlinkSync(join(base, 'out'), join(root, 'out-dir'));
  symlinkSync(join(root, 'index.html'), join(root, 'in-link'));
  symlinkSync(join(base, 'out', 'secret'), join(root, 'd', 'e', 'index.html'));
  const real = realpathSync(root);
  const kinds = (target: string): string => {
    const r = resolveTarget(real, target);
    return r.kind === 'file' ? `file ${r.path.slice(real.length)}` : r.kind === 'redirect' ? `redirect ${r.location}` : `error ${r.status}`;
  };
  const cases: Array<[string, string]> = [
    ['/', 'file /index.html'],
    ['/index.html?x#y', 'file /index.html'],
    ['/./index.html', 'file /index.html'],
    ['//index.html', 'file /index.html'],
    ['/a%20b', 'file /a b'],
    ['/d/', 'file /d/index.html'],
    ['/d', 'redirect /d/'],
    ['/d?q=1', 'redirect /d/?q=1'],
    ['/d/e/', 'error 403'],
    ['/in-link', 'file /index.html'],
    ['HTTP://h:1/d/', 'file /d/index.html'],
    ['http://h', 'file /index.html'],
    ['/../x', 'error 403'],
    ['/%2e%2e/x', 'error 403'],
    ['/d/..%2F..%2Fx', 'error 403'],
    ['/out-link', 'error 403'],
    ['/out-dir/secret', 'error 403'],
    ['/nope', 'error 404'],
    ['/index.html/x', 'error 404'],
    ['*', 'error 400'],
    ['x/y', 'error 400'],
    ['/%', 'error 400'],
    ['/%ff', 'error 400'],
    ['/a%00', 'error 400'],
  ];
  for (const [target, expected] of cases) t.equal(kinds(target), expected, `${target} → ${expected}`);
  t.end();
});

t.test('Content-Type, error pages, response heads', (t) => {
  t.equal(contentType('/x/Logo.PNG'), 'image/png', 'extension case-insensitive');
  t.equal(contentType('/x/a.html'), 'text/html; charset=utf-8');
  t.equal(contentType('/x/README'), 'application/octet-stream');
  t.match(errorPage(404).toString(), /<h1>404 Not Found<\/h1><p>file not found, 请输入正确的url/);
  t.match(errorPage(400, '<script>').toString(), /&#60;script&#62;/, 'details are escaped');
  const head = responseHead(200, [['Content-Length', 3]]).toString();
  t.match(head, /^HTTP\/1\.1 200 OK\r\nServer: node-selectors-epoll-web-server\r\nDate: .+ GMT\r\nContent-Length: 3\r\n\r\n$/);
  t.end();
});
