// The course (docs/guide/) as a learner would walk it: every chapter's
// commands are run in order and their output is compared with what the
// chapter says to expect; links between pages resolve; every program a
// command names exists.
//
// How a chapter is read. Fenced ```sh blocks are commands, ```text blocks
// are the output the reader should see. HTML comments right before a
// fence (blank lines between are fine, several comments may stack) say
// what the test does with it:
//
//   <!-- server -->              the sh block starts a long-running server:
//                                it is started in the background (its own
//                                process group), the test waits for its
//                                "listening on ('127.0.0.1', N)" line and
//                                sets PORT=N for the blocks that follow.
//                                A new server stops the previous one first.
//   <!-- server: free-port -->   the same, for a server that cannot listen
//                                on port 0 (the Python originals print the
//                                port they were given): the test sets PORT
//                                to a free port before starting it, and the
//                                block's `PORT=…` line (the reader's choice)
//                                is dropped as everywhere.
//   <!-- needs: TOOL -->         run the sh block only if TOOL works here
//                                (e.g. strace); otherwise it and the rest
//                                of its section (up to the next `## `
//                                heading) are skipped, with that reason.
//                                `needs: strace, io_uring`: all of them;
//                                io_uring is the kernel's (uringSupport()).
//   <!-- not-run: REASON -->     the sh block is not run (interactive,
//                                needs root, runs too long…), and the text
//                                block after it is not checked.
//   <!-- output: server -->      the text block is the current server's
//                                output so far (waited for, up to 10 s).
//   <!-- stop-server -->         the text block is what the server prints
//                                when Ctrl-C stops it: the test sends SIGINT,
//                                waits for it to exit and checks its output.
//   <!-- not-checked: REASON --> the text block is not checked (timings,
//                                numbers that differ run to run).
//
// A fence's info string may hold more words (```ts norun): the first is its
// language. A block quoted from examples/ (`<!-- quote: FILE#REGION -->`) is
// checked by test/docs/, not here.
//
// A text block with no comment checks the output (stdout and stderr) of
// the sh block before it. Checking is line by line and order-free: every
// non-empty expected line must equal a different output line after trimming
// (a line shown three times must be printed three times),
// where any run of digits matches any number (ports, pids, timings), any
// run of spaces matches any whitespace, and `…` matches anything.
//
// Running a sh block: bash in the repository root, `npx node-selectors`
// replaced by `node dist/examples/cli.js` (the same bin, without npx's
// start-up; one test runs npx itself), lines `PORT=…` (the reader's own
// port) dropped since the test sets PORT, and a 60 s limit; whatever the
// block leaves running is killed with its process group. Everything stays
// on 127.0.0.1. Servers are stopped with SIGINT, then SIGKILL, at the end
// of their chapter. GUIDE_CHAPTERS=02,07 walks only those chapters;
// GUIDE_MISSING_TOOLS=strace runs as if strace were not installed
// (GUIDE_MISSING_TOOLS=io_uring: as if io_uring were refused).
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The program names, read from the registry's source rather than imported:
// importing it would count its lazy loaders as uncovered functions.
const PROGRAMS = new Set(
  [...readFileSync(join(ROOT, 'examples', 'programs.ts'), 'utf8').matchAll(/^\s*'?([a-z][\w-]*)'?: \{ seed:/gm)].map((m) => m[1]),
);
const GUIDE = join(ROOT, 'docs', 'guide');
// Walking every chapter takes about 90 s here, more under load: more than
// the runner's default per-file timeout (.taprc), so this file asks for 10 min.
t.setTimeout(600_000);
const BLOCK_TIMEOUT_MS = 60_000;
const SERVER_START_MS = 15_000;
const OUTPUT_WAIT_MS = 10_000;

interface Block {
  line: number;
  /** How many `## ` headings come before it: its section. */
  section: number;
  lang: string;
  code: string;
  directives: Map<string, string>;
}

/** Fenced blocks with the HTML comments right before them. */
export function parseBlocks(text: string): Block[] {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  let pending = new Map<string, string>();
  let section = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('## ')) section++;
    const comment = /^\s*<!--\s*([a-z-]+)(?::\s*(.*?))?\s*-->\s*$/.exec(lines[i]);
    if (comment !== null) {
      pending.set(comment[1], comment[2] ?? '');
      continue;
    }
    const open = /^(`{3,})(\S*)(?:\s+\S.*)?\s*$/.exec(lines[i]);
    if (open === null) {
      if (lines[i].trim() !== '') pending = new Map();
      continue;
    }
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^${open[1]}\`*\\s*$`);
    for (; j < lines.length && !close.test(lines[j]); j++) body.push(lines[j]);
    blocks.push({ line: i + 1, section, lang: open[2], code: body.join('\n'), directives: pending });
    pending = new Map();
    i = j;
  }
  return blocks;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The regex for one expected line: digits, whitespace and `…` are wildcards. */
