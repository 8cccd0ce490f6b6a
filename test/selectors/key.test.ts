// SelectorKey and event validation: pure, no libc.
import t from 'tap';
import { inspect } from 'node:util';
import { SelectorKey } from '../../selectors/selector-key.js';
import { EVENT_READ, EVENT_WRITE, validateEvents } from '../../selectors/events.js';

t.test('SelectorKey is an immutable namedtuple look-alike', async (t) => {
  const obj = { fileno: () => 7 };
  const k = new SelectorKey(obj, 7, EVENT_READ, { n: 1 });
  t.ok(Object.isFrozen(k));
  t.throws(() => {
    (k as { events: number }).events = 3;
  });
  t.same([...k], [obj, 7, EVENT_READ, { n: 1 }]);
  // A changed registration is a new key, as modify() builds it.
  const k2 = new SelectorKey(k.fileobj, k.fd, EVENT_WRITE, k.data);
  t.equal(k2.events, EVENT_WRITE);
  t.equal(k2.data, k.data);
  t.equal(k.events, EVENT_READ, 'the original key is unchanged');
  const k3 = new SelectorKey(k.fileobj, k.fd, k.events, undefined);
  t.equal(k3.data, undefined);
  t.equal(k3.events, EVENT_READ);
  t.equal(inspect(new SelectorKey(5, 5, 1, 'x')), "SelectorKey(fileobj=5, fd=5, events=1, data='x')");
});

t.test('validateEvents', async (t) => {
  t.equal(validateEvents(EVENT_READ), 1);
  t.equal(validateEvents(EVENT_WRITE), 2);
  t.equal(validateEvents(3), 3);
  for (const bad of [0, 4, -1, 2.5, '1', null]) t.throws(() => validateEvents(bad), { code: 'ERR_OUT_OF_RANGE' });
});
