import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Smoke test only: the Real Python programs in test/fixtures/python compile.
const dir = fileURLToPath(new URL('../fixtures/python/', import.meta.url));
const PROGRAMS = [
  'echo-server.py', 'echo-client.py', 'multiconn-server.py', 'multiconn-client.py',
  'libserver.py', 'libclient.py', 'app-server.py', 'app-client.py',
];

const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const python = probe.status === 0;

t.test('the eight tutorial programs are there', async (t) => {
  const present = readdirSync(dir);
  for (const p of PROGRAMS) t.ok(present.includes(p), p);
});

t.test('python3 -m py_compile accepts each program', { skip: python ? false : 'python3 is not installed' }, async (t) => {
  // The byte code goes to a temporary prefix, not into the fixtures' __pycache__.
  const cache = mkdtempSync(join(tmpdir(), 'node-selectors-pycache-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  for (const p of [...PROGRAMS, 'capture-frames.py']) {
    const r = spawnSync('python3', ['-m', 'py_compile', dir + p], { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
    t.equal(r.status, 0, `${p} ${r.stderr}`);
  }
});
