// The io_uring proactor over real loopback TCP and socketpairs: echo with
// 10 connections verifying every byte (sends larger than a connection's
// native chunk, receive buffers smaller than a message), close from inside
// a data callback, fd and slot reuse after close with stale completions
// dropped, run()/stop(), and no fd left behind. Skipped (with the reason)
// where io_uring cannot be used.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { Proactor, packUserData, KIND_CANCEL, KIND_RECV, type Connection } from '../../lib/uring/proactor.js';
import { uringSupport } from '../../lib/uring/ring.js';
import { createConnection, createServer, socketpair } from '../../lib/socket/index.js';

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

if (!support.ok) {
  t.comment(`io_uring unavailable on kernel ${support.kernel}: ${support.reason}; proactor tests skipped`);
} else {
  t.test('echo over loopback: 10 connections, every byte verified', async (t) => {
    const before = fdCount();
    const p = new Proactor({ bufferCount: 64, bufferSize: 1024, sendChunkSize: 4096 });
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
      conn.onclose = (err) => { t.equal(err, null); clientsClosed++; };
      // In pieces of odd sizes, more than the 4 KiB chunk holds: staged and queued.
      for (let off = 0; off < size; off += 7001) conn.send(data.subarray(off, Math.min(size, off + 7001)));
    }
    turnUntil(p, () => verified === n && clientsClosed === n && p.connections === 0);
    t.equal(verified, n);
    t.equal(serverConns.length, n, 'every connection accepted');
    t.equal(p.connections, 0, 'server side closed on EOF');
    t.equal(p.stats.accepted, n);
    t.equal(p.stats.bytesIn, 2 * n * size, 'bytes in: server and client sides');
    t.equal(p.buffers.available, 64, 'every receive buffer back with the kernel');
    t.ok(p.ring.stats.enters < p.stats.bytesIn / 1024, 'fewer enters than receive buffers filled');
    p.close();
    t.equal(fdCount(), before, 'no fd left behind (ring, listener, sockets)');
  });

  t.test('close() inside a data callback drops later completions; the fd and slot are reused', async (t) => {
    const p = new Proactor({ bufferCount: 16, bufferSize: 16 });
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
    t.ok(closed, 'closed');
    t.same(seen, ['0123456789abcdef'], 'one data callback, none after close()');
    t.ok(p.stats.dropped >= 1, `completions after close were dropped (${p.stats.dropped})`);
    t.equal(p.buffers.available, 16, 'the dropped completions gave their buffers back');
    t.throws(() => first.send(Buffer.from('x')), { code: 'ERR_URING_CLOSED' });
    a.close();

    const [c, d] = socketpair();
    const mine = c.fileno() === oldFd ? c : d;
    const peer = mine === c ? d : c;
    t.equal(mine.fileno(), oldFd, 'the kernel handed out the closed fd number again');
    const second = p.attach(mine.detach());
    // A NOP tagged as the new connection's CANCEL (slot 0, generation 2):
    // it matches (not dropped), so the slot was reused with a new generation.
    const droppedFirst = p.stats.dropped;
    p.ring.prepNop(packUserData(oldSlot, oldGen + 1, KIND_CANCEL));
    p.turn(1000);
    t.equal(p.stats.dropped, droppedFirst, 'slot 0 is reused, in generation 2');
    const got: string[] = [];
    second.ondata = (data) => { got.push(Buffer.from(data).toString()); };
    // A real completion carrying the old connection's tag (a NOP with its
    // user_data), as a late completion would: it must not reach the new one.
    const droppedBefore = p.stats.dropped;
    p.ring.prepNop(packUserData(oldSlot, oldGen, KIND_RECV));
    peer.sendall(Buffer.from('fresh'));
    turnUntil(p, () => got.join('') === 'fresh' && p.stats.dropped > droppedBefore);
    t.same(got.join(''), 'fresh', 'the new connection gets only its own bytes');
    t.equal(p.stats.dropped, droppedBefore + 1, 'the old-generation completion was dropped');
    t.same(seen.length, 1, 'the old callback never ran again');
    second.close();
    peer.close();
  });

  t.test('run() returns after stop(); end() flushes before closing', async (t) => {
    const p = new Proactor({ bufferCount: 8, bufferSize: 256 });
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const conn = p.attach(b.detach());
    const big = payload(99, 100_000);
    conn.send(big);
    conn.end();
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

  t.test('a peer that resets surfaces as an error on close, not a crash', async (t) => {
    const p = new Proactor({ bufferCount: 8, bufferSize: 256 });
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
}

if (support.ok) {
  t.test("start(): the proactor runs in Node's loop; net clients in the same process are echoed", async (t) => {
    const { connect } = await import('node:net');
    const before = fdCount();
    const p = new Proactor({ bufferCount: 64, bufferSize: 2048 });
    const server = createServer(['127.0.0.1', 0], { backlog: 128 });
    const port = server.getsockname()[1] as number;
    p.listen(server.detach(), (conn) => { conn.ondata = (d) => { conn.send(d); }; });
    p.start();
    let timerRan = false;
    setTimeout(() => { timerRan = true; }, 1);
    const one = (i: number): Promise<boolean> => new Promise((resolve, reject) => {
      const data = payload(100 + i, 30_000);
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
    const guard = setTimeout(() => p.close(), 20_000);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => one(i)));
    clearTimeout(guard);
    t.same(results, new Array(10).fill(true), 'every byte echoed to every client');
    t.ok(timerRan, 'timers ran meanwhile');
    // The server side sees the clients' FIN and closes, in the loop.
    const deadline = Date.now() + 5000;
    while (p.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.equal(p.connections, 0);
    p.close();
    await new Promise((r) => setTimeout(r, 50));
    t.equal(fdCount(), before, 'no fd left behind (ring, eventfd, listener)');
  });
}

if (support.ok) {
  t.test('a multishot recv ended by a full CQ (no IORING_CQE_F_MORE) is re-armed; no byte is lost', async (t) => {
    const p = new Proactor({ entries: 2, cqEntries: 4, bufferCount: 256, bufferSize: 16 });
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
    t.equal(p.buffers.available, 256);
    a.close();
  });
}

if (support.ok) {
  t.test('receives that find the buffer window empty widen it; no byte is lost', async (t) => {
    const p = new Proactor({ bufferCount: 256, bufferSize: 16 });
    t.teardown(() => p.close());
    t.equal(p.buffers.window, 16, 'the ring starts with a window of 16 buffers');
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
    t.ok(p.buffers.window > 16, `the window grew to ${p.buffers.window}`);
    t.equal(p.buffers.available, 256, 'every buffer free again');
    a.close();
  });
}

if (support.ok) {
  t.test('back-pressure: send() returns false above the high-water mark, ondrain follows', async (t) => {
    const p = new Proactor({ bufferCount: 16, bufferSize: 4096, sendChunkSize: 4096, highWaterMark: 8192 });
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const writer = p.attach(a.detach());
    const reader = p.attach(b.detach());
    let drained = 0;
    writer.ondrain = () => { drained++; };
    let got = 0;
    reader.ondata = (d) => { got += d.length; };
    const big = payload(5, 100_000);
    t.equal(writer.send(big), false, 'over the mark');
    t.ok(writer.bufferedAmount > 8192);
    turnUntil(p, () => got === big.length && drained > 0);
    t.equal(got, big.length);
    t.equal(drained, 1, 'ondrain once');
    t.equal(writer.bufferedAmount, 0);
    t.equal(writer.send(Buffer.from('small')), true, 'under the mark again');
  });

  t.test('echoing the delivered view sends from the receive buffer; a send behind it stays in order', async (t) => {
    for (const [count, lends] of [[16, true], [2, false]] as const) {
      const p = new Proactor({ bufferCount: count, bufferSize: 4096 });
      const [a, b] = socketpair();
      const client = p.attach(a.detach());
      const server = p.attach(b.detach());
      // The same view twice: the first SEND may use the buffer, the second is copied behind it.
      server.ondata = (d) => { server.send(d); server.send(d); };
      const got: Buffer[] = [];
      client.ondata = (d) => { got.push(Buffer.from(d)); };
      client.send(Buffer.from('hello'));
      turnUntil(p, () => p.stats.bytesIn >= 5);
      t.equal(p.buffers.available, lends ? count - 1 : count,
        lends ? `${count} buffers: the echoed buffer is held by its SEND` : `${count} buffers: too few free, the view was copied`);
      turnUntil(p, () => Buffer.concat(got).length === 10);
      t.equal(Buffer.concat(got).toString(), 'hellohello', 'both sends arrived, in order');
      t.equal(p.buffers.available, count, 'the buffer came back when the SEND completed');
      t.equal(server.bufferedAmount, 0);
      p.close();
    }
  });

  t.test('maxConnections: a connection beyond the limit is closed at once', async (t) => {
    const p = new Proactor({ bufferCount: 8, bufferSize: 256, maxConnections: 1 });
    t.teardown(() => p.close());
    const server = createServer(['127.0.0.1', 0]);
    const port = server.getsockname()[1] as number;
    const accepted: Connection[] = [];
    p.listen(server.detach(), (conn) => { accepted.push(conn); });
    const first = createConnection(['127.0.0.1', port]);
    turnUntil(p, () => accepted.length === 1);
    const second = createConnection(['127.0.0.1', port]);
    second.settimeout(5);
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
}

if (support.ok) {
  t.test('a worker running a proactor in Node-loop mode can be terminated; the process survives', async (t) => {
    const { runNode } = await import('../helpers/run-node.js');
    const fixture = new URL('../fixtures/uring-worker-terminate.ts', import.meta.url).pathname;
    const res = await runNode([...process.execArgv, fixture], { cwd: process.cwd(), timeoutMs: 60_000 });
    t.equal(res.code, 0, res.stderr);
    t.equal(res.stdout.trim(), 'survived');
  });
}

if (support.ok) {
  t.test('pause() stops delivery until resume(); nothing is lost', async (t) => {
    const p = new Proactor({ bufferCount: 16, bufferSize: 1024 });
    t.teardown(() => p.close());
    const [a, b] = socketpair();
    const reader = p.attach(b.detach());
    const parts: Buffer[] = [];
    reader.ondata = (d) => { parts.push(Buffer.from(d)); };
    p.turn(0);
    reader.pause();
    t.ok(reader.isPaused);
    turnUntil(p, () => false, 100); // the cancel completes
    const data = payload(3, 5000);
    a.sendall(data);
    turnUntil(p, () => false, 200);
    t.equal(parts.length, 0, 'nothing delivered while paused');
    reader.resume();
    turnUntil(p, () => Buffer.concat(parts).length >= data.length);
    t.ok(Buffer.concat(parts).equals(data), 'everything delivered after resume');
    // Pause and resume within one turn: the cancelled RECV's completion re-arms.
    reader.pause();
    reader.resume();
    p.turn(0);
    parts.length = 0;
    a.sendall(Buffer.from('after'));
    turnUntil(p, () => parts.length > 0);
    t.equal(Buffer.concat(parts).toString(), 'after');
    a.close();
  });
}

if (support.ok) {
  t.test('out of fds: accept backs off instead of spinning, then accepts again', async (t) => {
    const { runNode } = await import('../helpers/run-node.js');
    const fixture = new URL('../fixtures/uring-emfile.ts', import.meta.url).pathname;
    const res = await runNode([...process.execArgv, fixture], { cwd: process.cwd(), timeoutMs: 60_000 });
    t.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
    t.equal(out.acceptedWhileStarved, 0, 'nothing accepted without an fd to give');
    t.ok(out.errorsWhileStarved >= 1, `EMFILE seen (${out.errorsWhileStarved})`);
    t.ok(out.errorsWhileStarved <= 10, `at most one failed accept per 100 ms back-off over 0.5 s (${out.errorsWhileStarved})`);
    t.equal(out.accepted, 2, 'both pending connections accepted once fds were free');
  });
}
