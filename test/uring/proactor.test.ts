// The proactor over real loopback TCP and socketpairs, on both of its
// engines (io_uring where the machine allows it, and the epoll fallback):
// echo with 10 connections verifying every byte (sends larger than a
// connection's native chunk, receive buffers smaller than a message),
// close from inside a data callback, fd reuse after close with stale
// events dropped, run()/stop(), start()/stop() in Node's loop, back-pressure
// and water marks, pause/resume, half-close, connecting sockets, defer(),
// accept errors, and no fd left behind (proactor-processes.test.ts has the
// tests that need a child process). The ring-specific tests (CQ
// overflow, buffer ring, slot generations) run on io_uring only, and are
// skipped (with the reason) where io_uring cannot be used.
import t from 'tap';
import { readdirSync } from 'node:fs';
import {
  Proactor, packUserData, KIND_CANCEL, KIND_RECV, type Connection, type ProactorBackend, type ProactorConstructorOptions,
} from '../../lib/uring/proactor.js';
import { NO_URING_ENV, uringSupport } from '../../lib/uring/ring.js';
import { Socket, createConnection, createServer, socketpair } from '../../lib/socket/index.js';

const support = uringSupport();
const fdCount = (): number => readdirSync('/proc/self/fd').length;

/** Bytes that differ per connection and position (so a mixed-up stream fails). */
function payload(seed: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Turn until `done()` or the deadline (every test loop is bounded). */
function turnUntil(p: Proactor, done: () => boolean, ms = 10_000): void {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) p.turn(100);
}

const backends: ProactorBackend[] = support.ok ? ['io_uring', 'epoll'] : ['epoll'];
if (!support.ok) t.comment(`io_uring unavailable on kernel ${support.kernel}: ${support.reason}; io_uring tests skipped`);

/** Echo clients over node:net, each sending `size` bytes and checking every one comes back. */
async function netEchoes(port: number, count: number, size: number): Promise<boolean[]> {
  const { connect } = await import('node:net');
  const one = (i: number): Promise<boolean> => new Promise((resolve, reject) => {
    const data = payload(100 + i, size);
    const parts: Buffer[] = [];
    let n = 0;
    const sock = connect(port, '127.0.0.1', () => sock.write(data));
    sock.on('data', (d) => {
      parts.push(d);
      n += d.length;
      if (n >= data.length) { sock.end(); resolve(Buffer.concat(parts).equals(data)); }
    });
    sock.on('error', reject);
  });
  return Promise.all(Array.from({ length: count }, (_, i) => one(i)));
}

