// Links between the documentation pages resolve: README.md, bench/README.md
// and every page under docs/ (the course in docs/guide/, the API reference
// in docs/api/). A relative link must name a file or folder that exists;
// a `#anchor` on a markdown page must name one of its headings (GitHub's
// anchors) or an <a id>. Links inside code (fenced blocks, `code spans`)
// are not links. Web links (https:, mailto:) are not fetched.
import t from 'tap';
import { anchors, markdownPages, withoutCode } from '../helpers/markdown.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The link targets of a page, with their 1-based line. */
export function linkTargets(text: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  const lines = withoutCode(text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/(`+)[^`]*?\1/g, '');
    const found = [
      ...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), // [text](target "title")
      ...line.matchAll(/^\s{0,3}\[[^\]]+\]:\s+<?([^\s>]+)>?/g), // [ref]: target
      ...line.matchAll(/<(?:img|a)\s[^>]*?(?:src|href)="([^"]+)"/g), // <img src> <a href>
    ];
    for (const m of found) out.push({ line: i + 1, target: m[1] });
  }
  return out;
}

const pages = markdownPages(ROOT);

t.test('the pages are found', async (t) => {
  const names = pages.map((p) => relative(ROOT, p));
  for (const p of ['README.md', 'docs/README.md', 'docs/guide/README.md', 'docs/api/README.md']) t.ok(names.includes(p), p);
});

t.test('link targets are read from the text, not from code', async (t) => {
  const sample = [
    'see [a](a.md#x) and [b](b.md "title")',
    '`[c](c.md)` is code',
    '```',
    '[d](d.md)',
    '```',
    '[e]: e.md',
    '<img src="f.svg">',
    '```` ```ts ```` is a code span, not a fence: [g](g.md)',
    '[h](h.md)',
  ].join('\n');
  t.same(
    linkTargets(sample).map((l) => `${l.line}:${l.target}`),
    ['1:a.md#x', '1:b.md', '6:e.md', '7:f.svg', '8:g.md', '9:h.md'],
  );
});

for (const page of pages) {
  const rel = relative(ROOT, page);
  t.test(rel, async (t) => {
    const text = readFileSync(page, 'utf8');
    const broken: string[] = [];
    let checked = 0;
    for (const { line, target } of linkTargets(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split('#');
      const file = path === '' ? page : resolve(dirname(page), decodeURI(path));
      checked++;
      if (!existsSync(file)) broken.push(`${rel}:${line} → ${target}: no such file`);
      else if (anchor !== undefined && anchor !== '' && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor))) {
        broken.push(`${rel}:${line} → ${target}: no such heading`);
      }
    }
    t.same(broken, [], `${checked} relative links resolve`);
  });
}
