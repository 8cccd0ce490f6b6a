// One behaviour suite, run against every selector backend, with real
// socketpairs: CPython's Lib/selectors.py semantics.
import t from 'tap';
import { libc } from '../../lib/sys/libc.js';
import { EVENT_READ, EVENT_WRITE } from '../../selectors/events.js';
import { SelectorKey } from '../../selectors/selector-key.js';
import { BaseSelector } from '../../selectors/base-selector.js';
import { KeyError } from '../../lib/errors.js';
import { BACKENDS, FileLike, closeFd, make, pair, put, since, take } from './helpers.js';

const RW = EVENT_READ | EVENT_WRITE;

for (const [name, factory] of BACKENDS) {
  t.test(name, async (t) => {
    t.test('register returns the key; getKey and getMap see it', async (t) => {
      const sel = make(t, factory);
      t.ok(sel instanceof BaseSelector);
      const [a, b] = pair(t);
      const obj = new FileLike(b);
      const data = { id: 1 };
      const ka = sel.register(a, EVENT_READ, data);
      t.ok(ka instanceof SelectorKey);
      t.equal(ka.fileobj, a);
      t.equal(ka.fd, a);
      t.equal(ka.events, EVENT_READ);
      t.equal(ka.data, data);
      const kb = sel.register(obj, EVENT_WRITE);
      t.equal(kb.fileobj, obj);
      t.equal(kb.fd, b);
      t.equal(kb.data, undefined);
      t.equal(sel.getKey(a), ka);
      t.equal(sel.getKey(obj), kb);
      t.equal(sel.getKey(b), kb, 'an fd finds the key registered through an object');
      const map = sel.getMap();
      t.ok(map);
      t.equal(map!.size, 2);
      t.equal(map!.get(a), ka);
      t.equal(map!.get(obj), kb);
      t.ok(map!.has(b));
      t.notOk(map!.has(9999));
      t.notOk(map!.has({ fileno: () => 9999 }));
      t.notOk(map!.has('nope' as never));
      t.same([...map!.keys()].sort((x, y) => x - y), [a, b].sort((x, y) => x - y));
      t.same(new Set(map!.values()), new Set([ka, kb]));
      t.equal([...map!].length, 2);
      t.equal([...map!.entries()].length, 2);
      const seen: number[] = [];
      map!.forEach((key, fd) => {
        t.equal(key.fd, fd);
        seen.push(fd);
      });
      t.equal(seen.length, 2);
      t.equal(Object.prototype.toString.call(map), '[object SelectorMapping]');
      sel.unregister(a);
      t.equal(map!.size, 1, 'the map is live');
      const [fileobj, fd, events, d] = kb;
      t.same([fileobj, fd, events, d], [obj, b, EVENT_WRITE, undefined], 'keys destructure like the namedtuple');
    });

    t.test('events are validated first', async (t) => {
      const sel = make(t, factory);
      const [a] = pair(t);
      for (const bad of [0, 4, -1, 1.5, 8 | EVENT_READ, '1', null, undefined, NaN]) {
        t.throws(() => sel.register(a, bad as never), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, `register events ${String(bad)}`);
      }
      t.throws(() => sel.register('not a file' as never, 0), { code: 'ERR_OUT_OF_RANGE' }, 'events checked before the file object');
      t.equal(sel.getMap()!.size, 0);
      sel.register(a, EVENT_READ);
      t.throws(() => sel.modify(a, 0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      t.throws(() => sel.modify(a, 7), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      t.equal(sel.getKey(a).events, EVENT_READ, 'a refused modify changes nothing');
    });

    t.test('bad file objects', async (t) => {
      const sel = make(t, factory);
      for (const bad of ['3', {}, null, 1.5, [], { fileno: 'x' }, { fileno: () => 'x' }, { fileno: () => 2.5 }]) {
        t.throws(() => sel.register(bad as never, EVENT_READ), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, `register ${JSON.stringify(bad)}`);
      }
      t.throws(() => sel.register(-1, EVENT_READ), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      t.throws(() => sel.register({ fileno: () => -1 }, EVENT_READ), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      t.throws(() => sel.getKey('x' as never), { name: 'TypeError' });
      t.equal(sel.getMap()!.size, 0);
    });

    t.test('one fd is registered once, whatever object names it', async (t) => {
      const sel = make(t, factory);
      const [a] = pair(t);
      sel.register(a, EVENT_READ);
      const err = t.throws(() => sel.register(new FileLike(a), EVENT_WRITE), { code: 'ERR_FD_ALREADY_REGISTERED' }) as KeyError;
      t.ok(err instanceof KeyError);
      t.equal(err.name, 'KeyError');
      t.throws(() => sel.register(a, EVENT_READ), KeyError);
      t.equal(sel.getKey(a).events, EVENT_READ);
    });

    t.test('unknown file objects are a KeyError', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      sel.register(a, EVENT_READ);
      for (const op of [() => sel.unregister(b), () => sel.modify(b, EVENT_READ), () => sel.getKey(b), () => sel.unregister(new FileLike(b))]) {
        const err = t.throws(op, { name: 'KeyError', code: 'ERR_FD_NOT_REGISTERED' }) as KeyError;
        t.ok(err instanceof KeyError);
      }
      const k = sel.unregister(a);
      t.equal(k.fd, a);
      t.throws(() => sel.unregister(a), { code: 'ERR_FD_NOT_REGISTERED' });
    });

    t.test('close: idempotent, getMap null, then ERR_SELECTOR_CLOSED', async (t) => {
      const sel = factory();
      const [a] = pair(t);
      sel.register(a, EVENT_READ);
      const map = sel.getMap()!;
      t.notOk(sel.closed);
      sel.close();
      t.ok(sel.closed);
      sel.close();
      t.equal(sel.getMap(), null);
      t.equal(map.size, 0, 'an old map is empty after close');
      for (const op of [() => sel.getKey(a), () => sel.register(a, EVENT_READ), () => sel.unregister(a), () => sel.modify(a, EVENT_READ), () => sel.select(0)]) {
        t.throws(op, { code: 'ERR_SELECTOR_CLOSED' });
      }
      await t.rejects(sel.selectAsync(0), { code: 'ERR_SELECTOR_CLOSED' });
      t.equal(put(a, 'x'), 1, 'closing the selector does not close registered fds');
    });

    t.test('Symbol.dispose closes', async (t) => {
      let sel: BaseSelector | undefined;
      {
        using s = factory();
        sel = s;
        t.notOk(s.closed);
      }
      t.ok(sel.closed);
    });

    t.test('readiness: read, write, both bits in ONE entry', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      const ka = sel.register(a, EVENT_READ, 'a');
      t.same(sel.select(0), [], 'nothing to read yet');
      put(b, 'ping');
      t.same(sel.select(0), [[ka, EVENT_READ]]);
      t.same(sel.select(), [[ka, EVENT_READ]], 'undefined blocks, returns when ready');
      t.same(sel.select(null), [[ka, EVENT_READ]]);
      const k2 = sel.modify(a, RW, 'a2');
      const ready = sel.select(0);
      t.equal(ready.length, 1, 'one entry for one fd');
      t.equal(ready[0][0], k2);
      t.equal(ready[0][1], RW);
      t.equal(take(a).toString(), 'ping');
      t.same(sel.select(0), [[k2, EVENT_WRITE]]);
      const kb = sel.register(b, EVENT_WRITE);
      const both = sel.select(0);
      t.equal(both.length, 2);
      t.same(new Set(both.map(([k, ev]) => `${k.fd}:${ev}`)), new Set([`${a}:${EVENT_WRITE}`, `${b}:${EVENT_WRITE}`]));
      t.ok(both.every(([k]) => k === k2 || k === kb));
    });

    t.test('ERR/HUP reach readers and writers, masked by the key', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      const [c, d] = pair(t);
      const ka = sel.register(a, EVENT_READ);
      const kc = sel.register(c, EVENT_WRITE);
      closeFd(b);
      closeFd(d);
      const ready = sel.select(0);
      const byFd = new Map(ready.map(([k, ev]) => [k.fd, [k, ev] as const]));
      t.same(byFd.get(a), [ka, EVENT_READ], 'reader sees the hangup as READ');
      t.same(byFd.get(c), [kc, EVENT_WRITE], 'writer sees the hangup as WRITE');
      for (const [k, ev] of ready) t.equal(ev & ~k.events, 0, 'never an event outside the mask');
    });

    t.test('modify: new data alone makes no call to register/unregister', async (t) => {
      const sel = make(t, factory);
      const [a] = pair(t);
      const k1 = sel.register(a, EVENT_READ, 'one');
      const calls: string[] = [];
      const reg = sel.register.bind(sel);
      const unreg = sel.unregister.bind(sel);
      sel.register = ((...args: Parameters<typeof reg>) => { calls.push('register'); return reg(...args); }) as typeof sel.register;
      sel.unregister = ((...args: Parameters<typeof unreg>) => { calls.push('unregister'); return unreg(...args); }) as typeof sel.unregister;
      const k2 = sel.modify(a, EVENT_READ, 'two');
      t.not(k2, k1);
      t.equal(k2.data, 'two');
      t.equal(k2.events, EVENT_READ);
      t.equal(sel.getKey(a), k2);
      t.equal(sel.modify(a, EVENT_READ, 'two'), k2, 'no change: same key');
      const k3 = sel.modify(a, EVENT_WRITE, 'two');
      t.equal(k3.events, EVENT_WRITE);
      t.same(calls, [], 'modify never goes through register/unregister');
      const k4 = sel.modify(a, EVENT_WRITE);
      t.equal(k4.data, undefined, 'as in Python, omitted data resets it');
    });

    t.test('unregister after the fd was closed', async (t) => {
      const sel = make(t, factory);
      const sys = libc();
      const sv = new Int32Array(2);
      sys.socketpair(1, 1 | 0o2000000, 0, sv);
      sel.register(sv[0], EVENT_READ);
      sys.close(sv[0]);
      sys.close(sv[1]);
      const k = sel.unregister(sv[0]);
      t.equal(k.fd, sv[0]);
      t.equal(sel.getMap()!.size, 0);
    });

    t.test('unregister after the fd number was reused (dup2)', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      const [c] = pair(t);
      sel.register(a, EVENT_READ);
      t.equal(libc().dup2(c, a), a, 'fd a now names another socket');
      t.doesNotThrow(() => sel.unregister(a));
      t.equal(sel.getMap()!.size, 0);
      // a is now the dup of c; the new registration must work on it.
      const k = sel.register(a, EVENT_WRITE);
      t.same(sel.select(0), [[k, EVENT_WRITE]]);
      void b;
    });

    t.test('unregister a closed object (fileno() = -1) by identity', async (t) => {
      const sel = make(t, factory);
      const sys = libc();
      const sv = new Int32Array(2);
      sys.socketpair(1, 1 | 0o2000000, 0, sv);
      t.teardown(() => sys.close(sv[1]));
      const obj = new FileLike(sv[0]);
      const key = sel.register(obj, EVENT_READ);
      obj.close();
      t.equal(obj.fileno(), -1);
      t.equal(sel.getKey(obj), key, 'getKey finds it by identity');
      t.equal(sel.getMap()!.get(obj), key);
      t.equal(sel.unregister(obj), key);
      t.throws(() => sel.unregister(obj), { name: 'RangeError' }, 'once gone, the -1 fd is invalid again');
    });

    t.test('timeouts: <= 0 polls, positive waits, empty selector too', async (t) => {
      const sel = make(t, factory);
      let start = performance.now();
      t.same(sel.select(0), []);
      t.same(sel.select(-5), [], 'negative polls');
      t.ok(since(start) < 500, 'polls return at once');
      start = performance.now();
      t.same(sel.select(0.25), [], 'empty selector');
      const waited = since(start);
      t.ok(waited >= 200, `empty selector honours the timeout (${waited.toFixed(0)} ms)`);
      t.ok(waited < 5000);
      const [a] = pair(t);
      sel.register(a, EVENT_READ);
      start = performance.now();
      t.same(sel.select(0.0001), []);
      t.ok(since(start) < 1000, 'a tiny timeout rounds up to 1 ms, not 0 and not forever');
      t.throws(() => sel.select('1' as never), { name: 'TypeError' });
    });

    t.test('selectAsync: polls first, waits in Node, honours the timeout', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      const ka = sel.register(a, EVENT_READ);
      put(b, 'x');
      t.same(await sel.selectAsync(5), [[ka, EVENT_READ]], 'ready at once');
      take(a);
      let start = performance.now();
      t.same(await sel.selectAsync(0), []);
      t.same(await sel.selectAsync(-1), []);
      t.ok(since(start) < 500);
      start = performance.now();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      t.same(await sel.selectAsync(0.3), []);
      clearInterval(timer);
      t.ok(since(start) >= 250, `timeout honoured (${since(start).toFixed(0)} ms)`);
      t.ok(ticks >= 3, `timers ran while waiting (${ticks})`);
      const later = setTimeout(() => put(b, 'y'), 50);
      start = performance.now();
      t.same(await sel.selectAsync(10), [[ka, EVENT_READ]], 'data from a timer wakes the wait');
      clearTimeout(later);
      t.ok(since(start) < 5000);
    });

    t.test('selectAsync: a setTimeout fires and register from a timer wakes the wait', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      put(b, 'ready before registration');
      let fired = false;
      setTimeout(() => {
        fired = true;
      }, 30);
      setTimeout(() => sel.register(a, EVENT_READ, 'late'), 120);
      const start = performance.now();
      const ready = await sel.selectAsync(10);
      t.ok(fired, 'the first timer ran during the wait');
      t.equal(ready.length, 1);
      t.equal(ready[0][0].data, 'late');
      t.equal(ready[0][1], EVENT_READ);
      t.ok(since(start) < 5000, `woken by register (${since(start).toFixed(0)} ms)`);
    });

    t.test('selectAsync: modify and unregister from a timer take effect', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      const [c] = pair(t);
      sel.register(a, EVENT_READ);
      setTimeout(() => sel.modify(a, EVENT_WRITE, 'w'), 60);
      let ready = await sel.selectAsync(10);
      t.same(ready.map(([k, ev]) => [k.fd, ev, k.data]), [[a, EVENT_WRITE, 'w']]);
      sel.modify(a, EVENT_READ);
      sel.register(c, EVENT_READ);
      setTimeout(() => {
        put(b, 'z');
        sel.unregister(a);
      }, 60);
      const start = performance.now();
      ready = await sel.selectAsync(0.5);
      t.same(ready, [], 'events of an fd unregistered meanwhile are dropped');
      t.ok(since(start) >= 400);
    });

    t.test('selectAsync: close() ends a pending wait with []', async (t) => {
      const sel = factory();
      const [a] = pair(t);
      sel.register(a, EVENT_READ);
      setTimeout(() => sel.close(), 50);
      const start = performance.now();
      t.same(await sel.selectAsync(), []);
      t.ok(since(start) < 5000);
      t.ok(sel.closed);
    });

    t.test('selectAsync: one at a time; AbortSignal rejects', async (t) => {
      const sel = make(t, factory);
      const [a] = pair(t);
      sel.register(a, EVENT_READ);
      const ac = new AbortController();
      const pending = sel.selectAsync(10, { signal: ac.signal });
      await t.rejects(sel.selectAsync(1), { code: 'ERR_SELECTOR_BUSY' });
      setTimeout(() => ac.abort(), 30);
      await t.rejects(pending, { name: 'AbortError', code: 'ABORT_ERR' });
      await t.rejects(sel.selectAsync(1, { signal: ac.signal }), { name: 'AbortError' }, 'already aborted');
      t.same(await sel.selectAsync(0), [], 'usable again');
    });

    t.test('run(): an echo loop over a socketpair, stopped by AbortSignal', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      sel.register(a, EVENT_READ, 'echo');
      sel.register(b, EVENT_READ, 'client');
      const ac = new AbortController();
      const got: string[] = [];
      let sent = 0;
      put(b, 'msg0');
      const loop = sel.run((key, events) => {
        t.equal(events, EVENT_READ);
        const data = take(key.fd);
        if (key.data === 'echo') put(a, data);
        else {
          got.push(data.toString());
          if (++sent < 5) put(b, `msg${sent}`);
          else ac.abort();
        }
      }, { signal: ac.signal });
      const guard = setTimeout(() => ac.abort(), 10_000);
      await loop;
      clearTimeout(guard);
      t.same(got, ['msg0', 'msg1', 'msg2', 'msg3', 'msg4']);
      t.notOk(sel.closed, 'abort stops the loop without closing the selector');
    });

    t.test('events(): for await, ends when the selector closes', async (t) => {
      const sel = factory();
      const [a, b] = pair(t);
      sel.register(a, EVENT_READ);
      put(b, 'one');
      let n = 0;
      const guard = setTimeout(() => sel.close(), 10_000);
      for await (const [key, events] of sel.events()) {
        t.equal(key.fd, a);
        t.equal(events, EVENT_READ);
        take(a);
        if (++n === 3) {
          setTimeout(() => sel.close(), 20);
          continue;
        }
        put(b, 'again');
      }
      clearTimeout(guard);
      t.equal(n, 3);
      t.ok(sel.closed);
    });

    t.test('run(): a throwing handler rejects the loop', async (t) => {
      const sel = make(t, factory);
      const [a, b] = pair(t);
      sel.register(a, EVENT_READ);
      put(b, 'x');
      await t.rejects(sel.run(() => {
        throw new Error('handler failed');
      }), { message: 'handler failed' });
      const ac = new AbortController();
      ac.abort();
      await sel.run(() => t.fail('not called'), { signal: ac.signal });
    });
  });
}
