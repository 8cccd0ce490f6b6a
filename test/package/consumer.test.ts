// The BUILT package, as a consumer installs it: type-checked under
// moduleResolution nodenext, node16 and bundler, and imported at run time
// from a plain .mjs, through the root and every subpath of `exports`.
//
// A temp dir gets node_modules/node-selectors = package.json + dist/ (what
// `files` publishes, minus the sources, so nothing can resolve into lib/),
// and links to the package's runtime dependencies and @types/node only — a
// built .d.ts or .js that imports an undeclared package fails here. Needs
// dist/ (`npm test` builds it in pretest).
import t from 'tap';
import { runNode } from '../helpers/run-node.js';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TIMEOUT_MS = 60_000;

interface Pkg {
  dependencies?: Record<string, string>;
  exports: Record<string, string | { types?: string; default?: string }>;
}
// Three tsc runs and a node run, each bounded by TIMEOUT_MS: under a busy
// machine they may together outlast the default file timeout (.taprc).
t.setTimeout(4 * TIMEOUT_MS + 30_000);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;
const SUBPATHS = ['socket', 'select', 'selectors', 'uring'];

// Under test: a typed listener on every emitter class, a subclass with an
// event of its own, and the subpaths. Every @ts-expect-error must be used,
// so `on` typed as `any` (the bundler failure of typed-emitter's CJS
// default export: TS2339, or an `any` base) fails the check.
const CONSUMER_TS = `
import {
  ClientMessage, DefaultSelector as RootSelector, EchoMessage, Message, MessageServer, ServerMessage,
  encodeMessage, select as selectNs, selectors as selectorsNs,
  type Frame, type MessageEvents, type MessageSpec, type SocketAddress,
} from 'node-selectors';
import { AF_INET, SOCK_STREAM, Socket, socketpair, type SocketAddress as SubpathAddress } from 'node-selectors/socket';
import { EPOLLIN, epoll, poll, select } from 'node-selectors/select';
import { DefaultSelector, EVENT_READ, EVENT_WRITE, type SelectorKey } from 'node-selectors/selectors';

export function listen(m: Message, e: EchoMessage, s: ServerMessage, c: ClientMessage, server: MessageServer): void {
  m.on('error', (err: Error) => console.log(err.message)).once('close', () => {});
  e.on('data', (chunk: Buffer) => console.log(chunk.length));
  e.on('send', (message: Buffer) => console.log(message.length));
  s.on('request', (request: Frame) => console.log(request.header.contentType));
  s.on('response', (response: MessageSpec, frame: Buffer) => console.log(response.content, frame.length));
  c.on('request', (request: MessageSpec, frame: Buffer) => console.log(request.content, frame.length));
  c.on('response', (response: Frame) => console.log(response.content));
  server.on('connection', (message: Message, addr: SocketAddress) => console.log(message.closed, addr));
  server.on('clientError', (err: Error, message: Message) => console.log(err, message));
  server.off('close', () => {});
  const echo: EchoMessage = e.on('close', () => {});
  const srv: MessageServer = server.once('acceptResumed', () => {});
  console.log(echo, srv, e.emit('data', Buffer.alloc(1)));

  // @ts-expect-error: 'data' carries a Buffer, not a string
  e.on('data', (chunk: string) => console.log(chunk));
  // @ts-expect-error: 'connection' gives a Message first, not an address
  server.on('connection', (addr: SocketAddress) => console.log(addr));
  // @ts-expect-error: no such event
  s.on('nope', () => {});
  // @ts-expect-error: 'error' needs its Error
  m.emit('error');
}

type ShoutEvents = MessageEvents & { line: (line: string) => void };
export class ShoutMessage extends Message<ShoutEvents> {
  protected override onData(chunk: Buffer): void {
    this.emit('line', chunk.toString());
    // @ts-expect-error: 'line' carries a string
    this.emit('line', 42);
  }
}
export function shout(m: ShoutMessage): void {
  m.on('line', (line: string) => console.log(line.toUpperCase()));
}

export function subpaths(): void {
  const sock: Socket = new Socket(AF_INET, SOCK_STREAM);
  const pair: [Socket, Socket] = socketpair();
  const addr: SubpathAddress = sock.getsockname();
  const sel: RootSelector = new DefaultSelector();
  const key: SelectorKey<unknown> = sel.register(pair[0], EVENT_READ | EVENT_WRITE, 'a');
  const ready: number = EPOLLIN;
  console.log(addr, key, ready, select, poll, epoll, selectNs.select === select, selectorsNs.EVENT_READ, encodeMessage);
}
`;

