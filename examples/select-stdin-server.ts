/**
 * select-stdin-server — seed 004's "select 回显服务器": an echo server that
 * watches the listening socket, every client AND the keyboard with one
 * select() call, and quits when you type a line.
 *
 * What it teaches: select() takes a list of file descriptors — any kind,
 * not only sockets: standard input (fd 0) sits in the same list as the
 * listening socket and the connections — blocks until at least one is
 * readable, and returns those. One thread then serves many clients
 * without ever blocking on one of them: the listening socket readable →
 * accept() (it will not block) and add the connection to the list; stdin
 * readable → read the line and stop; a connection readable → recv() (it
 * will not block) and send the data back, or, on no bytes, the client
 * closed: remove it from the list and close it.
 *
 * select() copies the whole list into the kernel on every call and the
 * kernel scans all of it; it only handles fds below 1024 (FD_SETSIZE): a
 * connection that gets a higher fd is closed with a line. Out of fds
 * (EMFILE), the listening socket leaves the list for a short pause (one
 * line is printed) instead of being reported readable, and failing, on
 * every call.
 * The reply goes out with a blocking sendall(): a client that sends a lot
 * and never reads would block the whole server once its socket buffer is
 * full (select-writelist-server fixes that with a write list).
 *
 * End of stdin counts as a line (Python's readline() returns '' and the
 * seed stops): with stdin from /dev/null — e.g. started in the background
 * by a non-interactive shell — it quits at once; give it a terminal or a
 * pipe that stays open. If stdin is not open at all, it is not watched.
 *
 * The seed listens on ('', 7788) (every interface); here host and port are
 * arguments, defaulting to 127.0.0.1 7788.
 *
 * Self-contained on purpose: its select() loop is written out, to be read alone.
 *
 * Run:    node-selectors select-stdin-server 127.0.0.1 7788   (Enter quits)
 * Talk:   nc 127.0.0.1 7788   (several at once)
 *         node-selectors multiconn-client 127.0.0.1 7788 5
 * Flags:  --trace, --quiet, --backlog N (default 5, as the seed)
 */

import { fstatSync, readSync } from 'node:fs';
import { SyscallError, formatAddress, pythonRepr, select, type Socket } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, hostAndPort, refuseUnselectable, traceEvent } from './common/raw-loop.js';
import { acceptReady, listenTcp } from './common/echo-servers.js';

const STDIN = 0;

function stdinIsOpen(): boolean {
  try {
    fstatSync(STDIN);
    return true;
  } catch {
    return false;
  }
}

/** Read what stdin has (a line, from a terminal); null if it would block after all. */
function readStdin(): string | null {
  const buf = Buffer.alloc(4096);
  try {
    return buf.toString('utf8', 0, readSync(STDIN, buf, 0, buf.length, null));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return null;
    throw err;
  }
}

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const server = listenTcp(host, port, ctx.backlog(5));
  // The select() list: the listening socket, stdin, then every connection.
  const inputs: Array<Socket | number> = [server];
  if (stdinIsOpen()) inputs.push(STDIN);
  const peers = new Map<Socket | number, string>();
  // Out of fds (EMFILE), the listening socket stays readable while accept()
  // fails: it leaves the list for a short pause (one line is printed).
  const acceptPause = new AcceptPause();
  const drop = (sock: Socket): void => {
    inputs.splice(inputs.indexOf(sock), 1);
    peers.delete(sock);
    sock.close();
    acceptPause.fdFreed();
  };
  let running = true;
  try {
    while (running) {
      // Block until something in the list is readable (Ctrl-C: KeyboardInterrupt).
      if (acceptPause.due()) inputs.unshift(server); // the pause is over: accept again
      const [readable] = select.select(inputs, [], [], acceptPause.timeout(null));
      for (const sock of readable) {
        if (ctx.flags.trace === true) {
          const fd = typeof sock === 'number' ? sock : sock.fileno();
          traceEvent(ctx, fd, sock === server ? 'listening socket' : sock === STDIN ? 'stdin' : peers.get(sock), 'READ');
        }
        if (sock === server) {
          // A new connection: accept() will not block.
          let accepted: ReturnType<typeof acceptReady>;
          try {
            accepted = acceptReady(server);
          } catch (err) {
            if (!(err instanceof SyscallError && acceptPause.failed(err))) throw err;
            inputs.splice(inputs.indexOf(server), 1); // EMFILE: paused
            continue;
          }
          if (accepted === null) continue;
          acceptPause.accepted();
          const [conn, addr] = accepted;
          if (refuseUnselectable(conn, addr)) continue; // fd >= 1024: closed, with a line
          inputs.push(conn);
          peers.set(conn, formatAddress(addr));
          ctx.log('new client', formatAddress(addr));
        } else if (sock === STDIN) {
          // Something typed: stop (as the seed does for any line).
          const line = readStdin();
          if (line === null) continue;
          console.log(line === '' ? 'end of stdin, exiting' : `got ${pythonRepr(line.trimEnd())} from stdin, exiting`);
          running = false;
          break;
        } else {
          const conn = sock as Socket;
          const peer = peers.get(conn);
          try {
            const data = conn.recv(1024)!; // readable: will not block
            if (data.length > 0) {
              ctx.log('received', pythonRepr(data), 'from', peer);
              conn.sendall(data);
            } else {
              ctx.log('client', peer, 'closed');
              drop(conn);
            }
          } catch (err) {
            if (!(err instanceof SyscallError)) throw err;
            ctx.log('client', peer, 'failed:', err.message);
            drop(conn);
          }
        }
      }
    }
  } finally {
    for (const sock of inputs) if (typeof sock !== 'number') sock.close();
  }
}

const spec: ProgramSpec = {
  name: 'select-stdin-server',
  usage: '[host] [port]',
  summary: 'Seed 004: select() echo server watching the sockets and stdin; a line on stdin stops it',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'READ/WRITE/EXCEPTIONAL',
  help: 'Defaults: 127.0.0.1 7788. Type a line (or close stdin) to stop it. Talk to it with: nc 127.0.0.1 7788',
  main,
};

export default spec;
runMain(spec, import.meta.url);
