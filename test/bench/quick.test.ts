// `npm run bench -- --quick` runs on a fresh machine without errors: every
// step exits 0 and writes its section and charts. A smoke test only: no
// figure is asserted (tests never assert speed).
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '../helpers/run-node.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 240_000;
t.setTimeout(TIMEOUT_MS + 30_000);

t.test('the quick benchmark suite runs every step and writes its report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-bench-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'RESULTS.md');
  const res = await runNode([join(ROOT, 'dist', 'bench', 'run.js'), '--quick', '--out', out], { cwd: ROOT, timeoutMs: TIMEOUT_MS });
  t.notOk(res.timedOut, `done within ${TIMEOUT_MS / 1000} s`);
  t.equal(res.code, 0, res.stderr.slice(-2000));
  const report = readFileSync(out, 'utf8');
  for (const title of ['## Wait scaling', '## Echo, 100 connections x 64 B', '## Echo, connect / echo 1 byte / close', '## HTTP', '## One loop per core']) t.match(report, title);
  t.notMatch(report, /\*\*Failed\*\*/);
  t.match(report, /\| C epoll \(reference\)\s+\| \d+/, 'the C reference was measured');
  t.match(report, /\| multiconn-server\(EchoMessage\)\s+\| \d+/, 'the library\'s echo server was measured');
  t.match(report, /\| EpollSelector\s+\| \d+/, 'wait scaling measured the selectors');
  t.match(report, /\| multiconn-server\(EchoMessage\) --workers 2\s+\| \d+/, 'the workers curve measured two loops');
  t.match(report, /The load generator \(one thread, in C\) used [\d.]+-[\d.]+ cores/, 'the generator\'s share is stated');
  for (const chart of ['wait-scaling.svg', 'echo-100x64.svg']) {
    const file = join(dir, 'charts', chart);
    t.ok(existsSync(file), `${chart} written`);
    t.match(readFileSync(file, 'utf8'), /^<svg /, `${chart} is an SVG`);
  }
});