for (const backend of backends) {
  const opts = (o: ProactorConstructorOptions = {}): ProactorConstructorOptions => ({ ...o, backend });

  t.test(`${backend}: echo over loopback: 10 connections, every byte verified`, async (t) => {
    const before = fdCount();
    const p = new Proactor(opts({ bufferCount: 64, bufferSize: 1024, sendChunkSize: 4096 }));
    t.equal(p.backend, backend);
    const server = createServer(['127.0.0.1', 0], { backlog: 128 });
    const port = server.getsockname()[1] as number;
    const serverConns: Connection[] = [];
    p.listen(server.detach(), (conn) => {
      serverConns.push(conn);
      conn.ondata = (data) => { conn.send(data); };
    });
    const n = 10;
    const size = 50_000;
    const got: Buffer[][] = Array.from({ length: n }, () => []);
    const received = new Array<number>(n).fill(0);
    let verified = 0;
    let clientsClosed = 0;
    for (let i = 0; i < n; i++) {
      const sock = createConnection(['127.0.0.1', port]);
      const conn = p.attach(sock.detach());
      const data = payload(i + 1, size);
      conn.ondata = (chunk) => {
        got[i].push(Buffer.from(chunk));
        received[i] += chunk.length;
        if (received[i] === size) {
          t.ok(Buffer.concat(got[i]).equals(data), `connection ${i}: every byte echoed in order`);
          verified++;
          conn.close();
        }
      };
      conn.onclose = (err) => { t.equal(err, null); t.equal(conn.fd, -1, 'fd is -1 in onclose'); clientsClosed++; };
      // In pieces of odd sizes, more than the 4 KiB chunk holds: staged and queued.
      for (let off = 0; off < size; off += 7001) conn.send(data.subarray(off, Math.min(size, off + 7001)));
    }
    turnUntil(p, () => verified === n && clientsClosed === n && p.connections === 0);
    t.equal(verified, n);
    t.equal(serverConns.length, n, 'every connection accepted');
    t.equal(p.connections, 0, 'server side closed on EOF');
    t.equal(p.stats.accepted, n);
    t.equal(p.stats.bytesIn, 2 * n * size, 'bytes in: server and client sides');
    t.equal(p.stats.bytesOut, 2 * n * size, 'bytes out: server and client sides');
    if (backend === 'io_uring') {
      t.equal(p.buffers!.available, 64, 'every receive buffer back with the kernel');
      t.ok(p.ring!.stats.enters < p.stats.bytesIn / 1024, 'fewer enters than receive buffers filled');
    } else {
      t.equal(p.ring, null, 'no ring on epoll');
      t.equal(p.buffers, null, 'no buffer ring on epoll');
    }
    p.close();
    t.equal(fdCount(), before, 'no fd left behind (ring or epoll fd, listener, sockets)');
  });

  t.test(`${backend}: close() inside a data callback: no callback after it; a reused fd gets only its own bytes`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 16 }));
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const first = p.attach(b.detach());
    const oldFd = first.fd;
    const seen: string[] = [];
    let closed = false;
    first.ondata = (data) => {
      seen.push(Buffer.from(data).toString());
      first.close();
      t.ok(first.isClosing, 'isClosing at once');
    };
    first.onclose = () => { closed = true; };
    const sent = '0123456789abcdef'.repeat(4);
    a.sendall(Buffer.from(sent));
    turnUntil(p, () => closed);
    t.ok(closed, 'closed');
    t.equal(seen.length, 1, 'one data callback, none after close()');
    t.ok(sent.startsWith(seen[0]), 'the first bytes');
    t.throws(() => first.send(Buffer.from('x')), { code: 'ERR_URING_CLOSED' });
    t.equal(first.fd, -1);
    a.close();

    const [c, d] = socketpair();
    const mine = c.fileno() === oldFd ? c : d;
    const peer = mine === c ? d : c;
    t.equal(mine.fileno(), oldFd, 'the kernel handed out the closed fd number again');
    const second = p.attach(mine.detach());
    const got: string[] = [];
    second.ondata = (data) => { got.push(Buffer.from(data).toString()); };
    peer.sendall(Buffer.from('fresh'));
    turnUntil(p, () => got.join('') === 'fresh');
    t.same(got.join(''), 'fresh', 'the new connection gets only its own bytes');
    t.same(seen.length, 1, 'the old callback never ran again');
    second.close();
    peer.close();
  });

  // epoll closes the fd at once (io_uring closes it with the ring's next submit):
  // an event already reported for the old fd must not reach the new one.
  if (backend === 'epoll') t.test('epoll: an fd closed and reused within one turn: its pending event is not delivered to the new connection', async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 1024 }));
    t.teardown(() => p.close());
    const [a1, b1] = socketpair();
    const [a2, b2] = socketpair();
    const c1 = p.attach(b1.detach());
    const c2 = p.attach(b2.detach());
    const log: string[] = [];
    let reused: Connection | null = null;
    let reusedPeer: Socket | null = null;
    const onFirst = (me: Connection, other: Connection) => (d: Buffer): void => {
      log.push(`${me === c1 ? 'c1' : 'c2'}:${d.toString()}`);
      if (reused !== null) return;
      // Close the other one (its bytes are waiting too) and take its fd number at once.
      const otherFd = other.fd;
      other.close();
      const [x, y] = socketpair();
      const mine = x.fileno() === otherFd ? x : y.fileno() === otherFd ? y : null;
      if (mine === null) { x.close(); y.close(); return; }
      reusedPeer = mine === x ? y : x;
      reused = p.attach(mine.detach());
      reused.ondata = (data) => { log.push(`reused:${data.toString()}`); };
    };
    c1.ondata = onFirst(c1, c2);
    c2.ondata = onFirst(c2, c1);
    a1.sendall(Buffer.from('one'));
    a2.sendall(Buffer.from('two'));
    turnUntil(p, () => log.length >= 1, 5000);
    turnUntil(p, () => false, 200);
    t.equal(log.length, 1, `only the first connection's bytes were delivered (${log.join(', ')})`);
    t.ok(reused !== null, 'the closed fd number was reused');
    t.ok(p.stats.dropped >= 1, `the stale event was dropped (${p.stats.dropped})`);
    (reusedPeer as Socket | null)?.sendall(Buffer.from('new'));
    turnUntil(p, () => log.length >= 2);
    t.equal(log[1], 'reused:new', 'the new connection gets its own bytes');
    for (const s of [a1, a2, reusedPeer as Socket | null]) s?.close();
  });

  t.test(`${backend}: run() returns after stop(); end() flushes before closing`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 8, bufferSize: 256 }));
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    const big = payload(99, 1_000_000);
    conn.send(big);
    conn.end();
    t.ok(conn.isClosing);
    t.throws(() => conn.send(Buffer.from('late')), { code: 'ERR_URING_CLOSED' });
    const reader = p.attach(a.detach());
    const parts: Buffer[] = [];
    let total = 0;
    reader.ondata = (d) => { parts.push(Buffer.from(d)); total += d.length; };
    reader.onend = () => { reader.close(); };
    reader.onclose = () => p.stop();
    p.run();
    t.equal(total, big.length);
    t.ok(Buffer.concat(parts).equals(big), 'end() sent everything before closing');
    t.equal(p.connections, 0);
  });

  t.test(`${backend}: a peer that resets surfaces as an error on close, not a crash`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 8, bufferSize: 256 }));
    t.teardown(() => p.close());
    const server = createServer(['127.0.0.1', 0]);
    const port = server.getsockname()[1] as number;
    let serverErr: Error | null | undefined;
    p.listen(server.detach(), (conn) => {
      conn.onclose = (err) => { serverErr = err; };
    });
    const client = createConnection(['127.0.0.1', port]);
    turnUntil(p, () => p.stats.accepted === 1);
    // SO_LINGER {on, 0}: close() sends a RST.
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    client.setsockopt(1, 13, linger);
    client.close();
    turnUntil(p, () => serverErr !== undefined);
    t.ok(serverErr === null || (serverErr as NodeJS.ErrnoException).code === 'ECONNRESET',
      `closed cleanly or with ECONNRESET (${String(serverErr)})`);
    t.equal(p.connections, 0);
  });

  t.test(`${backend}: send() to a peer that is gone: no throw, the connection closes with EPIPE`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 8, bufferSize: 256 }));
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    let ended = false;
    let closedWith: Error | null | undefined;
    conn.onend = () => { ended = true; }; // stay open after the peer's EOF
    conn.onclose = (err) => { closedWith = err; };
    a.close();
    turnUntil(p, () => ended);
    t.ok(ended, 'onend');
    t.doesNotThrow(() => { conn.send(Buffer.from('into the void')); conn.send(Buffer.from('and again')); });
    turnUntil(p, () => closedWith !== undefined);
    t.match(closedWith, { code: /^(EPIPE|ECONNRESET)$/, syscall: 'send' });
    t.equal(conn.fd, -1);
    t.equal(p.connections, 0);
  });

  t.test(`${backend}: start(): the proactor runs in Node's loop beside a ticking timer; stop() and start() again`, async (t) => {
    const before = fdCount();
    const p = new Proactor(opts({ bufferCount: 64, bufferSize: 2048 }));
    const server = createServer(['127.0.0.1', 0], { backlog: 128 });
    const port = server.getsockname()[1] as number;
    p.listen(server.detach(), (conn) => { conn.ondata = (d) => { conn.send(d); }; });
    p.start();
    let ticks = 0;
    const ticker = setInterval(() => { ticks++; }, 2);
    const guard = setTimeout(() => p.close(), 20_000);
    const results = await netEchoes(port, 10, 30_000);
    t.same(results, new Array(10).fill(true), 'every byte echoed to every client');
    t.ok(ticks > 0, `timers ran meanwhile (${ticks} ticks)`);
    // The server side sees the clients' FIN and closes, in the loop.
    let deadline = Date.now() + 5000;
    while (p.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.equal(p.connections, 0);

    // Stopped: a client connects (the kernel's backlog) but nothing answers it.
    p.stop();
    const { connect } = await import('node:net');
    const sock = connect(port, '127.0.0.1');
    let echoed = '';
    sock.on('data', (d) => { echoed += d.toString(); });
    sock.on('error', () => {});
    sock.write('ping');
    await new Promise((r) => setTimeout(r, 200));
    t.equal(echoed, '', 'nothing handled while stopped');
    p.start();
    deadline = Date.now() + 5000;
    while (echoed !== 'ping' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.equal(echoed, 'ping', 'handled after start() again');
    sock.destroy();
    clearTimeout(guard);
    clearInterval(ticker);
    p.close();
    await new Promise((r) => setTimeout(r, 50));
    t.equal(fdCount(), before, 'no fd left behind (ring or epoll fd, eventfd, listener)');
  });

  t.test(`${backend}: back-pressure: send() returns false above the high-water mark, ondrain at the low-water mark`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 4096, sendChunkSize: 4096, highWaterMark: 8192 }));
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const writer = p.attach(a.detach());
    const reader = p.attach(b.detach());
    t.equal(writer.highWaterMark, 8192, 'the proactor default');
    t.equal(writer.lowWaterMark, 0);
    let drained = 0;
    writer.ondrain = () => { drained++; };
    const parts: Buffer[] = [];
    let got = 0;
    reader.ondata = (d) => { parts.push(Buffer.from(d)); got += d.length; };
    // More than the kernel's socket buffers hold, so that some is queued on either engine.
    const big = payload(5, 1 << 20);
    t.equal(writer.send(big), false, 'over the mark');
    t.ok(writer.bufferedAmount > 8192, `buffered ${writer.bufferedAmount}`);
    turnUntil(p, () => got === big.length && drained > 0);
    t.equal(got, big.length);
    t.ok(Buffer.concat(parts).equals(big), 'in order and complete');
    t.equal(drained, 1, 'ondrain once');
    t.equal(writer.bufferedAmount, 0);
    t.equal(writer.send(Buffer.from('small')), true, 'under the mark again');

    {
      // Per-connection marks: ondrain once the buffered bytes fall to
      // lowWaterMark (not 0). A small kernel send buffer and a paused
      // reader keep the bytes with the proactor.
      const [x, y] = socketpair();
      x.setsockopt(1, 7, 4096); // SOL_SOCKET, SO_SNDBUF
      const w = p.attach(x.detach());
      const r = p.attach(y.detach());
      let total = 0;
      r.ondata = (d) => { total += d.length; };
      r.pause();
      w.highWaterMark = 64 * 1024;
      w.lowWaterMark = 32 * 1024;
      t.equal(w.highWaterMark, 64 * 1024);
      let bufferedAtDrain = -1;
      w.ondrain = () => { bufferedAtDrain = w.bufferedAmount; };
      let sends = 0;
      while (w.send(payload(6 + sends, 16 * 1024)) && sends < 1000) sends++;
      sends++;
      t.ok(sends < 1000, `send() returned false after ${sends} sends`);
      turnUntil(p, () => false, 100);
      t.ok(w.bufferedAmount > 32 * 1024, `still above the low-water mark while the reader is paused (${w.bufferedAmount})`);
      t.equal(bufferedAtDrain, -1, 'no ondrain while the reader is paused');
      r.resume();
      turnUntil(p, () => bufferedAtDrain >= 0 && total === sends * 16 * 1024);
      t.ok(bufferedAtDrain >= 0 && bufferedAtDrain <= 32 * 1024, `ondrain with ${bufferedAtDrain} bytes still buffered`);
      t.equal(total, sends * 16 * 1024, 'every byte arrived');
    }
  });

  t.test(`${backend}: maxConnections: a connection beyond the limit is closed at once`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 8, bufferSize: 256, maxConnections: 1 }));
    t.teardown(() => p.close());
    const server = createServer(['127.0.0.1', 0]);
    const port = server.getsockname()[1] as number;
    const accepted: Connection[] = [];
    p.listen(server.detach(), (conn) => { accepted.push(conn); });
    const first = createConnection(['127.0.0.1', port]);
    turnUntil(p, () => accepted.length === 1);
    const second = createConnection(['127.0.0.1', port]);
    // The second is accepted by the kernel, then closed by the proactor: its recv sees EOF.
    let eof = false;
    const deadline = Date.now() + 5000;
    second.setblocking(false);
    while (!eof && Date.now() < deadline) {
      p.turn(50);
      try { eof = second.recv(10)?.length === 0; } catch { eof = true; }
    }
    t.ok(eof, 'the extra connection was closed');
    t.equal(accepted.length, 1);
    t.equal(p.stats.accepted, 1);
    first.close();
    second.close();
  });

  t.test(`${backend}: pause() stops delivery until resume(); nothing is lost`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 1024 }));
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const reader = p.attach(b.detach());
    const parts: Buffer[] = [];
    reader.ondata = (d) => { parts.push(Buffer.from(d)); };
    p.turn(0);
    reader.pause();
    t.ok(reader.isPaused);
    turnUntil(p, () => false, 100); // io_uring: the cancel completes
    const data = payload(3, 5000);
    a.sendall(data);
    turnUntil(p, () => false, 200);
    t.equal(parts.length, 0, 'nothing delivered while paused');
    reader.resume();
    t.notOk(reader.isPaused);
    turnUntil(p, () => Buffer.concat(parts).length >= data.length);
    t.ok(Buffer.concat(parts).equals(data), 'everything delivered after resume');
    // Pause and resume within one turn.
    reader.pause();
    reader.resume();
    p.turn(0);
    parts.length = 0;
    a.sendall(Buffer.from('after'));
    turnUntil(p, () => parts.length > 0);
    t.equal(Buffer.concat(parts).toString(), 'after');
    // Paused from inside a data callback: the rest waits for resume().
    parts.length = 0;
    reader.ondata = (d) => { parts.push(Buffer.from(d)); reader.pause(); };
    a.sendall(payload(4, 200_000));
    turnUntil(p, () => parts.length > 0);
    turnUntil(p, () => false, 100);
    const whilePaused = Buffer.concat(parts).length;
    t.ok(whilePaused < 200_000, `delivery stopped after pause() in the callback (${whilePaused} bytes)`);
    reader.ondata = (d) => { parts.push(Buffer.from(d)); };
    reader.resume();
    turnUntil(p, () => Buffer.concat(parts).length >= 200_000);
    t.ok(Buffer.concat(parts).equals(payload(4, 200_000)), 'the rest after resume(), in order');
    a.close();
  });

  t.test(`${backend}: shutdownWrite(): the peer reads EOF after the queued bytes; receiving goes on`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 1024 }));
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    const got: Buffer[] = [];
    let ended = false;
    let closedWith: Error | null | undefined;
    conn.ondata = (d) => { got.push(Buffer.from(d)); };
    conn.onend = () => { ended = true; conn.close(); };
    conn.onclose = (err) => { closedWith = err; };
    const data = payload(8, 300_000);
    conn.send(data);
    conn.shutdownWrite();
    conn.shutdownWrite(); // idempotent
    t.notOk(conn.isClosing, 'a half-close is not closing');
    // The peer reads everything, then EOF.
    a.setblocking(false);
    const read: Buffer[] = [];
    let eof = false;
    const deadline = Date.now() + 10_000;
    while (!eof && Date.now() < deadline) {
      p.turn(10);
      for (let i = 0; i < 64; i++) {
        const chunk = a.recv(65536);
        if (chunk === null) break;
        if (chunk.length === 0) { eof = true; break; }
        read.push(chunk);
      }
    }
    t.ok(eof, 'the peer saw EOF');
    t.ok(Buffer.concat(read).equals(data), 'after every queued byte');
    // Our side still receives.
    a.setblocking(true);
    a.sendall(Buffer.from('still listening'));
    turnUntil(p, () => Buffer.concat(got).toString() === 'still listening');
    t.equal(Buffer.concat(got).toString(), 'still listening');
    t.notOk(ended);
    a.close();
    turnUntil(p, () => closedWith !== undefined);
    t.ok(ended, 'onend once the peer closed');
    t.equal(closedWith, null);
  });

  t.test(`${backend}: attach({ connecting: true }): onconnect(0), bytes sent meanwhile go out; a refused connect closes with ECONNREFUSED`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 1024 }));
    t.teardown(() => p.close());
    const server = createServer(['127.0.0.1', 0], { backlog: 16 });
    const port = server.getsockname()[1] as number;
    p.listen(server.detach(), (conn) => { conn.ondata = (d) => { conn.send(d); }; });
    const sock = new Socket();
    sock.setblocking(false);
    const errno = sock.connectEx(['127.0.0.1', port]);
    t.ok(errno === 0 || errno === 115, `connect under way (${errno})`);
    const conn = p.attach(sock.detach(), { connecting: true });
    const events: string[] = [];
    let echoed = '';
    conn.onconnect = (e) => { events.push(`connect ${e}`); };
    conn.ondata = (d) => { echoed += d.toString(); if (echoed === 'early bird') conn.close(); };
    conn.onclose = (err) => { events.push(`close ${err}`); };
    t.equal(conn.send(Buffer.from('early ')), true, 'send() before connected is queued');
    conn.send(Buffer.from('bird'));
    turnUntil(p, () => events.length === 2);
    t.same(events, ['connect 0', 'close null']);
    t.equal(echoed, 'early bird');

    // A port nobody listens on: a non-blocking connect, refused later.
    const probe = createServer(['127.0.0.1', 0]);
    const closedPort = probe.getsockname()[1] as number;
    probe.close();
    const refused = new Socket();
    refused.setblocking(false);
    const e2 = refused.connectEx(['127.0.0.1', closedPort]);
    t.ok(e2 === 115 || e2 === 111, `EINPROGRESS or ECONNREFUSED at once (${e2})`);
    const bad = p.attach(refused.detach(), { connecting: true });
    let connectErrno = -1;
    let closeErr: Error | null | undefined;
    bad.onconnect = (e) => { connectErrno = e; };
    bad.onclose = (err) => { closeErr = err; };
    bad.send(Buffer.from('never sent'));
    turnUntil(p, () => closeErr !== undefined);
    t.equal(connectErrno, 111, 'onconnect(ECONNREFUSED)');
    t.match(closeErr, { code: 'ECONNREFUSED', syscall: 'connect' });
    t.equal(bad.fd, -1);
  });

  t.test(`${backend}: defer(): after this turn's data callbacks, in order, before waiting again`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 16, bufferSize: 1024 }));
    t.teardown(() => p.close());
    const pairs = [socketpair(), socketpair(), socketpair()];
    let turnNo = 0;
    const log: Array<[number, string]> = [];
    pairs.forEach(([, b], i) => {
      const conn = p.attach(b.detach());
      conn.ondata = () => {
        log.push([turnNo, `data ${i}`]);
        p.defer(() => {
          log.push([turnNo, `deferred ${i}`]);
          p.defer(() => { log.push([turnNo, `nested ${i}`]); });
        });
      };
    });
    for (const [a] of pairs) a.sendall(Buffer.from('x'));
    const deadline = Date.now() + 5000;
    while (log.filter(([, s]) => s.startsWith('nested')).length < 3 && Date.now() < deadline) {
      turnNo++;
      p.turn(100);
    }
    const kinds = log.map(([, s]) => s.split(' ')[0]);
    t.equal(kinds.filter((k) => k === 'nested').length, 3, 'every callback ran');
    for (let i = 1; i < log.length; i++) {
      const [tp, sp] = log[i - 1];
      const [tn, sn] = log[i];
      if (tn === tp) t.ok(!(sn.startsWith('data') && !sp.startsWith('data')), `no data callback after deferred work in turn ${tn}`);
    }
    for (let i = 0; i < 3; i++) {
      const d = log.find(([, s]) => s === `deferred ${i}`)!;
      const n = log.find(([, s]) => s === `nested ${i}`)!;
      const data = log.find(([, s]) => s === `data ${i}`)!;
      t.equal(d[0], data[0], `deferred ${i} ran in the turn of its data callback`);
      t.equal(n[0], d[0] + 1, `a defer() from deferred work runs in the next turn`);
    }
    const order = log.filter(([, s]) => s.startsWith('deferred')).map(([, s]) => s);
    const dataOrder = log.filter(([, s]) => s.startsWith('data')).map(([, s]) => s.replace('data', 'deferred'));
    t.same(order, dataOrder, 'first deferred, first run');
    // Deferred work keeps a turn from waiting: a long timeout returns at once.
    let ran = false;
    p.defer(() => { ran = true; });
    const t0 = Date.now();
    p.turn(5000);
    t.ok(ran);
    t.ok(Date.now() - t0 < 4000, 'the turn did not wait for its timeout');
    for (const [a] of pairs) a.close();
  });

  t.test(`${backend}: close() closes every connection and listener (onclose runs) and leaves no fd`, async (t) => {
    const before = fdCount();
    const p = new Proactor(opts({ bufferCount: 8, bufferSize: 256 }));
    const server = createServer(['127.0.0.1', 0]);
    const port = server.getsockname()[1] as number;
    const handle = p.listen(server.detach(), () => {});
    t.ok(handle.fd >= 0);
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    const client = createConnection(['127.0.0.1', port]);
    turnUntil(p, () => p.stats.accepted === 1);
    let closes = 0;
    conn.onclose = (err) => { t.equal(err, null); closes++; };
    t.equal(p.connections, 2);
    p.close();
    p.close(); // idempotent
    t.equal(closes, 1, 'onclose ran within close()');
    t.equal(conn.fd, -1);
    t.equal(handle.fd, -1, 'the listener is closed');
    t.equal(p.connections, 0);
    t.throws(() => p.turn(0), { code: 'ERR_URING_CLOSED' });
    t.throws(() => p.defer(() => {}), { code: 'ERR_URING_CLOSED' });
    t.throws(() => p.attach(0), { code: 'ERR_URING_CLOSED' });
    a.close();
    client.close();
    t.equal(fdCount(), before, 'no fd left behind');
  });

  t.test(`${backend}: a listener closed by its handle stops accepting; connections stay`, async (t) => {
    const p = new Proactor(opts({ bufferCount: 8, bufferSize: 256 }));
    t.teardown(() => p.close());
    const server = createServer(['127.0.0.1', 0]);
    const port = server.getsockname()[1] as number;
    const accepted: Connection[] = [];
    const handle = p.listen(server.detach(), (conn) => { accepted.push(conn); conn.ondata = (d) => { conn.send(d); }; });
    const client = createConnection(['127.0.0.1', port]);
    turnUntil(p, () => accepted.length === 1);
    handle.close();
    handle.close();
    turnUntil(p, () => false, 50);
    t.equal(handle.fd, -1);
    t.throws(() => createConnection(['127.0.0.1', port]), { code: 'ECONNREFUSED' }, 'nobody listens any more');
    client.settimeout(5);
    client.sendall(Buffer.from('still here'));
    let echo = '';
    client.setblocking(false);
    const deadline = Date.now() + 5000;
    while (echo !== 'still here' && Date.now() < deadline) {
      p.turn(20);
      echo += client.recv(100)?.toString() ?? '';
    }
    t.equal(echo, 'still here', 'the accepted connection is still served');
    client.close();
  });

  // (The io_uring engine re-arms its ACCEPT at once after such a failure.)
  if (backend === 'epoll') t.test('epoll: a listener on a socket that is not listening reports EINVAL and backs off', async (t) => {
    const p = new Proactor(opts());
    t.teardown(() => p.close());
    const notListening = new Socket();
    notListening.bind(['127.0.0.1', 0]);
    const errnos: number[] = [];
    p.listen(notListening.detach(), () => t.fail('nothing to accept'), (errno) => { errnos.push(errno); });
    turnUntil(p, () => false, 500);
    t.ok(errnos.length >= 1, `accept failed (${errnos.length} times)`);
    t.ok(errnos.every((e) => e === 22), 'with EINVAL');
    t.ok(errnos.length <= 10, 'at most one failed accept per 100 ms back-off');
    t.equal(p.stats.acceptErrors, errnos.length);
  });

}

