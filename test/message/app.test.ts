// ServerMessage + ClientMessage over loopback: the Real Python app
// protocol, one request per connection (Python's behaviour) and keep-alive.
import t, { type Test } from 'tap';
import { ServerMessage, ClientMessage } from '../../lib/message/index.js';
import { createRequest, type Frame } from '../../lib/protocol/index.js';
import { clientSelector, connecting, drive, startServer } from './helpers.js';

function appServer(t: Test, keepAlive = false) {
  return startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, { keepAlive }) });
}

t.test('search, miss, binary: one request per connection, then closed', async (t) => {
  const { server, port } = appServer(t);
  const sel = clientSelector(t);
  const cases: Array<[string, string, (f: Frame) => void]> = [
    ['search', 'morpheus', (f) => t.same(f.kind === 'json' && f.content, { result: 'Follow the white rabbit. 🐰' })],
    ['search', '🐶', (f) => t.same(f.kind === 'json' && f.content, { result: '🐾 Playing ball! 🏐' })],
    ['search', 'nobody', (f) => t.same(f.kind === 'json' && f.content, { result: 'No match for "nobody".' })],
    ['double', '100', (f) => {
      t.equal(f.kind, 'binary');
      t.equal(f.header.contentType, 'binary/custom-server-binary-type');
      t.equal((f.content as Buffer).toString(), 'First 10 bytes of request: double100');
    }],
  ];
  const clients = cases.map(([action, value, check]) => {
    const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest(action, value));
    let got = 0;
    c.on('response', (f) => {
      got++;
      check(f);
    });
    c.on('error', (e) => t.fail(`client error ${e.message}`));
    c.on('close', () => t.equal(got, 1, `${action} ${value}: one response`));
    return c;
  });
  await drive(sel, clients);
  t.ok(clients.every((c) => c.closed));
  t.equal(server.accepted, 4);
  t.equal(server.connections.size, 0, 'the server closed each connection after its reply');
});

t.test('the request frame is byte-identical to the Python client (2 + 103 + 41 bytes)', async (t) => {
  const { port } = appServer(t);
  const sel = clientSelector(t);
  const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest('search', 'morpheus'));
  c.on('request', (_spec, frame) => {
    t.equal(frame.length, 2 + 103 + 41);
    t.equal(frame.readUInt16BE(0), 103);
  });
  await drive(sel, [c]);
});

t.test('keep-alive: many pipelined requests on one connection, answered in order', async (t) => {
  const { server, port } = appServer(t, true);
  const sel = clientSelector(t);
  const names = ['morpheus', 'ring', '🐶', 'x1', 'x2', 'x3', 'x4', 'x5'];
  const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], names.map((n) => createRequest('search', n)));
  const results: string[] = [];
  c.on('response', (f) => results.push((f.content as { result: string }).result));
  c.on('error', (e) => t.fail(e.message));
  await drive(sel, [c]);
  t.equal(results.length, names.length);
  t.equal(results[0], 'Follow the white rabbit. 🐰');
  t.match(results[1], /Misty Mountains/);
  t.equal(results[3], 'No match for "x1".');
  t.equal(results[7], 'No match for "x5".');
  t.equal(server.accepted, 1);
});

t.test('keep-alive client: more requests on an open connection', async (t) => {
  const { port } = appServer(t, true);
  const sel = clientSelector(t);
  const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest('search', 'ring'), { keepAlive: true });
  const results: string[] = [];
  c.on('response', (f) => {
    results.push((f.content as { result: string }).result);
    if (results.length < 3) c.request(createRequest('search', `n${results.length}`));
    else c.close();
  });
  await drive(sel, [c]);
  t.equal(results.length, 3);
  t.equal(results[2], 'No match for "n2".');
});

t.test('without keep-alive, pipelined requests are all answered, then the connection closes', async (t) => {
  const { server, port } = appServer(t, false);
  const sel = clientSelector(t);
  const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], [createRequest('search', 'ring'), createRequest('search', 'morpheus')]);
  const results: string[] = [];
  c.on('response', (f) => results.push((f.content as { result: string }).result));
  c.on('error', (e) => t.fail(e.message));
  await drive(sel, [c]);
  t.equal(results.length, 2, 'not silently dropped (Python ignores the second request)');
  t.equal(server.accepted, 1);
});

t.test('a custom responder, answering later', async (t) => {
  const { port } = startServer(t, {
    createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, {
      respond: (req, message) => {
        setTimeout(() => message.respond({ contentType: 'text/json', contentEncoding: 'utf-8', content: { echo: req.content } }), 20);
        return null;
      },
    }),
  });
  const sel = clientSelector(t);
  const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest('search', 'later'));
  let content: unknown;
  c.on('response', (f) => (content = f.content));
  await drive(sel, [c]);
  t.same(content, { echo: { action: 'search', value: 'later' } });
});

t.test('a refused connection is the client\'s error, ECONNREFUSED', async (t) => {
  const { server, port } = appServer(t);
  server.close();
  const sel = clientSelector(t);
  const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest('search', 'x'));
  let err: Error | undefined;
  c.on('error', (e) => (err = e));
  await drive(sel, [c]);
  t.match(err, { code: 'ECONNREFUSED' });
  t.equal(c.error, err);
});