export function linePattern(expected: string): RegExp {
  const parts = expected.trim().split('…').map((part) =>
    part
      .split(/(\d+|\s+)/)
      .map((tok) => (/^\d+$/.test(tok) ? '\\d+' : /^\s+$/.test(tok) ? '\\s+' : escapeRe(tok)))
      .join(''),
  );
  return new RegExp(`^${parts.join('.*')}$`);
}

/** Expected lines that no output line matches (each output line answers one expected line). */
function missing(expected: string, output: string): string[] {
  const actual = output.split(/\r?\n/).map((l) => l.trim());
  const used = new Set<number>();
  return expected
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .filter((l) => {
      const re = linePattern(l);
      const i = actual.findIndex((a, k) => !used.has(k) && re.test(a));
      if (i < 0) return true;
      used.add(i);
      return false;
    });
}

function toRunnable(code: string): string {
  return code
    .split('\n')
    .filter((l) => !/^\s*PORT=\d*/.test(l))
    .join('\n')
    .replace(/\bnpx node-selectors\b/g, 'node dist/examples/cli.js');
}

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

function start(code: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn('bash', ['-c', toRunnable(code)], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Each stream on its own: the lines are matched in any order, and a
  // stderr line written in two pieces (strace's, under load) must not get
  // a stdout line spliced into its middle.
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((done) => child.on('close', () => done()));
  return { child, output: () => (err === '' ? out : out === '' ? err : `${out}\n${err}`), exited };
}

function killGroup(r: Running, signal: NodeJS.Signals): void {
  try {
    process.kill(-r.child.pid!, signal);
  } catch {
    // already gone
  }
}

async function stop(r: Running): Promise<void> {
  killGroup(r, 'SIGINT');
  const timer = setTimeout(() => killGroup(r, 'SIGKILL'), 10_000);
  await r.exited;
  clearTimeout(timer);
  killGroup(r, 'SIGKILL'); // anything the block started and left behind
}

async function runBlock(code: string, env: NodeJS.ProcessEnv): Promise<{ output: string; timedOut: boolean }> {
  const r = start(code, env);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(r, 'SIGKILL');
  }, BLOCK_TIMEOUT_MS);
  await r.exited;
  clearTimeout(timer);
  killGroup(r, 'SIGKILL');
  return { output: r.output(), timedOut };
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** GitHub's anchors for the headings of a markdown page. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.*)$/gm)) {
    out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

