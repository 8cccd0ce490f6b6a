/**
 * HTTP benchmark, two scenarios, each against its peers in one run (rounds
 * interleaved, medians; ratios to the first peer):
 *
 * - `howto`: seed 000's Example 3, one connection per request (HTTP/1.0,
 *   the server shuts the connection down after the response): the C port
 *   (bench/c/epoll-http-server.c, reference), our port
 *   (examples/howto-epoll-lt.ts --quiet --backlog 128), the Python original
 *   (bench/python/howto_epoll_lt.py) and Node's `http` answering the same
 *   bytes. Target: ours <= 1.25x the C server's CPU per request.
 * - `static`: the sample site's index page over keep-alive HTTP/1.1: Node's
 *   `http` serving the same bytes from memory (reference) and
 *   examples/epoll-web-server.ts --quiet. Target: less CPU per request than
 *   Node's http.
 *
 * The load generator is bench/c/http-load.c (N clients, one request at a
 * time each; every response checked for status 200 and, keep-alive, its
 * Content-Length).
 *
 *   node dist/bench/http.js [--scenario howto|static|both] [--conns 50] [--seconds 5] [--rounds 3] ...
 */

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './harness.js';
import {
  benchArgs, buildC, commonSettings, environmentLine, interleave, launchFromFlag, measure, REPO_ROOT, summaryRow, writeJson, type ServerLaunch,
} from './net.js';

const USAGE = `usage: node dist/bench/http.js [--scenario howto|static|both] [--conns 50] [--seconds 5] [--warmup 1] [--rounds 3]
       [--no-python] [--no-node] [--ts "[label: ]command with {host} {port}"]... [--pin] [--quiet-wait 5] [--json FILE] [--server-output]
--ts adds a peer to the howto scenario (e.g. another build of howto-epoll-lt, for a before/after run).
See bench/README.md.`;

interface Scenario {
  key: string;
  title: string;
  peers: ServerLaunch[];
  loadArgs: string[];
}

function scenarios(noPython: boolean, noNode: boolean, extra: ServerLaunch[]): Scenario[] {
  const node = (script: string, ...extra: string[]): ServerLaunch['command'] => (host, port) => ({
    cmd: process.execPath, args: [join(REPO_ROOT, 'dist', ...script.split('/')), ...extra, host, String(port)],
  });
  const site = join(REPO_ROOT, 'examples', 'site', 'index.html');
  const howto: ServerLaunch[] = [
    { name: 'C epoll, Example 3 (reference)', command: (host, port) => ({ cmd: buildC('epoll-http-server'), args: [host, String(port), '128'] }) },
    { name: 'howto-epoll-lt (ours)', command: node('examples/howto-epoll-lt.js', '--quiet', '--backlog', '128') },
  ];
  if (!noPython) {
    howto.push({
      name: 'Python, the seed\'s Example 3',
      command: (host, port) => ({ cmd: process.env['PYTHON'] ?? 'python3', args: [join(REPO_ROOT, 'bench', 'python', 'howto_epoll_lt.py'), host, String(port), '128'] }),
      note: 'prints every request as the seed does (stdout to /dev/null).',
    });
  }
  if (!noNode) howto.push({ name: "Node's http, Connection: close", command: node('bench/node-http-server.js') });
  howto.push(...extra);
  return [
    { key: 'howto', title: 'seed 000 Example 3: one connection per request (HTTP/1.0)', peers: howto, loadArgs: ['--close', '--path', '/'] },
    {
      key: 'static',
      title: 'static file over keep-alive: examples/site/index.html',
      peers: [
        { name: "Node's http, same bytes from memory (reference)", command: node('bench/node-http-server.js', '--file', site) },
        { name: 'epoll-web-server (ours)', command: node('examples/epoll-web-server.js', '--quiet') },
      ],
      loadArgs: ['--keep-alive', '--path', '/index.html'],
    },
  ];
}

/** Run the HTTP benchmark with command-line flags and print its tables. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = benchArgs(argv, USAGE, {
    scenario: { type: 'string', default: 'both' },
    conns: { type: 'string', default: '50' },
    'no-python': { type: 'boolean', default: false },
    'no-node': { type: 'boolean', default: false },
    ts: { type: 'string', multiple: true, default: [] },
  });
  if (values === null) return;
  const { pin, quietWaitMs, timeoutMs } = commonSettings(values);
  const loadGen = buildC('http-load');
  const all: Record<string, unknown> = {};
  const extra = values.ts.map((line) => launchFromFlag(line, 'ts'));
  for (const sc of scenarios(values['no-python'], values['no-node'], extra)) {
    if (values.scenario !== 'both' && values.scenario !== sc.key) continue;
    if (values['server-output']) for (const p of sc.peers) p.stdout = 'inherit';
    const load = (host: string, port: number) => ({
      cmd: loadGen,
      args: ['--host', host, '--port', String(port), '--conns', values.conns, ...sc.loadArgs, '--seconds', values.seconds, '--warmup', values.warmup],
    });
    const results = await interleave(sc.peers, Number(values.rounds), (p) => measure(p, load, { pin, opsKey: 'requests', timeoutMs }), { quietWaitMs });
    const ref = results.get(sc.peers[0]) ?? null;
    const rows = sc.peers.map((p) => {
      const s = results.get(p);
      return s ? summaryRow(s, ref) : [p.name, 'failed', '', '', '', '', '', '', '', ''];
    });
    console.log(`## HTTP, ${sc.title}: ${values.conns} clients, ${values.seconds} s measured after ${values.warmup} s warm-up, median of ${values.rounds} interleaved rounds\n`);
    console.log(`${environmentLine(pin ? 'server pinned to CPU 0, load generator to CPU 1' : 'no CPU pinning')}\n`);
    table(['server', 'req/s', 'range (min-max)', 'server CPU µs/req', 'server CPU', 'client CPU', 'others CPU', 'req/s vs ref', 'CPU/req vs ref', 'errors'], rows);
    for (const p of sc.peers) if (p.note) console.log(`- ${p.name}: ${p.note}`);
    console.log();
    all[sc.key] = sc.peers.map((p) => results.get(p) ?? { name: p.name, failed: true });
  }
  if (values.json) writeJson(values.json, { benchmark: 'http', settings: values, pin, results: all });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
