/**
 * Memory per connection: each echo server holds N idle connections (default
 * 10,000), every one of which has echoed one message, and the growth of
 * the server's resident memory (VmRSS of its process tree, from /proc)
 * from just before the clients connect to a moment after they all got
 * their echo is divided by N. Kernel socket buffers are not in a process's
 * RSS, so this is what the server itself spends per connection. Target for
 * MessageServer with EchoMessage (multiconn-server): <= 4 KiB.
 *
 * Peers: the C epoll echo server, the selectors-level loop,
 * multiconn-server (EchoMessage) and Node's `net`. The client is
 * bench/c/hold-load.c. RLIMIT_NOFILE must allow N fds for the server and
 * for the client (each raises its soft limit within the hard one).
 *
 *   node dist/bench/memory.js [--conns 10000] [--settle 1]
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from './harness.js';
import { buildC, environmentLine, helpWanted, processTree, REPO_ROOT, startServer, type ServerLaunch } from './net.js';

/** VmRSS of a process tree, in KiB. */
export function treeRssKiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m !== null) kib += Number(m[1]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return kib;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run the benchmark and print its table. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  if (helpWanted(argv, 'usage: node dist/bench/memory.js [--conns 10000] [--settle 1]\n'
    + '  RSS per held idle connection: C, the selectors loop, EchoMessage, Node net')) return;
  const { values } = parseArgs({ args: argv, options: { conns: { type: 'string', default: '10000' }, settle: { type: 'string', default: '1' } } });
  const conns = Number(values.conns);
  const settleMs = Number(values.settle) * 1000;
  const node = (...args: string[]): ServerLaunch['command'] => (host, port) => ({
    cmd: process.execPath, args: [...args.map((a) => (a.endsWith('.js') ? join(REPO_ROOT, 'dist', a) : a)), host, String(port)],
  });
  const peers: ServerLaunch[] = [
    { name: 'C epoll (reference)', command: (host, port) => ({ cmd: buildC('epoll-echo-server'), args: [host, String(port)] }) },
    { name: 'selectors loop (EpollSelector + Socket)', command: node('bench/selectors-echo-server.js') },
    { name: 'multiconn-server (EchoMessage)', command: node('examples/multiconn-server.js', '--quiet', '--backlog', '4096') },
    { name: "Node's net", command: node('bench/node-echo-server.js') },
  ];
  const client = buildC('hold-load');
  const rows: Array<Array<string | number>> = [];
  for (const peer of peers) {
    const server = await startServer(peer);
    try {
      await sleep(settleMs);
      const before = treeRssKiB(server.pid);
      const load = spawn(client, ['--host', server.host, '--port', String(server.port), '--conns', String(conns)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: load.stdout! }).once('line', resolve);
        load.once('exit', (code) => reject(new Error(`hold-load exited with ${code}`)));
      });
      const res = JSON.parse(line) as { held: number; errors: number; unanswered: number; seconds: number };
      await sleep(settleMs);
      const after = treeRssKiB(server.pid);
      load.stdin!.end();
      await new Promise((r) => load.once('exit', r));
      rows.push([peer.name, res.held, res.errors + res.unanswered, (before / 1024).toFixed(1), (after / 1024).toFixed(1), ((after - before) / Math.max(res.held, 1)).toFixed(2)]);
    } catch (e) {
      rows.push([peer.name, 'failed', (e as Error).message.split('\n')[0], '', '', '']);
    } finally {
      await server.stop();
    }
  }
  console.log(`## Memory: ${conns} idle connections, each after one 64-byte echo\n`);
  console.log(`${environmentLine('no CPU pinning')}\n`);
  table(['server', 'connections held', 'errors', 'RSS before (MiB)', 'RSS after (MiB)', 'KiB per connection'], rows);
  console.log('\n- RSS = VmRSS of the server\'s process tree, read ' + `${values.settle} s after it listened and ${values.settle} s after the last echo. `
    + 'Kernel socket buffers are not part of it. A Node server\'s RSS also includes V8 heap growth (the young generation grows in steps under load; NOTES.md).');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