t.test('the backend choice: forced fallback, refused io_uring, bad names', async (t) => {
  const saved = process.env[NO_URING_ENV];
  process.env[NO_URING_ENV] = '1';
  try {
    const p = new Proactor();
    t.equal(p.backend, 'epoll', `${NO_URING_ENV}=1 forces the fallback`);
    t.match(p.fallbackReason, /NODE_SELECTORS_NO_URING=1/, 'fallbackReason names the variable');
    t.equal(p.ring, null);
    t.equal(p.buffers, null);
    p.close();
    t.throws(() => new Proactor({ backend: 'io_uring' }), { code: 'ERR_URING_UNAVAILABLE', message: /NODE_SELECTORS_NO_URING/ });
  } finally {
    if (saved === undefined) delete process.env[NO_URING_ENV];
    else process.env[NO_URING_ENV] = saved;
  }
  const e = new Proactor({ backend: 'epoll' });
  t.equal(e.backend, 'epoll');
  t.equal(e.fallbackReason, null, 'no reason when epoll was asked for');
  e.close();
  const auto = new Proactor();
  t.equal(auto.backend, support.ok ? 'io_uring' : 'epoll', 'auto: io_uring where the machine allows it');
  t.equal(auto.fallbackReason, support.ok ? null : support.reason);
  auto.close();
  t.throws(() => new Proactor({ backend: 'kqueue' as never }), { code: 'ERR_INVALID_ARG_VALUE' });
});