/** A port nothing listens on right now (bound to 0, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((done) => srv.close(() => done()));
  return port;
}

function toolWorks(tool: string): string | null {
  // GUIDE_MISSING_TOOLS=strace pretends a tool is absent, to try the skip.
  if ((process.env.GUIDE_MISSING_TOOLS ?? '').split(',').includes(tool)) return `${tool} is not available here (GUIDE_MISSING_TOOLS)`;
  // io_uring: not a program but the kernel's permission (sysctl, seccomp), asked as the chapter asks it.
  if (tool === 'io_uring') {
    const probe = "import { uringSupport } from 'node-selectors/uring'; const s = uringSupport(); console.log(s.ok ? '' : s.reason);";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    const reason = r.status === 0 ? r.stdout.trim() : `the probe failed: ${r.stderr.trim()}`;
    return reason === '' ? null : `io_uring is not available here (${reason})`;
  }
  // man: the pages matter, not the program (minimal images ship man-db without them).
  const probe =
    tool === 'strace' ? ['strace', ['-o', '/dev/null', 'true']] : tool === 'man' ? ['man', ['-w', '7', 'epoll']] : [tool, ['--version']];
  const r = spawnSync(probe[0] as string, probe[1] as string[], { stdio: 'ignore' });
  const pkg = tool === 'man' ? 'man-db manpages manpages-dev' : tool;
  return r.status === 0 ? null : `${tool} is not available here (install it: sudo apt-get install ${pkg})`;
}

const chapters = existsSync(GUIDE)
  ? readdirSync(GUIDE)
      .filter((f) => /^\d\d-.*\.md$/.test(f))
      .sort()
  : [];
// GUIDE_CHAPTERS=02,07 walks only those chapters (the other checks still cover all).
const only = process.env.GUIDE_CHAPTERS?.split(',').map((n) => n.trim().padStart(2, '0'));
const walked = only === undefined ? chapters : chapters.filter((c) => only.includes(c.slice(0, 2)));

t.test('the guide has its table of contents and chapters', async (t) => {
  t.ok(existsSync(join(GUIDE, 'README.md')), 'docs/guide/README.md');
  t.ok(chapters.length >= 7, `${chapters.length} chapters`);
  const toc = readFileSync(join(GUIDE, 'README.md'), 'utf8');
  for (const c of chapters) {
    t.ok(toc.includes(`(${c})`), `the table of contents links ${c}`);
    const text = readFileSync(join(GUIDE, c), 'utf8');
    t.match(text, /^## Exercises/m, `${c} has an Exercises section`);
    t.ok(parseBlocks(text).some((b) => b.lang === 'sh'), `${c} has commands`);
  }
});

t.test('links between pages resolve', async (t) => {
  const pages = [join(ROOT, 'README.md'), join(ROOT, 'docs', 'guide.md'), ...readdirSync(GUIDE).filter((f) => f.endsWith('.md')).map((f) => join(GUIDE, f))];
  for (const page of pages.filter((p) => existsSync(p))) {
    const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)|<img src="([^"]+)"/g)) {
      const [target, anchor] = (m[1] ?? m[2]).split('#');
      if (/^[a-z]+:/.test(target)) continue;
      const file = target === '' ? page : resolve(dirname(page), target);
      if (!t.ok(existsSync(file), `${relative(ROOT, page)} → ${m[1] ?? m[2]}`)) continue;
      if (anchor !== undefined && file.endsWith('.md')) {
        t.ok(anchors(readFileSync(file, 'utf8')).has(anchor), `${relative(ROOT, page)} → ${m[1] ?? m[2]}: the heading exists`);
      }
    }
  }
});

t.test('every program a command names exists', async (t) => {
  t.ok(PROGRAMS.has('howto-blocking') && PROGRAMS.has('line-client') && PROGRAMS.size >= 25, `${PROGRAMS.size} programs read from examples/programs.ts`);
  for (const c of chapters) {
    for (const b of parseBlocks(readFileSync(join(GUIDE, c), 'utf8')).filter((b) => b.lang === 'sh')) {
      for (const m of b.code.matchAll(/(?:npx node-selectors|npm run cli --|node dist\/examples\/cli\.js)\s+([a-z][\w-]*)/g)) {
        t.ok(PROGRAMS.has(m[1]), `${c}:${b.line} ${m[1]}`);
      }
    }
  }
});

t.test('npx node-selectors runs the bin from the repository', async (t) => {
  const r = await runBlock('npx --no-install node-selectors line-client --help', { ...process.env });
  t.match(r.output, /usage: line-client <host> <port>/);
});

for (const c of walked) {
  t.test(`walk ${c}`, async (t) => {
    const text = readFileSync(join(GUIDE, c), 'utf8');
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.NODE_V8_COVERAGE;
    const servers: Running[] = [];
    let server: Running | null = null;
    let last: { output: string } | null = null;
    t.teardown(async () => {
      await Promise.all(servers.map(stop));
    });
    let skippedSection = -1;
    for (const b of parseBlocks(text)) {
      const where = `${c}:${b.line}`;
      if (b.section === skippedSection) {
        last = null;
        continue;
      }
      if (b.lang === 'sh') {
        last = null;
        if (b.directives.has('not-run')) continue;
        const needs = b.directives.get('needs');
        if (needs !== undefined) {
          const why = needs.split(',').map((tool) => toolWorks(tool.trim())).find((w) => w !== null) ?? null;
          if (why !== null) {
            t.pass(`${where} and the rest of its section skipped: ${why}`, { skip: why });
            skippedSection = b.section;
            continue;
          }
        }
        if (b.directives.has('server')) {
          if (server !== null) await stop(server);
          if (b.directives.get('server') === 'free-port') env.PORT = String(await freePort());
          const s = start(b.code, env);
          servers.push(s);
          server = s;
          const up = await waitUntil(() => /listening on \('[^']*', \d+\)/.test(s.output()), SERVER_START_MS);
          if (!t.ok(up, `${where} server started`, { output: s.output() })) return;
          env.PORT = /listening on \('[^']*', (\d+)\)/.exec(s.output())![1];
          continue;
        }
        const r = await runBlock(b.code, env);
        t.notOk(r.timedOut, `${where} ends within ${BLOCK_TIMEOUT_MS / 1000} s`, { output: r.output });
        last = r;
      } else if (b.lang === 'text') {
        if (b.directives.has('not-checked')) continue;
        if (b.directives.has('output') || b.directives.has('stop-server')) {
          if (!t.ok(server, `${where} has a server to read`)) continue;
          const s = server!;
          if (b.directives.has('stop-server')) {
            await stop(s);
            server = null;
          } else await waitUntil(() => missing(b.code, s.output()).length === 0, OUTPUT_WAIT_MS);
          t.same(missing(b.code, s.output()), [], `${where} the server printed what the chapter shows`, { output: s.output() });
          continue;
        }
        if (last === null) continue; // output of a command the test did not run
        t.same(missing(b.code, last.output), [], `${where} the command printed what the chapter shows`, { output: last.output });
      }
    }
  });
}
