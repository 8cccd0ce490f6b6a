/**
 * An fd that is closed when its worker thread ends, even when the worker
 * is terminated and no JavaScript runs any more: the fd number is handed to
 * a Node pipe handle, and Node closes every handle of a worker's loop at
 * teardown. In the main thread (the process's end closes everything) the
 * fd is left as it is.
 */

import { Socket } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { O_CLOEXEC } from './constants.js';
import { check, fail } from './check.js';
import type { Libc } from './libc.js';

/** An fd, and the binding whose `close(fd)` releases it. */
export interface LoopOwnedFd {
  readonly fd: number;
  /** `sys` itself, except that `close(fd)` closes the Node handle that owns the fd. */
  readonly sys: Libc;
}

/**
 * Give `fd` to Node's loop in a worker thread (see the file comment); in
 * the main thread, return it unchanged. Consumes `fd` either way: on
 * failure it is closed.
 * @throws {SyscallError} if pipe2() or dup3() fails (e.g. EMFILE).
 */
export function loopOwnedFd(sys: Libc, fd: number): LoopOwnedFd {
  if (isMainThread) return { fd, sys };
  let handle: Socket;
  let owned: number;
  try {
    const ends = new Int32Array(2);
    check(sys, sys.pipe2(ends, O_CLOEXEC), 'pipe2');
    owned = ends[0];
    sys.close(ends[1]);
    // A pipe end is a fd type Node's net.Socket accepts; never read from,
    // the handle only owns the fd number. dup3() then puts our kernel
    // object under that number (atomically replacing the pipe end).
    try {
      handle = new Socket({ fd: owned, readable: false, writable: false });
    } catch (err) {
      sys.close(owned);
      throw err;
    }
    handle.unref();
    if (sys.dup3(fd, owned, O_CLOEXEC) < 0) {
      const err = fail(sys, 'dup3', undefined);
      handle.destroy();
      throw err;
    }
  } finally {
    sys.close(fd);
  }
  let open = true;
  const view: Libc = Object.create(sys, {
    close: {
      value: (n: number): number => {
        if (n !== owned || !open) return sys.close(n);
        open = false;
        // libuv closes a stream's fd inside uv_close(), synchronously.
        handle.destroy();
        return 0;
      },
    },
  });
  return { fd: owned, sys: view };
}
