/**
 * select-writelist-server — seed 004's second select() server ("另外一个服务器
 * (包含writeList)"): an echo server whose replies wait in a per-client
 * message queue and go out only when select() says the socket is writable.
 *
 * What it teaches: the write list. select(inputs, outputs, inputs) watches
 * three lists: readable (the listening socket: a client is waiting;
 * a connection: data or EOF), writable (a connection whose send buffer
 * has room) and exceptional. Data received is not sent back at once: it
 * is put on the client's queue (Python's queue.Queue; here an array of
 * Buffers) and the client is added to the output list; when select()
 * reports it writable, one queued message is sent with a non-blocking
 * send(); an empty queue takes the client off the output list again.
 * Keeping a socket on the output list while there is nothing to send
 * would make select() return at once, forever (writable almost always).
 * No call ever blocks, so one slow client cannot stall the others.
 *
 * The seed's code does not run as printed; fixed here:
 *  - `import Queue` is Python 2 (Python 3: `queue`), and it calls
 *    `select(...)` though it imported the module (`select.select`);
 *  - its prints use `addr`, the address of the LAST client accepted, for
 *    every client: here each socket keeps its own address;
 *  - recv() returning no bytes (the client closed normally) is not
 *    handled — only ConnectionResetError is — so a closed client stays in
 *    the input list, readable forever: select() spins at 100% CPU and the
 *    socket is never closed. Here no bytes = closed: remove and close;
 *  - disconnected sockets are never close()d (one fd leaked per client),
 *    and one removed from the input list may still be in the output list,
 *    whose next send hits the deleted queue (KeyError);
 *  - `for sendobj in output_list: ... output_list.remove(sendobj)` removes
 *    from the list it is iterating (the next socket is skipped), and it
 *    walks every socket of the list instead of those select() returned as
 *    writable;
 *  - send() may take only part of a message: the rest was lost; here the
 *    unsent tail stays at the head of the queue;
 *  - the exceptional list is watched but never handled: here an
 *    exceptional condition (TCP urgent data) closes that client;
 *  - a client that sends without reading would grow its queue without
 *    bound: above 1 MiB queued, its socket leaves the input list until the
 *    queue drains;
 *  - out of fds (EMFILE), the listening socket would stay readable while
 *    accept() fails, and the loop spin: it leaves the input list for a
 *    short pause (one line is printed); a connection whose fd is too high
 *    for select() (1024 or more) is closed with a line.
 *
 * The seed listens on ('', 9999) (every interface); here host and port are
 * arguments, defaulting to 127.0.0.1 9999.
 *
 * Self-contained on purpose: its select() loop is written out, to be read alone.
 *
 * Run:    node-selectors select-writelist-server 127.0.0.1 9999
 * Talk:   nc 127.0.0.1 9999   (several at once)
 *         node-selectors multiconn-client 127.0.0.1 9999 5
 * Flags:  --trace, --quiet, --backlog N (default 8, as the seed)
 */

import { SyscallError, formatAddress, pythonRepr, select, type Socket } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, hostAndPort, refuseUnselectable, traceEvent } from './common/raw-loop.js';
import { acceptPending, listenTcp } from './common/echo-servers.js';

// Above this much queued echo a client is not read from until it drains.
const HIGH_WATER = 1024 * 1024;

interface Client {
  peer: string;
  /** Python's message_queue[conn]. */
  queue: Buffer[];
  queued: number;
  /** The client closed its end: close once its queue is sent. */
  eof: boolean;
}

