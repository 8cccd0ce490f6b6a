/**
 * multi-process-server — seed 004's second server model (多进程服务器): the
 * parent only accepts; every connection is served by a child process of
 * its own, so many clients are served at the same time.
 *
 * What it teaches: handing a connected socket to another process. A
 * socket is a file descriptor, and a child process can inherit it: the
 * parent accept()s, then spawns `node children/echo-process.js` with the
 * connected fd in Node's `stdio` array (index 3), so the child finds the
 * connection already open as its fd 3 and wraps it with
 * `new Socket(family, SOCK_STREAM, 0, 3)`. The PARENT THEN CLOSES ITS
 * COPY: the connection stays open in the child, and when the child closes
 * it the client sees EOF (if the parent kept its copy, the connection
 * would never really close, and the parent would leak one fd per client).
 * Python's multiprocessing.Process does the same (its fork copies the
 * socket; the seed's parent calls newSocket.close() right after start()).
 *
 * The price, as the seed says: a process per client is fine for a few
 * clients, not for hundreds or thousands — each one costs a process start
 * (here a whole Node runtime: tens of ms and tens of MB).
 *
 * The parent waits for the next connection with selectAsync(), in Node's
 * loop, rather than blocking in accept() as the seed does: that way it
 * notices its children exiting (and reaps them) while no client comes.
 * On Ctrl-C/SIGTERM it stops accepting, sends SIGTERM to every child still
 * serving (the child closes its connection and exits), waits for them,
 * and exits.
 *
 * Run:    node-selectors multi-process-server 127.0.0.1 7788
 * Talk:   nc 127.0.0.1 7788   (several at once: each gets its own process)
 *         node-selectors multiconn-client 127.0.0.1 7788 5
 * Flags:  --quiet, --backlog N (default 128; the seed's 5 is too short
 *         here: starting a process takes long enough that a burst of
 *         connections overflows the queue, and the kernel resets some)
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatAddress, type Socket } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';
import { hostAndPort } from './common/raw-loop.js';
import { acceptAndHandOff } from './common/echo-servers.js';

const CHILD = fileURLToPath(new URL('./children/echo-process.js', import.meta.url));
// How long stopping children may take before they are killed.
const STOP_GRACE_MS = 5000;

function handOff(ctx: ProgramContext, conn: Socket, peer: string, children: Set<ChildProcess>): void {
  let child: ChildProcess;
  try {
    // The connected fd goes to the child as its fd 3. spawn() has forked
    // and exec'd when it returns, so the parent's copy can be closed now.
    child = spawn(process.execPath, [CHILD, String(conn.family), ...(ctx.quiet ? ['--quiet'] : [])], {
      stdio: ['ignore', 'inherit', 'inherit', conn.fileno()],
    });
  } finally {
    conn.close();
  }
  children.add(child);
  ctx.log('new client', peer, 'handed to process', child.pid);
  child.on('error', (err) => {
    // The process never started (EAGAIN, ENOMEM...): no 'exit' will follow.
    if (child.pid === undefined) children.delete(child);
    console.error(`${ctx.name}: could not start a process for ${peer}: ${err.message}`);
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (code !== 0) ctx.log('process', child.pid, 'serving', peer, 'ended with', signal ?? `status ${code}`);
  });
}

async function stopChildren(children: Set<ChildProcess>): Promise<void> {
  const exits = [...children].map((child) => new Promise<void>((resolve) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS).unref();
  }));
  await Promise.all(exits);
}

async function main(ctx: ProgramContext): Promise<void> {
  const [host, port] = hostAndPort(ctx, '127.0.0.1', 7788);
  const children = new Set<ChildProcess>();
  await acceptAndHandOff(host, port, ctx.backlog(128), ctx.signal, (conn, addr) => handOff(ctx, conn, formatAddress(addr), children), () => stopChildren(children));
}

const spec: ProgramSpec = {
  name: 'multi-process-server',
  usage: '[host] [port]',
  summary: 'Seed 004: echo server with a child process per connection (the connected fd handed to the child)',
  positionals: { min: 0, max: 2 },
  common: ['quiet', 'backlog'],
  help: 'Defaults: 127.0.0.1 7788. Talk to it with: nc 127.0.0.1 7788 (several at once), or node-selectors multiconn-client 127.0.0.1 7788 5',
  main,
};

export default spec;
runMain(spec, import.meta.url);
