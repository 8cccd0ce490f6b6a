// epoll-web-server's cache of small hot files: a cached file that changes
// on disk (rewritten, replaced, deleted, or swapped for a symlink that
// leads out of the root) is never served stale or from outside the root.
import t from 'tap';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exchange, parseResponses, sleep, startServer } from './http-helpers.js';

const base = mkdtempSync(join(tmpdir(), 'epoll-web-cache-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const root = join(base, 'root');
const outside = join(base, 'outside');
mkdirSync(root);
mkdirSync(outside);
writeFileSync(join(outside, 'secret.txt'), 'TOP SECRET\n');

async function get(port: number, target: string): Promise<{ status: number; body: string }> {
  const { data } = await exchange(port, [`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
  const [res] = parseResponses(data);
  if (res === undefined) throw new Error(`no response to ${target}`);
  return { status: res.status, body: res.body.toString() };
}

t.test('a cached file is revalidated on every request', async (t) => {
  const file = join(root, 'page.txt');
  writeFileSync(file, 'version 1\n');
  const srv = await startServer(t, 'epoll-web-server', ['--quiet', '--root', root]);
  t.same(await get(srv.port, '/page.txt'), { status: 200, body: 'version 1\n' }, 'first read from disk');
  t.same(await get(srv.port, '/page.txt'), { status: 200, body: 'version 1\n' }, 'then from the cache');

  writeFileSync(file, 'version 2, longer\n');
  t.same(await get(srv.port, '/page.txt'), { status: 200, body: 'version 2, longer\n' }, 'rewritten with another size');

  writeFileSync(file, 'version 3, sameish\n'.slice(0, 18));
  // Same size: only the mtime tells; set it clearly apart from the cached one.
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  t.same(await get(srv.port, '/page.txt'), { status: 200, body: 'version 3, sameish' }, 'rewritten with the same size');

  const tmp = join(root, 'page.tmp');
  writeFileSync(tmp, 'replaced by rename\n');
  renameSync(tmp, file);
  t.same(await get(srv.port, '/page.txt'), { status: 200, body: 'replaced by rename\n' }, 'replaced (another inode)');

  unlinkSync(file);
  t.equal((await get(srv.port, '/page.txt')).status, 404, 'deleted: 404');
  await srv.stop('SIGINT');
});

t.test('a symlink swapped in to lead out of the root is refused within the revalidation time', async (t) => {
  const file = join(root, 'swap.txt');
  writeFileSync(file, 'inside\n');
  const srv = await startServer(t, 'epoll-web-server', ['--quiet', '--root', root]);
  t.same(await get(srv.port, '/swap.txt'), { status: 200, body: 'inside\n' });
  unlinkSync(file);
  symlinkSync(join(outside, 'secret.txt'), file);
  // Whatever the timing, the secret is never served; after the mapping's
  // revalidation time (1 s) the link is resolved again and refused.
  const first = await get(srv.port, '/swap.txt');
  t.not(first.body, 'TOP SECRET\n', 'never the file outside the root');
  await sleep(1200);
  t.equal((await get(srv.port, '/swap.txt')).status, 403, 'resolved again: 403');
  await srv.stop('SIGINT');
});
