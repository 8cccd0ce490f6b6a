/**
 * Reading the project's markdown pages the way the docs tests need: which
 * pages there are, their fenced code blocks, and GitHub's heading anchors.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A fenced code block (``` or ~~~, closed by a fence of the same kind at least as long). */
export interface FencedBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string after the fence, trimmed. */
  info: string;
  /** The lines between the fences, each ending in a newline. */
  code: string;
  /** 1-based line of the closing fence (one past the last line if the block is unclosed). */
  end: number;
}

export function fencedBlocks(text: string): FencedBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (open === null) continue;
    const fence = open[1];
    const info = open[2].trim();
    // A backtick fence's info string has no backtick (CommonMark): a line
    // such as "```` ```ts ```` marks …" is a code span, not a fence.
    if (fence[0] === '`' && info.includes('`')) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close !== null && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j]);
    }
    blocks.push({ line: i + 1, info, code: body.map((l) => `${l}\n`).join(''), end: j + 1 });
    i = j;
  }
  return blocks;
}

/** The text with every fenced block's lines blanked (line numbers kept). */
export function withoutCode(text: string): string {
  const lines = text.split(/\r?\n/);
  for (const b of fencedBlocks(text)) {
    for (let i = b.line - 1; i < Math.min(b.end, lines.length); i++) lines[i] = '';
  }
  return lines.join('\n');
}

/** The anchor GitHub gives a heading's text. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** GitHub's anchors for the headings of a page (a repeated heading gets -1, -2, …). */
export function anchors(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of withoutCode(text).matchAll(/^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    let a = base;
    for (let n = 1; out.has(a); n++) a = `${base}-${n}`;
    out.add(a);
  }
  for (const m of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/**
 * The documentation pages, as absolute paths: README.md, bench/README.md
 * and every .md under docs/ (sub-folders included), sorted.
 */
export function markdownPages(root: string): string[] {
  const pages: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.md')) pages.push(p);
    }
  };
  walk(join(root, 'docs'));
  for (const p of ['README.md', join('bench', 'README.md')]) if (existsSync(join(root, p))) pages.push(join(root, p));
  return pages.sort((a, b) => relative(root, a).localeCompare(relative(root, b)));
}
