// Every TypeScript code block in the docs (README.md, bench/README.md and
// every page under docs/, sub-folders included) runs, and type-checks.
//
// Fenced blocks are selected by their info string:
//   ```ts          run
//   ```ts socket   run (uses the Socket class; the tag once held these back
//                  while Socket was being written, and is kept for the pages)
//   ```ts norun    never run (the page says why: a fragment, a signature)
// Any other `ts ...`/`typescript` info string fails, so a typo cannot
// silently turn a snippet off.
//
// Each runnable block is written to test/docs/.snippets/<page>-<n>.ts, inside
// the repository, so that `import ... from 'node-selectors'` resolves through
// the package's self-reference to dist/ (the suite runs after `npm run
// build`). One `tsc --noEmit` checks them all; then each runs in its own
// Node process the way docs/README.md tells the reader to run one, `node
// --import ./scripts/ts-register.mjs file.ts` (what `npm run ts -- file.ts`
// runs), a few at a time, and must exit 0 within the time limit
// (DOC_SNIPPET_TIMEOUT_MS, default 30 s).
import t from 'tap';
import { runNode } from '../helpers/run-node.js';
import { fencedBlocks, markdownPages } from '../helpers/markdown.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'test', 'docs', '.snippets');
const TIMEOUT_MS = Number(process.env.DOC_SNIPPET_TIMEOUT_MS ?? 30_000);
const TSC_TIMEOUT_MS = 120_000;
// About 40 snippets, each a Node process that loads TypeScript: ~90 s on a
// busy 2-core machine, past the runner's 120 s default (.taprc).
t.setTimeout(600_000);
// tsc checks the types once for all snippets; the children only transpile,
// with the loader the docs give the reader (docs/README.md).
// (Snippets are not a coverage source either: they load dist/, not lib/.)
const LOADER = join(ROOT, 'scripts', 'ts-register.mjs');
// A child that loads TypeScript to transpile takes about a second of CPU to start.
const CONCURRENCY = Math.max(1, Math.min(3, availableParallelism()));

type Mode = 'run' | 'socket' | 'norun';

interface Block {
  source: string; // repo-relative path of the markdown file
  line: number; // 1-based line of the opening fence
  info: string;
  mode: Mode | null; // null: a ts block with an unknown tag
  code: string;
}

function modeOf(info: string): Mode | null | undefined {
  const words = info.split(/\s+/);
  if (words[0] !== 'ts' && words[0] !== 'typescript') return undefined; // not TypeScript: not ours
  if (words[0] === 'typescript') return null;
  if (words.length === 1) return 'run';
  if (words.length === 2 && (words[1] === 'socket' || words[1] === 'norun')) return words[1];
  return null;
}

function collect(): Block[] {
  const out: Block[] = [];
  for (const file of markdownPages(ROOT)) {
    for (const b of fencedBlocks(readFileSync(file, 'utf8'))) {
      const mode = modeOf(b.info);
      if (mode === undefined) continue;
      out.push({ source: relative(ROOT, file), line: b.line, info: b.info, mode, code: b.code });
    }
  }
  return out;
}

/** lib/ sources newer than their build output (a stale dist/ makes snippets test old code). */
function staleBuild(): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const built = join(ROOT, 'dist', relative(ROOT, p)).replace(/\.ts$/, '.js');
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(p).mtimeMs) stale.push(relative(ROOT, p));
      }
    }
  };
  walk(join(ROOT, 'lib'));
  return stale;
}

/** Run `tasks` at most `n` at a time; the promises resolve in any order. */
function limited<T>(n: number, tasks: Array<() => Promise<T>>): Array<Promise<T>> {
  let next = 0;
  const starters: Array<() => void> = [];
  const results = tasks.map(
    (task) =>
      new Promise<T>((resolve, reject) => {
        starters.push(() => {
          task().then(resolve, reject).finally(() => {
            if (next < starters.length) starters[next++]();
          });
        });
      }),
  );
  while (next < Math.min(n, starters.length)) starters[next++]();
  return results;
}

