// Workers terminated, exiting or aborting during a pending poll wait (see teardown-suite.ts).
import t from 'tap';
import { teardownSuite } from './teardown-suite.js';

t.test('poll: workers that end during a pending wait', (t) => teardownSuite(t, 'poll'));
