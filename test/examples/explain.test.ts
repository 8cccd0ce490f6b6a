// `node-selectors <program> --explain` prints the "What it teaches"
// paragraph of the program's own header comment: every program that has
// one explains itself, with the words of its source.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { whatItTeaches } from '../../examples/common/program.js';
import { runNode } from '../helpers/run-node.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NAMES = [...readFileSync(join(ROOT, 'examples', 'programs.ts'), 'utf8').matchAll(/^\s*'?([a-z][\w-]*)'?: \{ seed:/gm)].map((m) => m[1]);

t.test('every program with a "What it teaches" header explains itself from it', async (t) => {
  t.ok(NAMES.length >= 25, `${NAMES.length} programs`);
  for (const name of NAMES) {
    const source = readFileSync(join(ROOT, 'examples', `${name}.ts`), 'utf8');
    const m = /^ \* What it teaches: (.+)$/m.exec(source);
    const text = whatItTeaches(name);
    if (m === null) {
      t.equal(text, null, `${name}: no section, nothing made up`);
      continue;
    }
    t.ok(text?.startsWith(m[1]), `${name}: starts with its header's words`);
    t.notMatch(text ?? '', /^\s*\*/m, `${name}: no comment markers`);
  }
});

t.test('--explain from the command line', async (t) => {
  const cli = join(ROOT, 'dist', 'examples', 'cli.js');
  const r = await runNode([cli, 'poll-server', '--explain'], { cwd: ROOT, timeoutMs: 30_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^poll-server: /);
  t.match(r.stdout, /poll\.poll\(\)` \(timeout in MILLISECONDS/);
  const help = await runNode([cli, 'poll-server', '--help'], { cwd: ROOT, timeoutMs: 30_000 });
  t.match(help.stdout, /--explain +print what the program teaches/);
});
