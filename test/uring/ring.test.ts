// The io_uring Ring over real kernel rings: setup and teardown, a NOP
// round trip through the mapped CQ, a timed wait, the provided-buffer
// ring, and the forced fallback. Skipped (with the reason) where io_uring
// cannot be used.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { NO_URING_ENV, Ring, uringSupport } from '../../lib/uring/ring.js';
import { BufferRing, bufferId } from '../../lib/uring/buffer-ring.js';
import { IORING_CQE_F_BUFFER, IORING_CQE_F_MORE, IORING_SETUP_NO_MMAP } from '../../lib/sys/uring-constants.js';
import { socketpair } from '../../lib/socket/index.js';

const support = uringSupport();
const fdCount = (): number => readdirSync('/proc/self/fd').length;

t.test('the forced fallback is reported and honoured', async (t) => {
  const script = `
    import { uringSupport, Ring } from ${JSON.stringify(new URL('../../lib/uring/ring.ts', import.meta.url).href)};
    const s = uringSupport();
    let code = 'none';
    try { Ring.open().close(); } catch (err) { code = err.code; }
    console.log(JSON.stringify({ ok: s.ok, reason: s.reason, code }));`;
  const r = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
    env: { ...process.env, [NO_URING_ENV]: '1' }, encoding: 'utf8', timeout: 30_000,
  });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  t.equal(out.ok, false);
  t.match(out.reason, /NODE_SELECTORS_NO_URING=1/);
  t.equal(out.code, 'ERR_URING_UNAVAILABLE');
});