function tail(text: string, max = 6000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

const blocks = collect();

t.test('every ts code block has a known tag', async (t) => {
  const unknown = blocks.filter((b) => b.mode === null).map((b) => `${b.source}:${b.line}: \`\`\`${b.info}`);
  t.same(unknown, [], 'info strings are ts, ts socket or ts norun');
});

t.test('the docs have runnable snippets', async (t) => {
  t.ok(blocks.some((b) => b.mode === 'run'), 'at least one ```ts block');
});

const distIndex = join(ROOT, 'dist', 'lib', 'index.js');
if (!existsSync(distIndex)) {
  t.fail('dist/lib/index.js is missing: run `npm run build` first (npm test does it in pretest)');
} else {
  const stale = staleBuild();
  if (stale.length > 0) t.comment(`warning: dist/ is older than ${stale.join(', ')}; snippets run the last build`);

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  if (process.env.KEEP_DOC_SNIPPETS === undefined) t.teardown(() => rmSync(OUT, { recursive: true, force: true }));

  const counters = new Map<string, number>();
  const runnable: Array<Block & { file: string }> = [];
  for (const b of blocks) {
    if (b.mode !== 'run' && b.mode !== 'socket') continue;
    // docs/api/socket.md -> api-socket, docs/socket.md -> socket, README.md -> readme.
    const page = b.source.replace(/^docs\//, '').replace(/\.md$/, '').replace(/[/\\]/g, '-').toLowerCase();
    const n = (counters.get(page) ?? 0) + 1;
    counters.set(page, n);
    const file = join(OUT, `${page}-${n}.ts`);
    writeFileSync(file, `// From ${b.source}:${b.line}\n${b.code}`);
    runnable.push({ ...b, file });
  }

  // One type-check for all of them (the children only transpile).
  writeFileSync(
    join(OUT, 'tsconfig.json'),
    JSON.stringify({ extends: '../../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }, null, 2),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const typecheck = runnable.length > 0 ? runNode([tsc, '-p', join(OUT, 'tsconfig.json')], { cwd: ROOT, timeoutMs: TSC_TIMEOUT_MS }) : null;

  const results = limited(
    CONCURRENCY,
    runnable.map((b) => () => runNode(['--import', LOADER, b.file], { cwd: ROOT, timeoutMs: TIMEOUT_MS })),
  );

  t.test('snippets type-check (tsc --noEmit)', { skip: typecheck === null ? 'no runnable snippets' : false }, async (t) => {
    const r = await typecheck!;
    // tsc prints paths of the generated files: map them back to the pages.
    let out = r.stdout + r.stderr;
    for (const b of runnable) out = out.split(relative(ROOT, b.file)).join(`${relative(ROOT, b.file)} (${b.source}:${b.line})`);
    t.equal(r.code, 0, tail(out) || `tsc exit ${r.code} signal ${r.signal}`);
  });

  let r = 0;
  for (const b of blocks) {
    const name = `${b.source}:${b.line} (${b.info})`;
    if (b.mode === 'norun' || b.mode === null) continue;
    const result = results[r];
    const file = runnable[r].file;
    r++;
    t.test(name, async (t) => {
      const res = await result;
      const detail = [
        `snippet: ${relative(ROOT, file)} (KEEP_DOC_SNIPPETS=1 keeps it)`,
        res.timedOut ? `killed after ${TIMEOUT_MS} ms` : `exit ${res.code}${res.signal ? ` signal ${res.signal}` : ''}`,
        `stderr:\n${tail(res.stderr)}`,
        `stdout:\n${tail(res.stdout, 2000)}`,
      ].join('\n');
      if (res.timedOut || res.code !== 0) t.fail(`exits 0 within ${TIMEOUT_MS / 1000} s\n${detail}`);
      else t.pass(`exits 0 (${(res.ms / 1000).toFixed(1)} s)`);
    });
  }
  const norun = blocks.filter((b) => b.mode === 'norun').length;
  t.comment(`${runnable.length} snippets run, ${norun} marked norun`);
}
