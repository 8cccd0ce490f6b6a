/**
 * The client programs' loop on `--engine uring`: there are no readiness
 * events to dispatch, the Proactor completes the I/O and calls the
 * Messages back; the program only keeps it turning until every Message
 * closed (or Ctrl-C).
 */

import type { Message } from '../../lib/index.js';
import type { Proactor } from '../../lib/uring/index.js';

/** Blocking: turn (waiting up to 1 s each time) until every Message closed. Ctrl-C ends the wait with KeyboardInterrupt. */
export function turnUntilClosed(proactor: Proactor, messages: Message[]): void {
  while (messages.some((m) => !m.closed)) proactor.turn(1000);
}

/** In Node's loop: wait until every Message closed or `signal` aborts. */
export async function untilClosed(proactor: Proactor, messages: Message[], signal: AbortSignal): Promise<void> {
  let open = messages.filter((m) => !m.closed).length;
  if (open === 0 || signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    for (const m of messages) m.on('close', () => { if (--open === 0) done(); });
    signal.addEventListener('abort', done, { once: true });
    proactor.start(); // may finish at once (a refused connect)
    if (open === 0) done();
  });
  proactor.stop();
}