if (support.ok) {
  t.test('io_uring: late completions of a closed connection are dropped; its slot is reused in a new generation', async (t) => {
    const p = new Proactor({ backend: 'io_uring', bufferCount: 16, bufferSize: 16 });
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const first = p.attach(b.detach());
    const oldFd = first.fd;
    // The first connection of a fresh proactor: slot 0, generation 1.
    const oldSlot = 0;
    const oldGen = 1;
    const seen: string[] = [];
    let closed = false;
    first.ondata = (data) => {
      seen.push(Buffer.from(data).toString());
      first.close();
    };
    first.onclose = () => { closed = true; };
    a.sendall(Buffer.from('0123456789abcdef'.repeat(4)));
    turnUntil(p, () => closed);
    t.same(seen, ['0123456789abcdef'], 'one data callback, none after close()');
    t.ok(p.stats.dropped >= 1, `completions after close were dropped (${p.stats.dropped})`);
    t.equal(p.buffers!.available, 16, 'the dropped completions gave their buffers back');
    a.close();

    const [c, d] = socketpair();
    const mine = c.fileno() === oldFd ? c : d;
    const peer = mine === c ? d : c;
    const second = p.attach(mine.detach());
    // A NOP tagged as the new connection's CANCEL (slot 0, generation 2):
    // it matches (not dropped), so the slot was reused with a new generation.
    const droppedFirst = p.stats.dropped;
    p.ring!.prepNop(packUserData(oldSlot, oldGen + 1, KIND_CANCEL));
    p.turn(1000);
    t.equal(p.stats.dropped, droppedFirst, 'slot 0 is reused, in generation 2');
    const got: string[] = [];
    second.ondata = (data) => { got.push(Buffer.from(data).toString()); };
    // A real completion carrying the old connection's tag (a NOP with its
    // user_data), as a late completion would: it must not reach the new one.
    const droppedBefore = p.stats.dropped;
    p.ring!.prepNop(packUserData(oldSlot, oldGen, KIND_RECV));
    peer.sendall(Buffer.from('fresh'));
    turnUntil(p, () => got.join('') === 'fresh' && p.stats.dropped > droppedBefore);
    t.same(got.join(''), 'fresh', 'the new connection gets only its own bytes');
    t.equal(p.stats.dropped, droppedBefore + 1, 'the old-generation completion was dropped');
    second.close();
    peer.close();
  });

  t.test('io_uring: a multishot recv ended by a full CQ (no IORING_CQE_F_MORE) is re-armed; no byte is lost', async (t) => {
    const p = new Proactor({ backend: 'io_uring', entries: 2, cqEntries: 4, bufferCount: 256, bufferSize: 16 });
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    const parts: Buffer[] = [];
    let n = 0;
    conn.ondata = (d) => { parts.push(Buffer.from(d)); n += d.length; };
    p.turn(0); // the RECV is armed before any byte arrives
    const data = payload(7, 3000);
    a.sendall(data);
    // 3000 bytes in 16-byte buffers: ~190 completions for a 4-entry CQ.
    turnUntil(p, () => n >= data.length);
    t.equal(n, data.length);
    t.ok(Buffer.concat(parts).equals(data), 'in order and complete');
    t.ok(p.stats.rearmed > 0, `re-armed ${p.stats.rearmed} times`);
    t.equal(p.stats.noBuffers, 0, 'ended by the full CQ, not by a lack of buffers');
    t.equal(p.buffers!.available, 256);
    a.close();
  });
}

if (support.ok) {
  t.test('receives that find the buffer window empty widen it; no byte is lost', async (t) => {
    const p = new Proactor({ bufferCount: 256, bufferSize: 16 });
    t.teardown(() => p.close());
    t.equal(p.buffers!.window, 16, 'the ring starts with a window of 16 buffers');
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    const parts: Buffer[] = [];
    let n = 0;
    conn.ondata = (d) => { parts.push(Buffer.from(d)); n += d.length; };
    p.turn(0);
    // 3000 bytes at once in 16-byte buffers: one turn's receives need more than 16.
    const data = payload(8, 3000);
    a.sendall(data);
    turnUntil(p, () => n >= data.length);
    t.ok(Buffer.concat(parts).equals(data), 'in order and complete');
    t.ok(p.stats.noBuffers > 0, `receives found the ring empty (${p.stats.noBuffers})`);
    t.ok(p.buffers!.window > 16, `the window grew to ${p.buffers!.window}`);
    t.equal(p.buffers!.available, 256, 'every buffer free again');
    a.close();
  });

}
