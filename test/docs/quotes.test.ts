// Code the docs quote from examples/ still matches the file it was quoted from.
//
// The convention (docs/README.md, "Quoting a program"):
//   in the source file    // #region NAME
//                         …the lines quoted…
//                         // #endregion NAME
//   in the page           <!-- quote: examples/FILE.ts#NAME -->
//                         ```ts norun
//                         …the same lines…
//                         ```
// The marker line comes immediately before the fence. The block must equal
// the region's lines with every region marker line left out (regions may
// nest) and their common leading indentation removed. Every region in
// examples/ must be quoted by some page: a region exists to be quoted, so
// one nobody quotes is a leftover.
import t from 'tap';
import { fencedBlocks, markdownPages, withoutCode } from '../helpers/markdown.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const MARKER = /^\s*\/\/\s*#(region|endregion)\s+([\w.-]+)\s*$/;
const QUOTE = /^<!--\s*quote:\s*(\S+?)#([\w.-]+)\s*-->\s*$/;

/** The regions of a source text, name → lines (markers left out, dedented); throws on a malformed region. */
export function regions(text: string, where = 'source'): Map<string, string[]> {
  const lines = text.split(/\r?\n/);
  const open = new Map<string, number>();
  const out = new Map<string, string[]>();
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]);
    if (m === null) continue;
    const [, kind, name] = m;
    if (kind === 'region') {
      if (open.has(name) || out.has(name)) throw new Error(`${where}:${i + 1}: region ${name} is defined twice`);
      open.set(name, i);
      continue;
    }
    const start = open.get(name);
    if (start === undefined) throw new Error(`${where}:${i + 1}: #endregion ${name} without its #region`);
    open.delete(name);
    out.set(name, dedent(lines.slice(start + 1, i).filter((l) => !MARKER.test(l))));
  }
  for (const [name, start] of open) throw new Error(`${where}:${start + 1}: region ${name} is never closed`);
  return out;
}

/** The lines with their common leading whitespace removed (blank lines do not count, and become empty). */
export function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(cut)));
}

/** The quote markers of a page and the block each one stands before (null: no fence right after it). */
export function quotes(text: string): Array<{ line: number; file: string; name: string; code: string[] | null }> {
  const lines = withoutCode(text).split('\n'); // a marker shown inside a code block is an example, not a quote
  const blocks = new Map(fencedBlocks(text).map((b) => [b.line, b]));
  const out: Array<{ line: number; file: string; name: string; code: string[] | null }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = QUOTE.exec(lines[i]);
    if (m === null) continue;
    const block = blocks.get(i + 2); // the fence on the next line
    const code = block === undefined ? null : block.code.replace(/\n$/, '').split('\n');
    out.push({ line: i + 1, file: m[1], name: m[2], code });
  }
  return out;
}

/** What is wrong with a quote, or null: compares the block with the region, line by line. */
export function mismatch(quoted: string[], region: string[]): string | null {
  const trim = (a: string[]): string[] => a.map((l) => l.replace(/\s+$/, ''));
  const [q, r] = [trim(quoted), trim(region)];
  for (let i = 0; i < Math.max(q.length, r.length); i++) {
    if (q[i] !== r[i]) {
      return `line ${i + 1} of the block: ${q[i] === undefined ? '(block ends)' : JSON.stringify(q[i])}; the file has ${r[i] === undefined ? '(region ends)' : JSON.stringify(r[i])}`;
    }
  }
  return null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mjs|js|py|c)$/.test(entry.name)) out.push(p);
  }
  return out;
}

t.test('the checker itself', async (t) => {
  const src = ['a', '  // #region outer', '  if (x) {', '    // #region inner', '    y();', '    // #endregion inner', '  }', '  // #endregion outer'].join('\n');
  const r = regions(src);
  t.same(r.get('outer'), ['if (x) {', '  y();', '}'], 'markers left out, common indentation removed');
  t.same(r.get('inner'), ['y();']);
  t.throws(() => regions('// #region a\nx'), /region a is never closed/);
  t.throws(() => regions('x\n// #endregion a'), /#endregion a without its #region/);
  t.throws(() => regions('// #region a\n// #endregion a\n// #region a\n// #endregion a'), /defined twice/);
  const page = [
    'text',
    '<!-- quote: examples/x.ts#outer -->',
    '```ts norun',
    'if (x) {',
    '  y();',
    '}',
    '```',
    '<!-- quote: examples/x.ts#inner -->',
    '',
    '```ts',
    'y();',
    '```',
    '```text',
    '<!-- quote: examples/x.ts#shown -->',
    '```',
  ].join('\n');
  const q = quotes(page);
  t.same(q.map((x) => [x.line, x.file, x.name]), [[2, 'examples/x.ts', 'outer'], [8, 'examples/x.ts', 'inner']], 'a marker inside a code block is not a quote');
  t.equal(mismatch(q[0].code!, r.get('outer')!), null, 'an exact copy matches');
  t.equal(q[1].code, null, 'a marker not right before a fence has no block');
  t.match(mismatch(['if (x) {', '  z();', '}'], r.get('outer')!), /line 2 of the block: "  z\(\);"; the file has "  y\(\);"/);
  t.match(mismatch(['if (x) {'], r.get('outer')!), /line 2 of the block: \(block ends\)/);
});

const pages = markdownPages(ROOT);
const allQuotes = pages.flatMap((p) => quotes(readFileSync(p, 'utf8')).map((q) => ({ ...q, page: relative(ROOT, p) })));
const regionCache = new Map<string, Map<string, string[]>>();
function regionsOf(file: string): Map<string, string[]> {
  let r = regionCache.get(file);
  if (r === undefined) {
    r = regions(readFileSync(join(ROOT, file), 'utf8'), file);
    regionCache.set(file, r);
  }
  return r;
}

t.test('every quoted region still matches its file', async (t) => {
  const wrong: string[] = [];
  for (const q of allQuotes) {
    const at = `${q.page}:${q.line} quotes ${q.file}#${q.name}`;
    if (q.code === null) wrong.push(`${at}: no fenced block on the next line`);
    else if (!q.file.startsWith('examples/') || !existsSync(join(ROOT, q.file))) wrong.push(`${at}: no such file in examples/`);
    else {
      const region = regionsOf(q.file).get(q.name);
      if (region === undefined) wrong.push(`${at}: the file has no region ${q.name}`);
      else {
        const diff = mismatch(q.code, region);
        if (diff !== null) wrong.push(`${at}: ${diff}`);
      }
    }
  }
  t.same(wrong, [], `${allQuotes.length} quotes checked`);
});

t.test('every region in examples/ is quoted', async (t) => {
  const quoted = new Set(allQuotes.map((q) => `${q.file}#${q.name}`));
  const unquoted: string[] = [];
  let count = 0;
  for (const file of sourceFiles(join(ROOT, 'examples')).map((f) => relative(ROOT, f))) {
    for (const name of regionsOf(file).keys()) {
      count++;
      if (!quoted.has(`${file}#${name}`)) unquoted.push(`${file}#${name}`);
    }
  }
  t.same(unquoted, [], `${count} regions in examples/`);
});
