import t from 'tap';
import { spawnSync } from 'node:child_process';
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

// The same at run time: a child process in which koffi cannot load (both
// through import and through require(), which lib/sys uses) and no module
// of this repository outside the codec resolves, loads lib/protocol and
// encodes and parses a frame.
t.test('the codec loads and works in a process where koffi and the I/O layers cannot load', async (t) => {
  const root = new URL('../../', import.meta.url).href;
  const script = `
    import Module, { createRequire, register } from 'node:module';
    const root = ${JSON.stringify(root)};
    register(${JSON.stringify(new URL('./deny-outside-codec.mjs', import.meta.url).href)}, { data: { root } });
    // The packages no codec module may load (lib/sys requires them lazily).
    const DENIED = ['koffi'];
    const load = Module._load;
    Module._load = function (request, ...rest) {
      const pkg = request.split('/')[0];
      if (DENIED.includes(pkg)) throw new Error('denied: require(' + pkg + ')');
      return load.call(this, request, ...rest);
    };
    const require = createRequire(new URL('package.json', root));
    const codec = await import(new URL('lib/protocol/index.ts', root).href);
    const frame = codec.encodeMessage(codec.createRequest('search', 'morpheus'));
    const frames = [];
    new codec.FrameParser().push(frame, (f) => frames.push({ kind: f.kind, content: f.content }));
    const denied = async (load) => {
      try { await load(); return null; } catch (err) { return err.message; }
    };
    console.log(JSON.stringify({
      bytes: frame.length,
      frames,
      koffiLoaded: Object.keys(require.cache).some((file) => /[\\\\/]koffi[\\\\/]/.test(file)),
      socketLayer: await denied(() => import(new URL('lib/socket/index.ts', root).href)),
      requireDenied: await Promise.all(DENIED.map((pkg) => denied(() => require(pkg)))),
    }));
  `;
  // The test runner's own loaders (TypeScript) come along in execArgv.
  const child = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  t.equal(child.status, 0, `the child exits 0${child.stderr === '' ? '' : `: ${child.stderr}`}`);
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!);
  t.equal(result.bytes, 2 + 103 + 41, 'search morpheus: the bytes app-client.py sends');
  t.same(result.frames, [{ kind: 'json', content: { action: 'search', value: 'morpheus' } }], 'parsed back');
  t.equal(result.koffiLoaded, false, 'koffi never loaded');
  t.match(result.socketLayer, /^denied: lib\/socket\/index\.ts/, 'the hook is live: the socket layer cannot load');
  t.same(result.requireDenied, ['denied: require(koffi)'], 'the require() hook is live: requiring koffi throws');
});
