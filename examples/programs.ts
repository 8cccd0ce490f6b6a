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
  demo: { seed: '002 Real Python', load: () => import('./demo.js') },
  // Seed 002: Real Python's sockets tutorial.
  'app-server': { seed: '002 Real Python', load: () => import('./app-server.js') },
  'app-client': { seed: '002 Real Python', load: () => import('./app-client.js') },
};