if (!support.ok) {
  t.comment(`io_uring unavailable on kernel ${support.kernel}: ${support.reason}; ring tests skipped`);
} else {
  t.test('open and close leave no fd and no mapping behind', async (t) => {
    const before = fdCount();
    for (let i = 0; i < 20; i++) {
      const ring = Ring.open({ entries: 8 });
      t.ok(ring.fd >= 0);
      ring.close();
      ring.close();
    }
    t.equal(fdCount(), before, 'no fd leaked');
    const ring = Ring.open({ entries: 8 });
    t.ok(ring.sqEntries >= 8);
    t.ok(ring.cqEntries >= 32, 'CQ sized 4x by default');
    ring.close();
    t.throws(() => ring.sqe(), { code: 'ERR_URING_CLOSED' });
    t.throws(() => ring.submit(), { code: 'ERR_URING_CLOSED' });
  });

  t.test('the rings in our own memory (IORING_SETUP_NO_MMAP) or in the kernel\'s mappings: both run; ours leave no mapping of the ring fd', async (t) => {
    const ringMaps = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('io_uring')).length;
    const before = ringMaps();
    for (const ownMemory of [true, false]) {
      const ring = Ring.open({ entries: 8, ownMemory });
      const own = (ring.flags & IORING_SETUP_NO_MMAP) !== 0;
      if (!ownMemory) t.notOk(own, 'ownMemory: false maps the kernel\'s rings');
      else t.comment(own ? 'this kernel took our memory' : 'this kernel refused NO_MMAP: the kernel\'s mappings instead');
      t.equal(ringMaps() - before, own ? 0 : 2, own ? 'no mapping of the ring fd' : 'the rings (one mapping since 5.4) and the SQEs are mapped from the ring fd');
      for (let i = 0; i < 6; i++) ring.prepNop(i);
      t.equal(ring.submit(6), 6);
      const got: number[] = [];
      ring.reap((ud) => got.push(ud));
      t.same(got, [0, 1, 2, 3, 4, 5], `NOPs round trip (${own ? 'our memory' : 'mappings'})`);
      ring.close();
      t.equal(ringMaps(), before, 'closed: nothing of it left in the address space');
    }
  });

  t.test('NOPs round trip with their user data, 64-bit values intact', async (t) => {
    const ring = Ring.open({ entries: 8 });
    t.teardown(() => ring.close());
    const sent = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 52 + 12345, Number.MAX_SAFE_INTEGER];
    for (const ud of sent) ring.prepNop(ud);
    t.equal(ring.pending, sent.length);
    t.equal(ring.submit(sent.length), sent.length);
    t.equal(ring.pending, 0);
    t.equal(ring.ready, sent.length, 'completions sit in the mapped CQ');
    const got: Array<[number, number]> = [];
    const enters = ring.stats.enters;
    t.equal(ring.reap((ud, res) => got.push([ud, res])), sent.length);
    t.equal(ring.stats.enters, enters, 'reaping made no system call');
    t.same(got, sent.map((ud) => [ud, 0]));
    t.equal(ring.ready, 0);
  });

  const hasMinWait = (): boolean => {
    const ring = Ring.open({ entries: 2 });
    try { return ring.minWait; } finally { ring.close(); }
  };

  t.test('a batch wait with minWaitUs: returns after the minimum once one completion is there, else at the first', { skip: hasMinWait() ? false : 'the kernel lacks IORING_FEAT_MIN_TIMEOUT (6.12)' }, async (t) => {
    const ring = Ring.open({ entries: 8 });
    t.teardown(() => ring.close());
    // One completion at once, a batch of 4 asked for: back after ~2 ms, not
    // after the 1.5 s timer (the bounds leave room for a loaded machine).
    ring.prepNop(1);
    ring.prepTimeout(1500, 2);
    const submitted = Date.now();
    ring.submit(4, 5000, 2000);
    t.ok(Date.now() - submitted < 1000, `returned after the minimum (${Date.now() - submitted} ms)`);
    t.equal(ring.ready, 1, 'with the one completion there');
    ring.reap(() => {});
    // Nothing there when the minimum passes: the wait goes on (without a limit) to the first completion.
    ring.submit(4, -1, 2000);
    t.ok(Date.now() - submitted >= 1400, `waited for the timer (${Date.now() - submitted} ms after it was set)`);
    t.equal(ring.ready, 1);
    ring.reap(() => {});
  });

  t.test('more SQEs than the SQ holds are submitted as the SQ fills', async (t) => {
    const ring = Ring.open({ entries: 4, cqEntries: 64 });
    t.teardown(() => ring.close());
    for (let i = 0; i < 40; i++) ring.prepNop(i);
    ring.submit(1);
    const got: number[] = [];
    for (let turns = 0; got.length < 40 && turns < 100; turns++) {
      ring.reap((ud) => got.push(ud));
      if (got.length < 40) ring.submit(1, 100);
    }
    t.same(got, Array.from({ length: 40 }, (_, i) => i));
  });

  t.test('a timed wait with nothing in flight returns after its timeout', async (t) => {
    const ring = Ring.open({ entries: 4 });
    t.teardown(() => ring.close());
    const start = Date.now();
    t.equal(ring.submit(1, 50), 0);
    t.ok(Date.now() - start >= 40, 'waited');
    t.equal(ring.ready, 0);
  });

  t.test('multishot recv picks buffers from a buffer ring', async (t) => {
    const ring = Ring.open({ entries: 8 });
    const bufs = new BufferRing(ring, 3, 4, 64);
    const [a, b] = socketpair();
    t.teardown(() => { a.close(); b.close(); bufs.close(); ring.close(); });
    t.equal(bufs.available, 4);
    ring.prepRecvSelect(b.fileno(), 3, 77, true);
    ring.submit();
    const messages = ['first', 'second message', 'x'.repeat(64)];
    const got: string[] = [];
    for (const m of messages) {
      a.send(Buffer.from(m));
      for (let turns = 0; turns < 20; turns++) {
        ring.submit(1, 1000);
        if (ring.reap((ud, res, flags) => {
          t.equal(ud, 77);
          t.ok(res > 0, `res ${res}`);
          t.ok(flags & IORING_CQE_F_BUFFER, 'a buffer was picked');
          t.ok(flags & IORING_CQE_F_MORE, 'still armed');
          bufs.taken();
          const bid = bufferId(flags);
          got.push(Buffer.from(bufs.view(bid, res)).toString());
          bufs.recycle(bid);
        }) > 0) break;
      }
    }
    t.same(got, messages);
    t.equal(bufs.available, 4, 'every buffer back with the kernel');
    t.throws(() => new BufferRing(ring, 4, 3, 64), { code: 'ERR_OUT_OF_RANGE' });
    t.throws(() => new BufferRing(ring, 3, 4, 64), { code: 'EEXIST' }, 'a group id in use');
  });
}

