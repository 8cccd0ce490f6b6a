/**
 * Every example program, by the name the `node-selectors` CLI knows it
 * by, with the seed it comes from. Loaded lazily: running one program
 * loads only its module.
 */

import type { ProgramSpec } from './common/program.js';

/** Where a program comes from, for `node-selectors --help`. */
export type Seed = '000 epoll howto' | '002 Real Python' | '003 select/poll/epoll' | '004 server models';

/** One registry entry. */
export interface ProgramEntry {
  readonly seed: Seed;
  /** The module (relative to this file) whose default export is the ProgramSpec. */
  readonly load: () => Promise<{ default: ProgramSpec }>;
}

/** The registry, in teaching order. */
export const PROGRAMS: Record<string, ProgramEntry> = {
  // Seed 000: the epoll howto, blocking → epoll level-triggered → edge-triggered → socket options.
  'howto-blocking-once': { seed: '000 epoll howto', load: () => import('./howto-blocking-once.js') },
  'howto-blocking': { seed: '000 epoll howto', load: () => import('./howto-blocking.js') },
  'howto-epoll-lt': { seed: '000 epoll howto', load: () => import('./howto-epoll-lt.js') },
  'howto-epoll-et': { seed: '000 epoll howto', load: () => import('./howto-epoll-et.js') },
  'howto-epoll-cork': { seed: '000 epoll howto', load: () => import('./howto-epoll-cork.js') },
  'howto-epoll-nodelay': { seed: '000 epoll howto', load: () => import('./howto-epoll-nodelay.js') },
  'epoll-oneshot': { seed: '000 epoll howto', load: () => import('./epoll-oneshot.js') }, // the course, chapter 6
  'nodelay-demo': { seed: '000 epoll howto', load: () => import('./nodelay-demo.js') }, // the course, chapter 6
  demo: { seed: '002 Real Python', load: () => import('./demo.js') },
  // Seed 002: Real Python's sockets tutorial.
  'echo-server': { seed: '002 Real Python', load: () => import('./echo-server.js') },
  'echo-client': { seed: '002 Real Python', load: () => import('./echo-client.js') },
  'multiconn-server': { seed: '002 Real Python', load: () => import('./multiconn-server.js') },
  'multiconn-client': { seed: '002 Real Python', load: () => import('./multiconn-client.js') },
  'app-server': { seed: '002 Real Python', load: () => import('./app-server.js') },
  'app-client': { seed: '002 Real Python', load: () => import('./app-client.js') },
  // Seed 003: select, poll and epoll explained, up to a static web server.
  'select-echo-server': { seed: '003 select/poll/epoll', load: () => import('./select-echo-server.js') },
  'poll-server': { seed: '003 select/poll/epoll', load: () => import('./poll-server.js') },
  'epoll-echo-server': { seed: '003 select/poll/epoll', load: () => import('./epoll-echo-server.js') },
  'epoll-web-server': { seed: '003 select/poll/epoll', load: () => import('./epoll-web-server.js') },
  // Seed 004: server models, blocking → processes → threads → non-blocking → select → epoll.
  'single-process-server': { seed: '004 server models', load: () => import('./single-process-server.js') },
  'multi-process-server': { seed: '004 server models', load: () => import('./multi-process-server.js') },
  'prefork-server': { seed: '004 server models', load: () => import('./prefork-server.js') },
  'multi-thread-server': { seed: '004 server models', load: () => import('./multi-thread-server.js') },
  'nonblocking-server': { seed: '004 server models', load: () => import('./nonblocking-server.js') },
  'select-stdin-server': { seed: '004 server models', load: () => import('./select-stdin-server.js') },
  'select-writelist-server': { seed: '004 server models', load: () => import('./select-writelist-server.js') },
  'epoll-server': { seed: '004 server models', load: () => import('./epoll-server.js') },
  'line-client': { seed: '004 server models', load: () => import('./line-client.js') }, // the course's nc
};
