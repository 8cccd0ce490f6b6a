// Workers terminated, exiting or aborting during a pending epoll wait (see teardown-suite.ts).
import t from 'tap';
import { teardownSuite } from './teardown-suite.js';

t.test('epoll: workers that end during a pending wait', (t) => teardownSuite(t, 'epoll'));
