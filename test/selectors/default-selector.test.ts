// DefaultSelector: epoll unless NODE_SELECTORS_BACKEND forces another,
// read once when the module loads.
import t from 'tap';
import { EpollSelector } from '../../selectors/epoll-selector.js';
import { PollSelector } from '../../selectors/poll-selector.js';
import { SelectSelector } from '../../selectors/select-selector.js';
import { selectorClass } from '../../selectors/default-selector.js';

t.test('selectorClass picks by name, epoll by default', async (t) => {
  t.equal(selectorClass(undefined), EpollSelector);
  t.equal(selectorClass(''), EpollSelector);
  t.equal(selectorClass('epoll'), EpollSelector);
  t.equal(selectorClass('poll'), PollSelector);
  t.equal(selectorClass('SELECT'), SelectSelector);
  t.throws(() => selectorClass('kqueue'), { code: 'ERR_INVALID_ARG_VALUE', message: /kqueue/ });
});

for (const [env, cls] of [['poll', 'PollSelector'], ['select', 'SelectSelector'], ['epoll', 'EpollSelector'], [undefined, 'EpollSelector']] as const) {
  t.test(`NODE_SELECTORS_BACKEND=${env}`, async (t) => {
    const saved = process.env.NODE_SELECTORS_BACKEND;
    if (env === undefined) delete process.env.NODE_SELECTORS_BACKEND;
    else process.env.NODE_SELECTORS_BACKEND = env;
    t.teardown(() => {
      if (saved === undefined) delete process.env.NODE_SELECTORS_BACKEND;
      else process.env.NODE_SELECTORS_BACKEND = saved;
    });
    const mod = await t.mockImport<typeof import('../../selectors/default-selector.js')>('../../selectors/default-selector.js');
    t.equal(mod.DefaultSelector.name, cls);
    const sel = new mod.DefaultSelector();
    t.equal(sel.constructor.name, cls);
    sel.close();
  });
}

t.test('an unknown backend warns and falls back to epoll', async (t) => {
  const saved = process.env.NODE_SELECTORS_BACKEND;
  process.env.NODE_SELECTORS_BACKEND = 'kqueue';
  t.teardown(() => {
    if (saved === undefined) delete process.env.NODE_SELECTORS_BACKEND;
    else process.env.NODE_SELECTORS_BACKEND = saved;
  });
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const mod = await t.mockImport<typeof import('../../selectors/default-selector.js')>('../../selectors/default-selector.js');
  t.equal(mod.DefaultSelector.name, 'EpollSelector');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(warnings.some((w) => /kqueue/.test(w.message)));
});
