/**
 * poll-server — the poll() server of "select, poll and epoll in Python"
 * (seed 003): answers whatever a client sends with "hello world", then
 * closes the connection.
 *
 * What it teaches: a poll object remembers, per fd, the events to watch
 * (`poll.register(fd, POLLIN)`), `poll.modify()` changes them, and
 * `poll.poll()` (timeout in MILLISECONDS, unlike select and epoll; none =
 * wait for ever) returns `[fd, event]` pairs for the fds that are ready.
 * Unlike select() there is no 1024-fd limit, but the kernel still scans
 * the whole list on every call. A client is watched for POLLIN until it
 * sends something, then for POLLOUT; when it is writable the answer goes
 * out, the fd is unregistered and the socket closed. poll() reports
 * POLLHUP/POLLERR without being asked: a client that hangs up is closed.
 * Out of fds (EMFILE), the server fd is modified to watch nothing for a
 * short pause (one line is printed) instead of being reported, and
 * failing, on every call.
 *
 * Self-contained on purpose: its poll() loop is written out, to be read alone.
 *
 * Run:    node-selectors poll-server                       (127.0.0.1:10000)
 * Talk:   printf 'hi' | nc 127.0.0.1 10000      (prints: hello world)
 * Flags:  --backlog N (default 1, as the seed), --trace, --quiet
 */

import {
  familyOf,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  Socket,
  SyscallError,
  formatAddress,
  select,
  type SocketAddress,
} from '../lib/index.js';
import { AcceptPause, hostAndPort, pollEventNames, printListening, traceEvent } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

const response = Buffer.from('hello world');

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 10000);
  const serversocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  const poll = select.poll();
  const connections = new Map<number, Socket>();
  const peers = new Map<number, SocketAddress>();
  // Out of fds, a pending connection keeps the server fd reporting POLLIN
  // while accept() fails: watch it for nothing for a moment rather than spin.
  const acceptPause = new AcceptPause();

  const closeConnection = (fd: number): void => {
    const con = connections.get(fd);
    if (con === undefined) return;
    poll.unregister(fd);
    con.close();
    connections.delete(fd);
    peers.delete(fd);
    acceptPause.fdFreed();
  };

  try {
    serversocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    serversocket.bind([host, port]);
    serversocket.listen(ctx.backlog(1));
    serversocket.setblocking(false);

    const serverfd = serversocket.fileno();
    poll.register(serverfd, POLLIN);
    printListening(serversocket, host);

    for (;;) {
      if (acceptPause.due()) poll.modify(serverfd, POLLIN); // the pause is over: try accept() again
      const timeout = acceptPause.timeout(null); // seconds; poll() takes milliseconds
      for (const [fd, event] of poll.poll(timeout === null ? null : Math.ceil(timeout * 1000))) {
        traceEvent(ctx, fd, fd === serverfd ? 'listening socket' : peers.get(fd), pollEventNames(event));
        try {
          if (fd === serverfd) {
            const accepted = serversocket.accept();
            if (accepted === null) continue;
            acceptPause.accepted();
            const [con, addr] = accepted;
            con.setblocking(false);
            ctx.log('new connection from', formatAddress(addr));
            poll.register(con.fileno(), POLLIN);
            connections.set(con.fileno(), con);
            peers.set(con.fileno(), addr);
          } else if (event & POLLIN) {
            const con = connections.get(fd) as Socket;
            const data = con.recv(1024);
            if (data === null) continue;
            if (data.length > 0) {
              ctx.log('received', formatAddress(data), 'from', formatAddress(peers.get(fd)));
              poll.modify(fd, POLLOUT);
            } else {
              // End of stream before any request: the seed would poll this fd for ever.
              ctx.log('closing', formatAddress(peers.get(fd)), 'after reading no data');
              closeConnection(fd);
            }
          } else if (event & POLLOUT) {
            const con = connections.get(fd) as Socket;
            con.send(response);
            ctx.log('sent', formatAddress(response), 'to', formatAddress(peers.get(fd)));
            closeConnection(fd);
          } else if (event & (POLLHUP | POLLERR | POLLNVAL)) {
            closeConnection(fd);
          }
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          if (fd === serverfd) {
            if (acceptPause.failed(err)) poll.modify(serverfd, 0); // EMFILE: pause (one line printed)
            else console.log(`error: accept: ${err.message}`); // ECONNABORTED...: carry on
          } else {
            ctx.log(`error: ${formatAddress(peers.get(fd))}: ${err.message}`);
            closeConnection(fd);
          }
        }
      }
    }
  } finally {
    for (const fd of [...connections.keys()]) closeConnection(fd);
    serversocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'poll-server',
  usage: '[host] [port]',
  summary: 'poll() server that answers any message with "hello world", then closes',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'POLLIN/POLLOUT/POLLHUP…',
  help: `Talk to it with: printf 'hi' | nc 127.0.0.1 10000

The seed listens on localhost:10000 with a backlog of 1; so does this
program by default (127.0.0.1). Port 0 picks a free port; pass --backlog 128
before sending it many clients at once.`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