// At run time: the subpaths load, share their classes with the root, work,
// and nothing outside `exports` is reachable.
const CONSUMER_MJS = `
import assert from 'node:assert/strict';
import * as root from 'node-selectors';
import { Socket, socketpair } from 'node-selectors/socket';
import { select, epoll, EPOLLIN } from 'node-selectors/select';
import { DefaultSelector, EVENT_READ } from 'node-selectors/selectors';
import { Proactor, uringSupport } from 'node-selectors/uring';

assert.equal(typeof Proactor, 'function');
assert.equal(typeof uringSupport().ok, 'boolean');
assert.equal(root.Socket, Socket);
assert.equal(root.DefaultSelector, DefaultSelector);
assert.equal(root.select.select, select);
assert.equal(root.EPOLLIN, EPOLLIN);
const [a, b] = socketpair();
const sel = new DefaultSelector();
sel.register(a, EVENT_READ, 'a');
b.sendall(Buffer.from('x'));
const ready = sel.select(5);
assert.equal(ready.length, 1);
assert.equal(ready[0][0].data, 'a');
const [r] = select([a], [], [], 0);
assert.deepEqual(r, [a]);
const ep = epoll();
ep.register(a.fileno(), EPOLLIN);
assert.equal(ep.poll(0).length, 1);
ep.close();
sel.close();
a.close();
b.close();
await assert.rejects(import('node-selectors/dist/lib/sys/libc.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
console.log('ok');
`;

const RESOLUTIONS: Array<{ name: string; module: string; moduleResolution: string }> = [
  { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'node16', module: 'node16', moduleResolution: 'node16' },
  { name: 'bundler', module: 'esnext', moduleResolution: 'bundler' },
];

function link(dir: string, name: string): void {
  const target = join(ROOT, 'node_modules', name);
  const path = join(dir, 'node_modules', name);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, 'dir');
}

t.test('package.json exports the root and the subpaths, into dist/', async (t) => {
  t.same(
    Object.keys(pkg.exports).filter((k) => k !== './package.json'),
    ['.', ...SUBPATHS.map((s) => `./${s}`)],
  );
  for (const [key, entry] of Object.entries(pkg.exports)) {
    if (key === './package.json') continue;
    t.type(entry, 'object', key);
    if (typeof entry === 'string') continue;
    t.match(entry.types, /^\.\/dist\/.*\.d\.ts$/, `${key} types`);
    t.match(entry.default, /^\.\/dist\/.*\.js$/, `${key} default`);
    t.ok(existsSync(join(ROOT, entry.types!)), `${entry.types} is built`);
    t.ok(existsSync(join(ROOT, entry.default!)), `${entry.default} is built`);
  }
});

if (!existsSync(join(ROOT, 'dist', 'lib', 'index.js'))) {
  t.fail('dist/ is missing: run `npm run build` first (npm test does it in pretest)');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'node-selectors-consumer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const installed = join(dir, 'node_modules', 'node-selectors');
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  cpSync(join(ROOT, 'dist'), join(installed, 'dist'), { recursive: true });
  for (const dep of Object.keys(pkg.dependencies ?? {})) link(dir, dep);
  link(dir, join('@types', 'node'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(join(dir, 'consumer.mjs'), CONSUMER_MJS);

  for (const r of RESOLUTIONS) {
    t.test(`a consumer type-checks under moduleResolution ${r.name}`, async (t) => {
      const tsconfig = `tsconfig.${r.name}.json`;
      const compilerOptions = {
        module: r.module,
        moduleResolution: r.moduleResolution,
        target: 'ES2022',
        strict: true,
        // Our .d.ts files are checked too (not @types/node's).
        skipLibCheck: false,
        skipDefaultLibCheck: true,
        types: ['node'],
        noEmit: true,
      };
      writeFileSync(join(dir, tsconfig), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }, null, 2));
      const res = await runNode([TSC, '-p', tsconfig], { cwd: dir, timeoutMs: TIMEOUT_MS });
      t.notOk(res.timedOut, `tsc within ${TIMEOUT_MS / 1000} s`);
      t.equal(res.code, 0, res.stdout + res.stderr || `tsc exit ${res.code}`);
    });
  }

  t.test('a plain .mjs imports the root and every subpath', async (t) => {
    const res = await runNode(['consumer.mjs'], { cwd: dir, timeoutMs: TIMEOUT_MS });
    t.notOk(res.timedOut, `node within ${TIMEOUT_MS / 1000} s`);
    t.equal(res.code, 0, res.stdout + res.stderr);
    t.equal(res.stdout.trim(), 'ok');
  });
}