function main(ctx: ProgramContext): void {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 9999);
  const server = listenTcp(host, port, ctx.backlog(8));
  const inputList: Socket[] = [server];
  const outputList: Socket[] = [];
  const clients = new Map<Socket, Client>();
  const acceptPause = new AcceptPause();

  const remove = (list: Socket[], sock: Socket): void => {
    const i = list.indexOf(sock);
    if (i >= 0) list.splice(i, 1);
  };
  const disconnect = (sock: Socket, where: string, why?: string): void => {
    const client = clients.get(sock);
    if (client === undefined) return; // already gone this round
    remove(inputList, sock);
    remove(outputList, sock);
    clients.delete(sock);
    sock.close();
    acceptPause.fdFreed();
    ctx.log(`[${where}] Client ${client.peer} disconnected${why === undefined ? '' : ` (${why})`}`);
  };
  const trace = (sock: Socket, what: string): void => {
    if (ctx.flags.trace === true) traceEvent(ctx, sock.fileno(), sock === server ? 'listening socket' : clients.get(sock)?.peer, what);
  };

  try {
    server.setblocking(false);
    for (;;) {
      // Block until a socket is readable, writable or exceptional (Ctrl-C: KeyboardInterrupt).
      if (acceptPause.due()) inputList.unshift(server); // a pause after EMFILE is over: accept again
      const [readable, writable, exceptional] = select.select(inputList, outputList, inputList, acceptPause.timeout(null));
      for (const sock of readable) {
        trace(sock, 'READ');
        if (sock === server) {
          // New clients, until none is left or 64 this round (the others get their turn).
          const accepting = acceptPending(server, acceptPause, (conn, addr) => {
            if (refuseUnselectable(conn, addr)) return; // fd >= 1024: closed, with a line
            conn.setblocking(false);
            const peer = formatAddress(addr);
            ctx.log(`Client ${peer} connected!`);
            inputList.push(conn);
            clients.set(conn, { peer, queue: [], queued: 0, eof: false });
          });
          if (!accepting) remove(inputList, server); // out of fds: paused, one line printed
          continue;
        }
        const client = clients.get(sock);
        if (client === undefined) continue;
        try {
          const data = sock.recv(1024);
          if (data === null) continue; // spurious wake-up: nothing after all
          if (data.length === 0) {
            // The client closed (or half-closed) its end: send what is queued, then close.
            if (client.queue.length === 0) disconnect(sock, 'input');
            else {
              client.eof = true;
              remove(inputList, sock);
            }
            continue;
          }
          ctx.log(`received ${pythonRepr(data)} from client ${client.peer}`);
          client.queue.push(data);
          client.queued += data.length;
          if (!outputList.includes(sock)) outputList.push(sock);
          if (client.queued > HIGH_WATER) remove(inputList, sock);
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          disconnect(sock, 'input', err.message);
        }
      }
      for (const sock of writable) {
        const client = clients.get(sock);
        if (client === undefined) continue; // disconnected while reading
        trace(sock, 'WRITE');
        try {
          const data = client.queue[0];
          const sent = sock.send(data); // writable: takes some, or null if it raced
          if (sent !== null) {
            client.queued -= sent;
            if (sent < data.length) client.queue[0] = data.subarray(sent);
            else client.queue.shift();
          }
          if (client.queue.length === 0) {
            if (client.eof) disconnect(sock, 'output');
            else remove(outputList, sock);
          }
          if (!client.eof && client.queued <= HIGH_WATER / 4 && !inputList.includes(sock)) inputList.push(sock);
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          disconnect(sock, 'output', err.message);
        }
      }
      for (const sock of exceptional) {
        trace(sock, 'EXCEPTIONAL');
        if (sock !== server) disconnect(sock, 'exceptional', 'urgent data');
      }
    }
  } finally {
    for (const sock of clients.keys()) sock.close();
    server.close();
  }
}

const spec: ProgramSpec = {
  name: 'select-writelist-server',
  usage: '[host] [port]',
  summary: 'Seed 004: select() echo server with a write list and per-client message queues (the seed\'s bugs fixed)',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'READ/WRITE/EXCEPTIONAL',
  help: 'Defaults: 127.0.0.1 9999. Talk to it with: nc 127.0.0.1 9999, or node-selectors multiconn-client 127.0.0.1 9999 5',
  main,
};

export default spec;
runMain(spec, import.meta.url);
