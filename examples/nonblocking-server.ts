/**
 * nonblocking-server — seed 004's fourth server model (单进程服务器-非堵塞模式):
 * one process, one thread, many clients, and no select/poll/epoll: every
 * socket is non-blocking, and the loop simply tries each of them, over and
 * over.
 *
 * What it teaches: what "non-blocking" means, and why readiness APIs
 * exist. A non-blocking accept()/recv() with nothing to do returns at once
 * — Python raises BlockingIOError, which the seed catches and ignores;
 * here the call returns `null`. So the loop: try accept() on the listening
 * socket (a new client is appended to the list), then try recv() on every
 * client in the list (data → send it back; no bytes → the client closed:
 * close it and drop it from the list), and start again.
 *
 * The cost: the loop never waits. With 0 clients it still spins, making
 * system calls that almost always find nothing, and burns a whole CPU core
 * (watch `top`); with N clients every round makes N+1 calls whether or not
 * anything arrived. `--sleep SECONDS` (the seed's commented-out
 * time.sleep(0.5) "for testing") cuts the CPU use but adds up to that much
 * latency to every reply. select(), poll() and epoll let the kernel say
 * which sockets are ready, and sleep until one is: the next programs.
 * On exit it prints how many rounds it made and how many found work.
 * Out of fds (EMFILE), it stops trying accept() for a short pause (one
 * line is printed) rather than fail on every round.
 *
 * (Between rounds the loop yields to Node's event loop for a moment, so
 * that Ctrl-C is noticed: no call here ever blocks, so none could be
 * interrupted.)
 *
 * Self-contained on purpose: its polling loop is written out, to be read alone.
 *
 * Run:    node-selectors nonblocking-server 127.0.0.1 7788
 * Talk:   nc 127.0.0.1 7788   (several at once)
 *         node-selectors multiconn-client 127.0.0.1 7788 5
 * Flags:  --sleep SECONDS (pause between rounds; default 0: spin),
 *         --quiet, --backlog N (default 1000, as the seed)
 */

import { setImmediate as yieldToNode, setTimeout as sleep } from 'node:timers/promises';
import { SyscallError, formatAddress, pythonRepr, type Socket } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { AcceptPause, hostAndPort } from './common/raw-loop.js';
import { acceptReady, listenTcp } from './common/echo-servers.js';

// A client that sends but does not read: stop reading from it above this
// much unsent echo, so it cannot make the server buffer without bound.
const MAX_PENDING = 1024 * 1024;

interface Client {
  sock: Socket;
  peer: string;
  /** Echo not yet accepted by the kernel (the socket's buffer was full). */
  pending: Buffer[];
  pendingBytes: number;
  /** The client closed its end: close once the pending echo is out. */
  eof: boolean;
}

/** Try to send the pending echo; returns whether anything went out. */
function flush(client: Client): boolean {
  let progress = false;
  while (client.pending.length > 0) {
    const chunk = client.pending[0];
    const sent = client.sock.send(chunk); // null: the send buffer is full
    if (sent === null) break;
    progress = true;
    client.pendingBytes -= sent;
    if (sent < chunk.length) {
      client.pending[0] = chunk.subarray(sent);
      break;
    }
    client.pending.shift();
  }
  return progress;
}

/** One try at one client; returns whether it found work, or 'closed'. */
function poke(ctx: ProgramContext, client: Client): boolean | 'closed' {
  const progress = client.pending.length > 0 && flush(client);
  if (client.eof) return client.pending.length === 0 ? 'closed' : progress;
  if (client.pendingBytes >= MAX_PENDING) return progress;
  const data = client.sock.recv(1024); // null: nothing has arrived (Python: BlockingIOError)
  if (data === null) return progress;
  if (data.length === 0) {
    ctx.log('client', client.peer, 'closed');
    client.eof = true;
    return client.pending.length === 0 ? 'closed' : true;
  }
  ctx.log('received', pythonRepr(data), 'from', client.peer);
  client.pending.push(data);
  client.pendingBytes += data.length;
  flush(client);
  return true;
}

async function main(ctx: ProgramContext): Promise<void> {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const pause = ctx.flags.sleep === undefined ? 0 : Number(ctx.flags.sleep);
  if (!(pause >= 0 && Number.isFinite(pause))) ctx.usageError(`invalid --sleep '${String(ctx.flags.sleep)}'`);
  const server = listenTcp(host, port, ctx.backlog(1000));
  let clients: Client[] = [];
  let rounds = 0;
  let busyRounds = 0;
  // Out of fds (EMFILE), accept() would fail on every round: skip it for a
  // short pause (one line is printed) instead.
  const acceptPause = new AcceptPause();
  try {
    server.setblocking(false);
    while (!ctx.signal.aborted) {
      rounds++;
      let busy = false;
      let accepted: ReturnType<typeof acceptReady> = null;
      if (!acceptPause.paused || acceptPause.due()) {
        try {
          accepted = acceptReady(server); // null: nobody is waiting
        } catch (err) {
          if (!(err instanceof SyscallError && acceptPause.failed(err))) throw err;
        }
      }
      if (accepted !== null) {
        acceptPause.accepted();
        const [sock, addr] = accepted;
        sock.setblocking(false);
        const peer = formatAddress(addr);
        ctx.log('new client', peer);
        clients.push({ sock, peer, pending: [], pendingBytes: 0, eof: false });
        busy = true;
      }
      const gone: Client[] = [];
      for (const client of clients) {
        let result: boolean | 'closed';
        try {
          result = poke(ctx, client);
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          ctx.log('client', client.peer, 'failed:', err.message);
          result = 'closed';
        }
        if (result === 'closed') {
          client.sock.close();
          acceptPause.fdFreed();
          gone.push(client);
        }
        if (result !== false) busy = true;
      }
      if (gone.length > 0) clients = clients.filter((c) => !gone.includes(c));
      if (busy) busyRounds++;
      // Let Node's loop run (Ctrl-C), then the next round.
      if (pause > 0) await sleep(pause * 1000);
      else await yieldToNode();
    }
  } finally {
    for (const client of clients) client.sock.close();
    server.close();
    ctx.log(`${rounds} rounds of polling, ${busyRounds} of them found something to do`);
  }
}

const spec: ProgramSpec = {
  name: 'nonblocking-server',
  usage: '[host] [port]',
  summary: 'Seed 004: non-blocking echo server that polls a list of sockets in a loop (and burns a CPU doing it)',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  options: {
    sleep: { type: 'string', help: 'seconds to pause between polling rounds (default 0: spin at 100% CPU)' },
  },
  help: 'Defaults: 127.0.0.1 7788. Talk to it with: nc 127.0.0.1 7788, or node-selectors multiconn-client 127.0.0.1 7788 5',
  main,
};

export default spec;
runMain(spec, import.meta.url);
