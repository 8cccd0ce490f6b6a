/**
 * A worker process of prefork-server (not a program of its own): started
 * once, before any client comes, it finds its end of a Unix socketpair to
 * the parent already open as its fd 3. It writes one byte ("R": ready)
 * on that channel, then waits in recvFds() for the parent to pass it an
 * accepted connection (SCM_RIGHTS), serves that client with blocking
 * calls until it hangs up, says "R" again, and waits for the next one —
 * so one worker serves many clients, one at a time, and no process is
 * started per connection.
 *
 * Started by the parent as
 *   spawn(process.execPath, [this file, '--quiet'?],
 *         { stdio: ['ignore', 'inherit', 'inherit', channelFd] })
 *
 * It exits 0 when the parent closes the channel (end of stream, or a reset
 * when the parent had not read our last "R") or on
 * SIGINT/SIGTERM (KeyboardInterrupt ends the blocking call; the client's
 * socket is closed first).
 */

import {
  AF_UNIX, KeyboardInterrupt, SOCK_STREAM, Socket, SyscallError, enableKeyboardInterrupt, formatAddress, recvFds,
} from '../../lib/index.js';
import { describeError } from '../common/program.js';
import { serveClient } from '../common/echo-servers.js';

// The fd the parent puts the channel on (its stdio index). This module
// runs on import: never import it, spawn it.
const CHANNEL_FD = 3;

function worker(): number {
  const prefix = `[worker ${process.pid}]`;
  const log = process.argv.includes('--quiet') ? () => {} : (...parts: unknown[]) => console.log(prefix, ...parts);
  const interrupts = enableKeyboardInterrupt();
  let channel: Socket | undefined;
  try {
    channel = new Socket(AF_UNIX, SOCK_STREAM, 0, CHANNEL_FD);
    channel.setblocking(true);
    channel.sendall('R');
    for (;;) {
      // One byte of data travels with each fd: a stream receiver never sees fds sent alone.
      const [data, fds] = recvFds(channel, 1, 1) ?? [Buffer.alloc(0), []];
      if (data.length === 0) return 0; // the parent closed the channel: stop
      if (fds.length === 0) continue;
      // The fd is new in this process (close-on-exec), the same connection as the parent accepted.
      const sock = new Socket(null, null, null, fds[0]);
      sock.setblocking(true);
      const addr = sock.getpeername();
      log('serving client', formatAddress(addr));
      const failure = serveClient(sock, addr, log);
      if (failure !== null) log('client failed:', failure.message);
      channel.sendall('R');
    }
  } catch (err) {
    if (err instanceof KeyboardInterrupt) return 0;
    // The parent closed the channel with our "R" still unread (it was
    // stopping): a Unix stream reports that as a reset, not as an end.
    if (err instanceof SyscallError && err.code === 'ECONNRESET' && err.syscall === 'recvmsg') return 0;
    process.stderr.write(`${prefix} error: ${describeError(err)}\n`);
    return 1;
  } finally {
    channel?.close();
    interrupts.disable();
  }
}

process.exitCode = worker();
