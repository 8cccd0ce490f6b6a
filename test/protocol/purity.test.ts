import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';

// The codec must load without libc: every module of lib/protocol/ imports
// only its neighbours, lib/errors.ts (a leaf) and node: built-ins — never
// koffi, lib/sys, sockets, selectors or lib/message. Checked transitively.
const dir = new URL('../../lib/protocol/', import.meta.url);
const CODEC = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const IMPORT = /^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/gm;

t.test('the codec modules import nothing that needs libc', async (t) => {
  const seen = new Set<string>();
  const queue = CODEC.map((f) => new URL(f, dir).href);
  while (queue.length > 0) {
    const href = queue.pop()!;
    if (seen.has(href)) continue;
    seen.add(href);
    const source = readFileSync(new URL(href), 'utf8');
    for (const m of source.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('node:')) continue;
      const target = new URL(spec.replace(/\.js$/, '.ts'), href).href;
      const allowed = target.startsWith(dir.href) || target === new URL('../errors.ts', dir).href;
      t.ok(allowed, `${href.slice(dir.href.length - 13)} imports ${spec}`);
      if (allowed) queue.push(target);
    }
  }
  t.equal(seen.size, CODEC.length + 1, 'the codec modules and lib/errors.ts');
});
