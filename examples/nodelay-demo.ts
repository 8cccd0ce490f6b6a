/**
 * nodelay-demo — the course's TCP_NODELAY / TCP_CORK demo (chapter 6):
 * a request written in two small send()s, answered by an echo, timed
 * over loopback with each socket option.
 *
 * What it teaches: Nagle's algorithm meets delayed ACKs. The client
 * sends a request in two pieces (a header, then a body: "write, write,
 * read"). By default (Nagle on), the kernel sends the first piece at once
 * but holds the second until the first is acknowledged; the server's
 * kernel delays that ACK (up to ~40 ms) hoping to piggyback it on a reply,
 * and the server cannot reply before the whole request is there: every
 * round trip waits for the delayed-ACK timer. TCP_NODELAY on the client
 * sends each piece at once: no wait. TCP_CORK does the opposite of
 * NODELAY: it holds both pieces back until the cork is removed, then
 * sends them as one segment: no wait either, and one packet instead of
 * two (the howto's Examples 5 and 6 set the same options on a server).
 * The segment counts come from the kernel's TCP_INFO, as `ss -ti` shows
 * them (segs_out).
 *
 * Run:    node-selectors nodelay-demo
 *         node-selectors nodelay-demo --rounds 50
 * Flags:  --rounds N (round trips per mode; default 20)
 * Exit:   0.
 */

import {
  AF_INET,
  IPPROTO_TCP,
  SOCK_STREAM,
  Socket,
  TCP_CORK,
  TCP_NODELAY,
  SOL_SOCKET,
  SO_REUSEADDR,
} from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

const HEADER = Buffer.alloc(100, 'h');
const BODY = Buffer.alloc(100, 'b');

function recvExactly(sock: Socket, n: number): void {
  let got = 0;
  while (got < n) {
    const data = sock.recv(n - got)!; // blocking: never null
    if (data.length === 0) throw new Error('peer closed');
    got += data.length;
  }
}

function round(client: Socket, server: Socket, mode: string): void {
  if (mode === 'TCP_CORK') client.setsockopt(IPPROTO_TCP, TCP_CORK, 1);
  client.sendall(HEADER);
  client.sendall(BODY);
  if (mode === 'TCP_CORK') client.setsockopt(IPPROTO_TCP, TCP_CORK, 0); // uncork: send what is held
  recvExactly(server, HEADER.length + BODY.length);
  server.sendall(Buffer.from('ok'));
  recvExactly(client, 2);
}

function main(ctx: ProgramContext): number {
  const rounds = ctx.flags.rounds === undefined ? 20 : Number(ctx.flags.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) ctx.usageError(`invalid --rounds '${String(ctx.flags.rounds)}'`);
  console.log(`${rounds} round trips, each a 100-byte header and a 100-byte body in two send()s, then a 2-byte reply:`);
  for (const mode of ['default (Nagle)', 'TCP_NODELAY', 'TCP_CORK']) {
    const lsock = new Socket(AF_INET, SOCK_STREAM);
    const client = new Socket(AF_INET, SOCK_STREAM);
    let server: Socket | undefined;
    try {
      lsock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      lsock.bind(['127.0.0.1', 0]);
      lsock.listen(1);
      client.connect(['127.0.0.1', lsock.getsockname()[1] as number]);
      server = lsock.accept()![0];
      if (mode === 'TCP_NODELAY') client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      const before = segmentsOut(client);
      const start = performance.now();
      for (let i = 0; i < rounds; i++) round(client, server, mode);
      const ms = (performance.now() - start) / rounds;
      const segs = (segmentsOut(client) - before) / rounds;
      console.log(`  ${mode.padEnd(16)} ${ms.toFixed(2).padStart(6)} ms per round trip, ${segs.toFixed(0)} segment(s) sent per request`);
    } finally {
      server?.close();
      client.close();
      lsock.close();
    }
  }
  return 0;
}

// struct tcp_info (linux/tcp.h): tcpi_segs_out is a __u32 at offset 136.
const TCP_INFO = 11;
function segmentsOut(sock: Socket): number {
  const info = sock.getsockopt(IPPROTO_TCP, TCP_INFO, 232) as Buffer;
  return info.readUInt32LE(136);
}

const spec: ProgramSpec = {
  name: 'nodelay-demo',
  usage: '',
  summary: 'The course, chapter 6: write-write-read over loopback with Nagle, TCP_NODELAY and TCP_CORK, timed',
  positionals: { min: 0, max: 0 },
  options: {
    rounds: { type: 'string', help: 'round trips per mode (default 20)' },
  },
  main,
};

export default spec;
runMain(spec, import.meta.url);