if (support.ok) {
  t.test('single-shot ops: send and recv at native addresses, poll, shutdown, cancel by user data, linked SQEs', async (t) => {
    const ring = Ring.open({ entries: 8 });
    const bufs = new BufferRing(ring, 1, 2, 64);
    const [a, b] = socketpair();
    t.teardown(() => { a.close(); b.close(); bufs.close(); ring.close(); });
    const results = new Map<number, [number, number]>();
    const collect = (want: number): void => {
      for (let turns = 0; results.size < want && turns < 20; turns++) {
        ring.submit(1, 1000);
        ring.reap((ud, res, flags) => { results.set(ud, [res, flags]); });
      }
    };
    // Buffer 0 as plain native memory: SEND from it, RECV into buffer 1.
    bufs.bytes.set(Buffer.from('native bytes'), 0);
    ring.prepSend(a.fileno(), bufs.address(0), 12, 0, 1);
    ring.prepRecv(b.fileno(), bufs.address(1), 64, 0, 2);
    collect(2);
    t.same(results.get(1), [12, 0], 'sent 12');
    t.equal(results.get(2)?.[0], 12, 'received 12');
    t.equal(Buffer.from(bufs.view(1, 12)).toString(), 'native bytes');

    // A poll for readability, completed by a write; a second poll cancelled by its user data.
    results.clear();
    ring.prepPollAdd(b.fileno(), 1 /* POLLIN */, 3, false);
    ring.submit();
    a.send(Buffer.from('x'));
    collect(1);
    t.equal(results.get(3)?.[0] ?? 0, 1, 'POLLIN reported');
    b.recv(1);
    results.clear();
    ring.prepPollAdd(b.fileno(), 1, 4, true);
    ring.submit();
    ring.prepCancel(4, 5);
    collect(2);
    t.equal(results.get(5)?.[0], 0, 'cancel found it');
    t.equal(results.get(4)?.[0], -125, 'the poll ended with ECANCELED');

    // A NOP hard-linked to a shutdown: both complete, in order.
    results.clear();
    const nop = ring.prepNop(6);
    ring.link(nop, true);
    ring.prepShutdown(a.fileno(), 1 /* SHUT_WR */, 7);
    collect(2);
    t.same([...results.keys()], [6, 7], 'linked requests complete in order');
    t.equal(results.get(7)?.[0], 0, 'shutdown done');
    t.equal(b.recv(10)?.length, 0, 'the peer sees EOF');
  });
}

if (support.ok) {
  t.test('a handler that reaps again (a nested turn) or closes the ring does not see a completion twice', async (t) => {
    const ring = Ring.open({ entries: 8 });
    for (let i = 0; i < 6; i++) ring.prepNop(i);
    ring.submit(6);
    const seen: number[] = [];
    ring.reap((ud) => {
      seen.push(ud);
      if (ud === 1) ring.reap((inner) => { seen.push(inner); }, 2);
    });
    t.same(seen, [0, 1, 2, 3, 4, 5], 'each once, in order');
    for (let i = 0; i < 3; i++) ring.prepNop(10 + i);
    ring.submit(3);
    const after: number[] = [];
    ring.reap((ud) => { after.push(ud); ring.close(); });
    t.same(after, [10], 'reaping stops when a handler closed the ring');
  });
}
