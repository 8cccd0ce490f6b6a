/**
 * select-echo-server — the select() echo server of "select, poll and epoll
 * in Python" (seed 003, after PyMOTW): every connection gets an output
 * queue, and select() is asked about three lists at once.
 *
 * What it teaches: `select.select(inputs, outputs, inputs)` returns the
 * readable, writable and "exceptional" sockets of the lists it was given.
 * `inputs` holds the server socket (readable = a connection to accept) and
 * every client (readable = data, or end of stream). Received data is put
 * on that client's queue and the client added to `outputs`; when select()
 * reports it writable, one queued message is sent back (in upper case, as
 * the seed does) and, once the queue is empty, the client leaves `outputs`
 * again — a socket stays in the write list only while it has something to
 * send, or select() would report it writable on every call. Sockets are
 * file objects: select() returns the same Socket objects it was given.
 * select() watches fds below 1024 only (FD_SETSIZE): a connection that
 * gets a higher fd is refused with a message. Out of fds (EMFILE), the
 * server socket leaves `inputs` for a short pause (one line is printed)
 * instead of being reported readable, and failing, on every call.
 *
 * Self-contained on purpose: its select() loop is written out, to be read alone.
 *
 * Run:    node-selectors select-echo-server                (127.0.0.1:10000)
 * Talk:   nc 127.0.0.1 10000          (type lines: they come back in upper case)
 *         node-selectors echo-client 127.0.0.1 10000
 * Flags:  --backlog N (default 5, as the seed), --trace (READ/WRITE/
 *         EXCEPTIONAL per socket as select() returns it), --quiet
 */

import {
  familyOf,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  Socket,
  SyscallError,
  formatAddress,
  select,
  type SocketAddress,
} from '../lib/index.js';
import { AcceptPause, hostAndPort, printListening, refuseUnselectable, traceEvent } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

/** Python's `bytes.upper()`: ASCII letters only. */
function upper(data: Buffer): Buffer {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) if (out[i] >= 0x61 && out[i] <= 0x7a) out[i] -= 0x20;
  return out;
}

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 10000);
  const server = new Socket(familyOf([host, port]), SOCK_STREAM);
  const inputs: Socket[] = [server];
  const outputs: Socket[] = [];
  // Python's message_queues dict: the messages still to send to each client.
  const messageQueues = new Map<Socket, Buffer[]>();
  const peers = new Map<Socket, SocketAddress>();
  // Out of fds, a pending connection keeps the server socket readable while
  // accept() fails: leave it out of `inputs` for a moment rather than spin.
  const acceptPause = new AcceptPause();

  const remove = (list: Socket[], s: Socket): void => {
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
  };
  const closeClient = (s: Socket): void => {
    remove(outputs, s);
    remove(inputs, s);
    s.close();
    messageQueues.delete(s);
    peers.delete(s);
    acceptPause.fdFreed();
  };

  try {
    server.setblocking(false);
    server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    server.bind([host, port]);
    server.listen(ctx.backlog(5));
    printListening(server, host);

    while (inputs.length > 0 || acceptPause.paused) {
      if (acceptPause.due()) inputs.unshift(server); // the pause is over: try accept() again
      ctx.log('\nwaiting for the next event');
      const [readable, writable, exceptional] = select.select(inputs, outputs, inputs, acceptPause.timeout(null));
      if (ctx.flags.trace === true) {
        for (const s of readable) traceEvent(ctx, s.fileno(), s === server ? 'listening socket' : peers.get(s), 'READ');
        for (const s of writable) traceEvent(ctx, s.fileno(), peers.get(s), 'WRITE');
        for (const s of exceptional) traceEvent(ctx, s.fileno(), s === server ? 'listening socket' : peers.get(s), 'EXCEPTIONAL');
      }

      // Handle inputs.
      for (const s of readable) {
        if (s === server) {
          // A readable server socket has a connection to accept.
          let accepted: [Socket, SocketAddress] | null;
          try {
            accepted = s.accept();
          } catch (err) {
            if (!(err instanceof SyscallError)) throw err;
            if (acceptPause.failed(err)) remove(inputs, server); // EMFILE: pause (one line printed)
            else console.log(`error: accept: ${err.message}`); // ECONNABORTED...: carry on
            continue;
          }
          if (accepted === null) continue;
          acceptPause.accepted();
          const [connection, clientAddress] = accepted;
          if (refuseUnselectable(connection, clientAddress)) continue; // fd >= 1024: closed, with a line
          ctx.log('new connection from', formatAddress(clientAddress));
          connection.setblocking(false);
          inputs.push(connection);
          // Give the connection a queue for data we want to send.
          messageQueues.set(connection, []);
          peers.set(connection, clientAddress);
          continue;
        }
        const queue = messageQueues.get(s);
        if (queue === undefined) continue; // closed earlier in this round
        let data: Buffer | null;
        try {
          data = s.recv(1024);
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          ctx.log('closing', formatAddress(peers.get(s)), `after ${err.code}`);
          closeClient(s);
          continue;
        }
        if (data === null) continue; // nothing after all
        if (data.length > 0) {
          // A readable client socket has data.
          ctx.log('received', formatAddress(data), 'from', formatAddress(peers.get(s)));
          queue.push(data);
          // Add an output channel for the response.
          if (!outputs.includes(s)) outputs.push(s);
        } else {
          // Interpret an empty result as a closed connection.
          ctx.log('closing', formatAddress(peers.get(s)), 'after reading no data');
          closeClient(s);
        }
      }

      // Handle outputs.
      for (const s of writable) {
        const queue = messageQueues.get(s);
        if (queue === undefined) continue; // closed while handling inputs
        const nextMsg = queue.shift();
        if (nextMsg === undefined) {
          // No messages waiting, so stop checking for writability.
          ctx.log('output queue for', formatAddress(peers.get(s)), 'is empty');
          remove(outputs, s);
          continue;
        }
        const reply = upper(nextMsg);
        ctx.log('sending', formatAddress(reply), 'to', formatAddress(peers.get(s)));
        try {
          const sent = s.send(reply) ?? 0;
          // A non-blocking send may take part of it: the rest goes first next time.
          if (sent < reply.length) queue.unshift(reply.subarray(sent));
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          ctx.log('closing', formatAddress(peers.get(s)), `after ${err.code}`);
          closeClient(s);
        }
      }

      // Handle "exceptional conditions" (TCP urgent data).
      for (const s of exceptional) {
        if (!messageQueues.has(s)) continue;
        ctx.log('handling exceptional condition for', formatAddress(peers.get(s)));
        closeClient(s);
      }
    }
  } finally {
    for (const s of [...messageQueues.keys()]) closeClient(s);
    server.close();
  }
}

const spec: ProgramSpec = {
  name: 'select-echo-server',
  usage: '[host] [port]',
  summary: 'select() echo server with a write list and an output queue per connection',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'READ/WRITE/EXCEPTIONAL',
  help: `Talk to it with: nc 127.0.0.1 10000   (each line comes back in upper case)

The seed listens on localhost:10000 with a backlog of 5; so does this
program by default (127.0.0.1). Port 0 picks a free port.`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
