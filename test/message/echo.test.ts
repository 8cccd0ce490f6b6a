// EchoMessage (multiconn server and client) over loopback, write interest
// only while output is queued, and the high-water mark.
import t from 'tap';
import { EchoMessage } from '../../lib/message/index.js';
import { Socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF, socketpair } from '../../lib/socket/index.js';
import { EVENT_READ, EVENT_WRITE, SelectorKey, type BaseSelector } from '../../selectors/index.js';
import { clientSelector, connecting, drive, ENGINE, pumpUntil, startServer, until } from './helpers.js';

t.test('multiconn: 20 echo clients, two messages each, all echoed', async (t) => {
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new EchoMessage(sel, sock, addr) });
  const sel = clientSelector(t);
  const clients = Array.from({ length: 20 }, (_, i) => {
    const messages = [`Message 1 from client ${i}.`, `Message 2 from client ${i}.`];
    const c = new EchoMessage(sel, connecting(port), ['127.0.0.1', port], { messages });
    const got: Buffer[] = [];
    const sent: Buffer[] = [];
    c.on('send', (m) => sent.push(m));
    c.on('data', (d) => got.push(d));
    c.on('error', (e) => t.fail(e.message));
    c.on('close', () => {
      t.equal(Buffer.concat(got).toString(), messages.join(''), `client ${i} got its bytes back`);
      t.equal(sent.length, 2);
    });
    t.ok(c.isClient);
    t.equal(c.expectedBytes, Buffer.byteLength(messages.join('')));
    return c;
  });
  await drive(sel, clients);
  t.ok(clients.every((c) => c.bytesReceived === c.expectedBytes && c.bytesSent === c.expectedBytes));
  await until(() => server.connections.size === 0);
  t.equal(server.accepted, 20);
});

const SELECTOR_ONLY = { skip: ENGINE === 'uring' ? 'selector readiness events (the uring engine has none)' : false };

t.test("MessageServer 'dispatch': each ready event of the server, listening socket first", SELECTOR_ONLY, async (t) => {
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new EchoMessage(sel, sock, addr) });
  const seen: Array<[owner: string, mask: number]> = [];
  server.on('dispatch', (key, mask) => {
    seen.push([key.data === server ? 'server' : key.data instanceof EchoMessage && server.connections.has(key.data) ? 'connection' : 'other', mask]);
  });
  const sel = clientSelector(t);
  const client = new EchoMessage(sel, connecting(port), ['127.0.0.1', port], { messages: ['hi'] });
  await drive(sel, [client]);
  await until(() => server.connections.size === 0);
  t.same(seen[0], ['server', EVENT_READ], 'the accept');
  // The echo was read right after accept(); the client's close comes as an event.
  t.ok(seen.some(([owner, mask]) => owner === 'connection' && (mask & EVENT_READ) !== 0), "the connection's EOF");
  t.notOk(seen.some(([owner]) => owner === 'other'));
  const count = seen.length;
  const foreign = new SelectorKey<unknown>(99, 99, EVENT_READ, 'not the server');
  t.equal(server.dispatch(foreign, EVENT_READ), false, 'a key of someone else');
  t.equal(seen.length, count, 'no event for it');
});

t.test('write interest only while output is queued; reading pauses above the high-water mark', SELECTOR_ONLY, async (t) => {
  let serverSide: EchoMessage | undefined;
  const { server, port } = startServer(t, {
    createMessage: (sel, sock, addr) => {
      sock.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
      serverSide = new EchoMessage(sel, sock, addr, { highWaterMark: 64 * 1024 });
      return serverSide;
    },
  });
  // A peer that sends and never reads: the echo queue fills.
  const peer = new Socket(AF_INET, SOCK_STREAM);
  t.teardown(() => peer.close());
  peer.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
  peer.connect(['127.0.0.1', port]);
  await until(() => serverSide !== undefined);
  const key = () => (server.selector as BaseSelector<unknown>).getKey(serverSide!.sock);
  t.equal(key().events, EVENT_READ, 'idle: READ only, no busy loop on writability');
  peer.setblocking(false);
  const block = Buffer.alloc(16 * 1024, 0x61);
  let pushed = 0;
  const start = performance.now();
  while (performance.now() - start < 5000 && pushed < 8 * 1024 * 1024) {
    const n = peer.send(block);
    if (n === null) {
      if (serverSide!.readPaused) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
      continue;
    }
    pushed += n;
  }
  await until(() => serverSide!.readPaused);
  t.ok(serverSide!.readPaused, 'stopped reading from a peer that does not read');
  t.ok(serverSide!.pendingBytes <= 64 * 1024 + 64 * 1024 * 16, `queue bounded (${serverSide!.pendingBytes} bytes)`);
  t.equal(key().events, EVENT_WRITE, 'waiting to write only');
  // Drain from the peer: the server resumes reading and echoes everything.
  let back = 0;
  const buf = Buffer.alloc(65536);
  const deadline = performance.now() + 20_000;
  while (back < pushed && performance.now() < deadline) {
    const n = peer.recvInto(buf);
    if (n === null) await new Promise((resolve) => setTimeout(resolve, 1));
    else if (n === 0) break;
    else back += n;
  }
  t.equal(back, pushed, 'every byte echoed once the peer reads');
  await until(() => !serverSide!.readPaused && serverSide!.pendingBytes === 0);
  t.equal(key().events, EVENT_READ);
});

t.test('a client whose peer closes early still closes cleanly', async (t) => {
  const { server, port } = startServer(t, {
    createMessage: (sel, sock, addr) => {
      const m = new EchoMessage(sel, sock, addr);
      m.on('data', () => m.close());
      return m;
    },
  });
  const sel = clientSelector(t);
  const c = new EchoMessage(sel, connecting(port), ['127.0.0.1', port], { messages: ['hello'] });
  await drive(sel, [c]);
  t.ok(c.closed);
  t.equal(c.bytesReceived, 0);
  t.equal(server.accepted, 1);
});

t.test("the server side emits 'data' for a listener added any way, and only while one listens", async (t) => {
  const sel = clientSelector(t);
  // One echo Message per way of adding a listener, each over a socketpair.
  const ways: Array<[string, (m: EchoMessage, fn: (d: Buffer) => void) => void]> = [
    ['on', (m, fn) => m.on('data', fn)],
    ['addListener', (m, fn) => m.addListener('data', fn)],
    ['prependListener', (m, fn) => m.prependListener('data', fn)],
    ['once', (m, fn) => m.once('data', fn)],
    ['prependOnceListener', (m, fn) => m.prependOnceListener('data', fn)],
    ['none', () => undefined],
  ];
  for (const [way, add] of ways) {
    const [a, b] = socketpair();
    t.teardown(() => b.close());
    a.setblocking(false);
    b.settimeout(5);
    const m = new EchoMessage(sel, a, '');
    t.teardown(() => m.close());
    const got: string[] = [];
    const listener = (d: Buffer): void => {
      got.push(d.toString());
    };
    add(m, listener);
    let total = 0;
    const roundTrip = (text: string): void => {
      b.sendall(text);
      total += text.length;
      pumpUntil(sel, () => m.bytesReceived >= total);
      t.equal(b.recv(64)?.toString(), text, `${way}: echoed`);
    };
    roundTrip('one');
    roundTrip('two');
    const once = way === 'once' || way === 'prependOnceListener';
    t.same(got, way === 'none' ? [] : once ? ['one'] : ['one', 'two'], `${way}: the 'data' events`);
    m.removeListener('data', listener);
    roundTrip('three');
    t.equal(got.includes('three'), false, `${way}: none after the listener is removed`);
  }
});
