/**
 * Waiting in Node's loop until one fd is readable, with a libuv poll handle
 * (koffi's `uv_poll_t`): how EpollSelector waits without blocking Node, on
 * its epoll fd (readable when it has ready events).
 */

import type { Libc } from '../lib/sys/libc.js';
import type { LoopWaiter } from './node-loop-wait.js';

/**
 * A {@link LoopWaiter} on one fd: no thread, no extra fd, one libuv handle
 * per armed wait, closed as soon as that wait ends.
 */
export class FdWatch implements LoopWaiter {
  readonly #sys: Libc;
  readonly #fd: number;

  /**
   * @param sys the libc binding (its `watch`).
   * @param fd the fd to watch for reading.
   */
  constructor(sys: Libc, fd: number) {
    this.#sys = sys;
    this.#fd = fd;
  }

  /**
   * Watch the fd until it is readable, `timeoutMs` passes (-1: never) or
   * the returned function is called; then close the handle and call `done`.
   */
  arm(timeoutMs: number, done: () => void): () => void {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      watcher.close();
      if (timer !== undefined) clearTimeout(timer);
      done();
    };
    const watcher = this.#sys.watch(this.#fd, true, false, finish);
    if (timeoutMs >= 0) timer = setTimeout(finish, timeoutMs);
    return finish;
  }

  /** Nothing to do: the watched fd reflects registration changes itself (an epoll fd does). */
  registrationsChanged(_fd: number): void {}

  /** Nothing to release: every handle is closed when its wait ends. */
  close(): void {}
}
