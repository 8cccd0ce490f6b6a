/**
 * The worker thread of multi-thread-server (not a program of its own): it
 * gets the connected socket's fd number in `workerData`, wraps it in a
 * Socket, serves that one client with blocking calls until the client
 * closes, and ends.
 *
 * Threads share one fd table, so the fd number means the same socket here
 * as in the main thread — no passing or dup2 needed, unlike a child
 * process. For the same reason the socket must be closed exactly once: the
 * main thread owns it and closes it when this worker has ended, so the
 * worker wraps it `borrowed` (never closed by this thread, not even when
 * the worker is terminated) and only detaches its wrapper.
 */

import { parentPort, threadId, workerData } from 'node:worker_threads';
import { SOCK_STREAM, Socket, type SocketAddress } from '../../lib/index.js';
import { serveClient } from '../common/echo-servers.js';

/** What the main thread passes in `workerData`. */
interface EchoThreadData {
  fd: number;
  family: number;
  addr: SocketAddress;
  quiet: boolean;
}

const { fd, family, addr, quiet } = workerData as EchoThreadData;
const prefix = `[thread ${threadId}]`;
const sock = new Socket(family, SOCK_STREAM, 0, fd, { borrowed: true });
// Loaded (the modules' files are closed again): the main thread may start another thread.
parentPort?.postMessage('started');
try {
  const failure = serveClient(sock, addr, quiet ? () => {} : (...parts) => console.log(prefix, ...parts), false);
  if (failure !== null && !quiet) console.log(prefix, 'client failed:', failure.message);
} finally {
  // The main thread closes the fd (see above).
  sock.detach();
}
