// The API reference (docs/api/) documents every export of the package, and
// nothing that is not exported.
//
// What is exported is read from the build, the way a user's code sees it:
// each entry point of package.json "exports" is imported from dist/ in a
// child process (its Object.keys are the values it exports), and
// TypeScript reads its .d.ts for
// the type-only exports and for the public members of each exported class
// (fields, getters, methods, statics; not `private`/`protected`, not what is
// inherited from Node's EventEmitter or Error).
//
// What is documented is read from the pages (docs/api/README.md says the
// same): every `code span` in a heading, or in the first cell of a table
// row, documents the name it starts with (`node-selectors/…`, an entry
// point, documents nothing):
//   `getaddrinfo(host, port, …)`    the export getaddrinfo
//   `.recv(bufsize, flags?)`        a member of the class whose section it is
//                                   in (the last heading naming a class)
//   `Epoll.fromfd(fd)`              a static member of Epoll
//   `.[Symbol.dispose]()`           a symbol-keyed member (as in the source)
// A member documented on a base class (`BaseSelector`, `Message`, `IOBase`,
// …) counts for its subclasses. Each entry point's exports must be
// documented on its own pages (the map PAGES below); the root's anywhere
// in docs/api/.
import t from 'tap';
import ts from 'typescript';
import { withoutCode } from '../helpers/markdown.js';
import { runNode } from '../helpers/run-node.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const API = join(ROOT, 'docs', 'api');

