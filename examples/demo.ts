/**
 * demo — the README's first command: start app-server on 127.0.0.1 (a
 * free port), run app-client against it for a few requests, and show what
 * both sides print; then stop the server with SIGINT, as Ctrl-C would.
 *
 * Run:    npm run demo      (or: node-selectors demo)
 *
 * A closed stdout (`npm run demo | head -1`) ends it quietly, and the
 * server child is stopped whatever way the demo ends (except SIGKILL).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

const here = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

function prefixLines(child: ChildProcess, prefix: string, onLine?: (line: string) => void): Promise<number | null> {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on('line', (line) => {
      console.log(`${prefix} ${line}`);
      onLine?.(line);
    });
  }
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

async function main(ctx: ProgramContext): Promise<number> {
  const host = '127.0.0.1';
  const server = spawn(process.execPath, [here('app-server'), host, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let port = 0;
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('app-server did not start')), 10_000);
    void prefixLines(server, '[server]', (line) => {
      const m = /^listening on \('[^']*', (\d+)\)/.exec(line);
      if (m !== null) {
        port = Number(m[1]);
        clearTimeout(timer);
        resolve();
      }
    }).then((code) => {
      clearTimeout(timer);
      reject(new Error(`app-server exited (${code})`));
    });
  });
  const serverExit = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  // Never leave the server behind, however this process ends.
  const stopServer = (): void => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  };
  process.on('exit', stopServer);
  // Our stdout closed (`npm run demo | head -1`): nobody reads any more, so
  // stop quietly instead of dying on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  try {
    await listening;
    for (const [action, value] of [['search', 'morpheus'], ['search', '🐶'], ['search', 'nobody'], ['double', '100']]) {
      if (ctx.signal.aborted) break;
      console.log(`\n$ node-selectors app-client ${host} ${port} ${action} ${value}`);
      const client = spawn(process.execPath, [here('app-client'), host, String(port), action, value], { stdio: ['ignore', 'pipe', 'pipe'] });
      const code = await prefixLines(client, '[client]');
      if (code !== 0) return 1;
    }
    console.log('\n$ kill -INT <app-server>   # what Ctrl-C does');
  } finally {
    server.kill('SIGINT');
    await serverExit;
  }
  return 0;
}

const spec: ProgramSpec = {
  name: 'demo',
  usage: '',
  summary: 'app-server and app-client talking on 127.0.0.1, both sides printed',
  positionals: { min: 0, max: 0 },
  main,
};

export default spec;
runMain(spec, import.meta.url);
