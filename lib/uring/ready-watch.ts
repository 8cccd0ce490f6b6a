/**
 * How an engine behind a Proactor waits in Node's loop: one libuv watch
 * (koffi's poll handle) of the fd that becomes readable when there is
 * work (the io_uring engine's eventfd, the epoll engine's epoll fd).
 *
 * The watch is armed only while none of the engine's JavaScript runs: it
 * is stopped when it fires and armed again after the wake-up, and the
 * wake-up itself runs from `setImmediate`, never inside koffi's callback.
 * A worker terminated while a callback of ours is stuck then has no active
 * watch that could fire into its dying environment (koffi would rethrow the
 * termination, which is fatal), and the one handle is stopped and started
 * rather than closed and made anew, so no handle is left closing when a
 * worker ends (koffi's handles must not outlive their worker: NOTES.md).
 */

import { isMainThread } from 'node:worker_threads';
import type { FdWatcher, Libc } from '../sys/libc.js';

const READABLE = { readable: true, writable: false };

// A worker that calls process.exit() stops its JavaScript at once, but
// libuv may still run the rest of that loop iteration: a watch whose fd
// became readable in the same batch as the message that led to the exit
// would then call into the stopped JavaScript, and koffi makes that fatal
// for the whole process. 'exit' listeners run before the stop: disarm
// every armed watch there. (terminate() runs no listener; there the watch
// is only armed while the thread is idle, as above.)
const armed = new Set<ReadyWatch>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const w of armed) w.disarm();
  });
}

/** The watch of one fd for an engine's Node-loop mode. */
export class ReadyWatch {
  readonly #watch: Libc['watch'];
  readonly #fd: number;
  readonly #wake: () => void;
  #watcher: FdWatcher | null = null;
  #armed = false;
  #scheduled = false;

  /**
   * @param watch the binding's `watch` (libuv poll).
   * @param fd the fd to watch for reading.
   * @param wake the engine's wake-up, run from `setImmediate` once the fd is readable (the watch is disarmed by then; it re-arms).
   */
  constructor(watch: Libc['watch'], fd: number, wake: () => void) {
    this.#watch = watch;
    this.#fd = fd;
    this.#wake = wake;
  }

  /** Watch (again). Idempotent. */
  arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    if (!isMainThread) {
      armed.add(this);
      hookExit();
    }
    if (this.#watcher === null) this.#watcher = this.#watch(this.#fd, true, false, this.#fire);
    else this.#watcher.start(READABLE, this.#fire);
  }

  /** Stop watching, keeping the handle for the next {@link arm}. Idempotent. */
  disarm(): void {
    if (!this.#armed) return;
    this.#armed = false;
    armed.delete(this);
    this.#watcher?.stop();
  }

  /** Release the handle. Idempotent. */
  close(): void {
    this.disarm();
    this.#watcher?.close();
    this.#watcher = null;
  }

  readonly #fire = (): void => {
    this.disarm();
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#wakeNow);
  };

  readonly #wakeNow = (): void => {
    this.#scheduled = false;
    if (this.#watcher !== null) this.#wake();
  };
}