interface PackageJson {
  exports: Record<string, string | { types: string; default: string }>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** The pages that document each entry point (the root: all of them). */
const PAGES: Record<string, string[] | 'all'> = {
  '.': 'all',
  './socket': ['socket.md', 'errors.md', 'constants.md'],
  './select': ['select.md', 'constants.md'],
  './selectors': ['selectors.md', 'errors.md'],
  './uring': ['uring.md', 'errors.md'],
};

interface Surface {
  values: Set<string>;
  types: Set<string>;
}
interface ClassInfo {
  /** Public member names, statics prefixed `static:`. */
  members: Set<string>;
  /** The class and its ancestors declared in the package, nearest first. */
  chain: string[];
}

/** A member's name; a symbol-keyed one as written in the source: `[Symbol.dispose]`, `[inspect.custom]`. */
function memberName(symbol: ts.Symbol): string {
  const name = symbol.valueDeclaration !== undefined ? ts.getNameOfDeclaration(symbol.valueDeclaration) : undefined;
  return name !== undefined && ts.isComputedPropertyName(name) ? name.getText() : symbol.name;
}

/** Exports of each entry point and the members of every exported class, from the .d.ts files. */
function readDeclarations(entries: Record<string, string>): { surfaces: Map<string, Surface>; classes: Map<string, ClassInfo> } {
  const program = ts.createProgram(Object.values(entries), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const ours = (s: ts.Symbol): boolean => (s.declarations ?? []).some((d) => !d.getSourceFile().fileName.includes('/node_modules/'));
  const visible = (s: ts.Symbol): boolean => {
    const decl = s.valueDeclaration ?? s.declarations?.[0];
    return !s.name.startsWith('#') && (decl === undefined || (ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0);
  };
  const surfaces = new Map<string, Surface>();
  const classes = new Map<string, ClassInfo>();
  for (const [entry, file] of Object.entries(entries)) {
    const source = program.getSourceFile(file);
    if (source === undefined) throw new Error(`TypeScript cannot read ${file}`);
    const surface: Surface = { values: new Set(), types: new Set() };
    for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      (target.flags & ts.SymbolFlags.Value ? surface.values : surface.types).add(exported.name);
      if (!(target.flags & ts.SymbolFlags.Class) || classes.has(exported.name)) continue;
      const instance = checker.getDeclaredTypeOfSymbol(target);
      const members = new Set<string>();
      for (const p of checker.getPropertiesOfType(instance)) if (visible(p) && ours(p)) members.add(memberName(p));
      for (const p of checker.getPropertiesOfType(checker.getTypeOfSymbol(target))) {
        if (p.name !== 'prototype' && visible(p) && ours(p)) members.add(`static:${memberName(p)}`);
      }
      const chain = [exported.name];
      for (let type: ts.InterfaceType = instance as ts.InterfaceType; ; ) {
        const base = checker.getBaseTypes(type)[0] as (ts.BaseType & { target?: ts.InterfaceType }) | undefined;
        const symbol = base?.getSymbol();
        if (base === undefined || symbol === undefined || !ours(symbol)) break;
        chain.push(symbol.name);
        type = base.target ?? (base as ts.InterfaceType); // BaseSelector<T> -> BaseSelector
      }
      classes.set(exported.name, { members, chain });
    }
    surfaces.set(entry, surface);
  }
  return { surfaces, classes };
}

interface Documented {
  page: string;
  line: number;
  /** The class for a member, null for an export. */
  cls: string | null;
  /** The export's name, or the member's (`static:` prefixed for statics). */
  name: string;
}

/** The names a page documents (see the header of this file). */
export function documentedNames(page: string, text: string, isClass: (name: string) => boolean): { names: Documented[]; problems: string[] } {
  const names: Documented[] = [];
  const problems: string[] = [];
  let cls: string | null = null;
  const lines = withoutCode(text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^ {0,3}#{1,6}\s+(.*)$/.exec(line);
    let spans: string[];
    if (heading !== null) {
      spans = [...heading[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      // A heading naming a class opens its section; one naming a member stays in it; any other closes it.
      if (spans[0] === undefined || !spans[0].startsWith('.')) cls = spans[0] !== undefined && isClass(spans[0]) ? spans[0] : null;
    } else if (/^\s*\|/.test(line) && !/^\s*\|[\s:|-]+\|?\s*$/.test(line)) {
      const cell = line.replace(/^\s*\|/, '').split(/(?<!\\)\|/)[0];
      spans = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    } else continue;
    for (const span of spans) {
      if (span.startsWith('node-selectors')) continue; // an entry point's name
      const at = { page, line: i + 1 };
      const member = /^\.(\[[\w$.]+\]|[A-Za-z_$][\w$]*)/.exec(span);
      const statik = /^([A-Z][\w$]*)\.([A-Za-z_$][\w$]*)/.exec(span);
      const plain = /^(?:new\s+)?([A-Za-z_$][\w$]*)/.exec(span);
      if (member !== null) {
        if (cls === null) problems.push(`${page}:${i + 1}: \`${span}\` is a member outside a class's section`);
        else names.push({ ...at, cls, name: member[1] });
      } else if (statik !== null && isClass(statik[1])) names.push({ ...at, cls: statik[1], name: `static:${statik[2]}` });
      else if (plain !== null) names.push({ ...at, cls: null, name: plain[1] });
      else problems.push(`${page}:${i + 1}: \`${span}\` names nothing`);
    }
  }
  return { names, problems };
}

t.test('the page reader', async (t) => {
  const page = [
    '# Sockets',
    '| name | returns |',
    '| --- | --- |',
    '| `socketpair(family?)` / `fromfd(fd)` | a pair `Socket` |',
    '## `Socket`',
    '```ts norun',
    '| `notMe()` |',
    '```',
    '| `.recv(bufsize)` | `Buffer` |',
    '| `.[Symbol.dispose]()` | |',
    '### `.close()`',
    '| `Socket.fromFd(fd)` | |',
    '## Other',
    '| `.stray()` | |',
  ].join('\n');
  const { names, problems } = documentedNames('x.md', page, (n) => n === 'Socket');
  t.same(
    names.map((n) => `${n.line}:${n.cls ?? ''}:${n.name}`),
    ['4::socketpair', '4::fromfd', '5::Socket', '9:Socket:recv', '10:Socket:[Symbol.dispose]', '11:Socket:close', '12:Socket:static:fromFd'],
  );
  t.same(problems, ['x.md:14: `.stray()` is a member outside a class\'s section']);
});

const entries: Record<string, string> = {};
for (const [entry, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue; // ./package.json
  entries[entry] = join(ROOT, target.types);
}

const missingBuild = Object.values(pkg.exports).filter((x) => typeof x !== 'string' && !existsSync(join(ROOT, x.default)));
if (missingBuild.length > 0 || !existsSync(API)) {
  t.fail(missingBuild.length > 0 ? 'dist/ is missing: run `npm run build` first' : 'docs/api/ is missing');
} else {
  const { surfaces, classes } = readDeclarations(entries);
  const pages = readdirSync(API).filter((f) => f.endsWith('.md')).sort();
  const docs = new Map<string, Documented[]>();
  const problems: string[] = [];
  for (const page of pages) {
    const r = documentedNames(`docs/api/${page}`, readFileSync(join(API, page), 'utf8'), (n) => classes.has(n));
    docs.set(page, r.names);
    problems.push(...r.problems);
  }
  const all = [...docs.values()].flat();

  t.test('the .d.ts exports are what the built modules export', async (t) => {
    // Imported in a child process, as a user's program would: loaded here,
    // the whole library would count as (mostly uncovered) code of this test.
    const targets = Object.entries(pkg.exports).flatMap(([entry, target]) =>
      typeof target === 'string' ? [] : [[entry, pathToFileURL(join(ROOT, target.default)).href]],
    );
    const script = `
      const out = {};
      for (const [entry, url] of ${JSON.stringify(targets)}) {
        const mod = await import(url);
        const isClass = (v) => typeof v === 'function' && /^class\\b/.test(Function.prototype.toString.call(v));
        out[entry] = Object.keys(mod).map((name) => [name, isClass(mod[name]) ? Object.keys(mod).filter((n) => mod[n] === mod[name]) : null]);
      }
      console.log(JSON.stringify(out));`;
    const r = await runNode(['--input-type=module', '-e', script], { cwd: ROOT, timeoutMs: 60_000 });
    if (!t.equal(r.code, 0, `the child imports every entry point\n${r.stderr}`)) return;
    const runtime = JSON.parse(r.stdout) as Record<string, Array<[string, string[] | null]>>;
    for (const [entry, names] of Object.entries(runtime)) {
      t.same(names.map(([n]) => n).sort(), [...surfaces.get(entry)!.values].sort(), `${entry}: ${names.length} values`);
      for (const [name, same] of names) {
        if (same === null) continue;
        // DefaultSelector is a const holding one of the backend classes.
        const alias = same.find((n) => classes.has(n));
        t.ok(alias !== undefined, `${entry}: ${name} is a class TypeScript sees${alias !== undefined && alias !== name ? ` (as ${alias})` : ''}`);
      }
    }
  });

  t.test('every code span on the pages names something', async (t) => {
    t.same(problems, []);
  });

  for (const [entry, surface] of surfaces) {
    t.test(`every export of ${entry === '.' ? 'node-selectors' : `node-selectors/${entry.slice(2)}`} is documented`, async (t) => {
      const where = PAGES[entry];
      if (where === undefined) return t.fail(`${entry} has no pages in the PAGES map of this test`);
      const onPages = new Set(
        (where === 'all' ? all : where.flatMap((p) => docs.get(p) ?? [])).filter((d) => d.cls === null).map((d) => d.name),
      );
      const names = [...surface.values, ...surface.types].sort();
      const missing = names.filter((n) => !onPages.has(n));
      t.same(missing, [], `${names.length} exports (${surface.types.size} type-only) on ${where === 'all' ? 'docs/api/' : where.join(', ')}`);
    });
  }

  t.test('every public member of an exported class is documented', async (t) => {
    const documented = new Set(all.filter((d) => d.cls !== null).map((d) => `${d.cls}#${d.name}`));
    const missing: string[] = [];
    let count = 0;
    for (const [name, info] of classes) {
      for (const member of info.members) {
        count++;
        if (!info.chain.some((c) => documented.has(`${c}#${member}`))) missing.push(`${name}${member.startsWith('static:') ? '.' + member.slice(7) : '#' + member}`);
      }
    }
    t.same(missing, [], `${count} members of ${classes.size} classes`);
  });

  t.test('nothing documented is missing from the package', async (t) => {
    const exported = new Set([...surfaces.values()].flatMap((s) => [...s.values, ...s.types]));
    const stale: string[] = [];
    for (const d of all) {
      if (d.cls === null) {
        if (!exported.has(d.name)) stale.push(`${d.page}:${d.line}: ${d.name} is not exported`);
      } else if (!classes.get(d.cls)!.members.has(d.name)) {
        stale.push(`${d.page}:${d.line}: ${d.cls} has no public ${d.name}`);
      }
    }
    t.same(stale, [], `${all.length} documented names`);
  });

  t.test('every name with a Python equivalent is in the Python → TypeScript table', async (t) => {
    // Rows of the reference tables (last column "Python") whose Python cell
    // is not "–" name something Python has: docs/python-names.md must name
    // it too. Constants are covered there by one rule (kernel names are
    // kept), so constants.md is not read.
    const table = readFileSync(join(ROOT, 'docs', 'python-names.md'), 'utf8');
    const words = new Set<string>();
    for (const m of table.matchAll(/`([^`]+)`/g)) {
      for (const w of m[1].matchAll(/[A-Za-z_$][\w$.]*/g)) for (const part of [w[0], ...w[0].split('.')]) words.add(part);
    }
    const missing: string[] = [];
    let count = 0;
    for (const page of pages.filter((p) => p !== 'constants.md')) {
      let header: string[] | null = null;
      const lines = withoutCode(readFileSync(join(API, page), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (!line.startsWith('|')) return void (header = null);
        const cells = line.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim());
        if (header === null) return void (header = cells);
        if (/^[\s:-]+$/.test(cells[0]) || header.at(-1) !== 'Python' || cells.at(-1)!.startsWith('–')) return;
        for (const [, span] of cells[0].matchAll(/`([^`]+)`/g)) {
          const m = /^(?:new\s+)?(?:[A-Z][\w$]*\.(?=[a-z]))?\.?(?:\[([\w$.]+)\]|([A-Za-z_$][\w$]*))/.exec(span);
          if (m === null || span.startsWith('node-selectors')) continue;
          count++;
          const word = m[1] === 'inspect.custom' ? 'util.inspect' : (m[1] ?? m[2]); // what calls [inspect.custom]
          if (!words.has(word)) missing.push(`docs/api/${page}:${i + 1}: ${span} (Python: ${cells.at(-1)})`);
        }
      });
    }
    t.same(missing, [], `${count} names with a Python equivalent`);
  });

  t.test('each page is in the index', async (t) => {
    const index = readFileSync(join(API, 'README.md'), 'utf8');
    for (const page of pages.filter((p) => p !== 'README.md')) t.ok(index.includes(`](${page})`), `README.md links ${page}`);
  });
}
