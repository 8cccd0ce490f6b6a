/**
 * The child process of multi-process-server (not a program of its own):
 * it finds the connected socket the parent accepted already open as its
 * fd 3, wraps it in a Socket, serves that one client with blocking calls
 * until the client closes, and exits.
 *
 * Started by the parent as
 *   spawn(process.execPath, [this file, family, '--quiet'?],
 *         { stdio: ['ignore', 'inherit', 'inherit', connectedFd] })
 * — Node's `stdio` array puts the parent's fd at index 3 in the child
 * (dup2 in the forked child, before exec; the copy is not close-on-exec).
 *
 * SIGINT/SIGTERM (Ctrl-C reaches every process of the terminal's group;
 * the parent sends SIGTERM when it stops) end the blocking recv() with
 * KeyboardInterrupt: the socket is closed and the child exits 0.
 */

import { SOCK_STREAM, Socket, enableKeyboardInterrupt, KeyboardInterrupt } from '../../lib/index.js';
import { describeError } from '../common/program.js';
import { serveClient } from '../common/echo-servers.js';

// The fd the parent puts the connection on (its stdio index). This module
// runs on import: never import it, spawn it.
const CONNECTION_FD = 3;

function child(): number {
  const family = Number(process.argv[2]);
  const quiet = process.argv.includes('--quiet');
  const prefix = `[process ${process.pid}]`;
  const interrupts = enableKeyboardInterrupt();
  let sock: Socket | undefined;
  try {
    sock = new Socket(family, SOCK_STREAM, 0, CONNECTION_FD);
    sock.setblocking(true);
    const addr = sock.getpeername();
    const failure = serveClient(sock, addr, quiet ? () => {} : (...parts) => console.log(prefix, ...parts));
    if (failure !== null && !quiet) console.log(prefix, 'client failed:', failure.message);
    return 0;
  } catch (err) {
    if (err instanceof KeyboardInterrupt) return 0;
    process.stderr.write(`${prefix} error: ${describeError(err)}\n`);
    return 1;
  } finally {
    sock?.close();
    interrupts.disable();
  }
}

process.exitCode = child();
