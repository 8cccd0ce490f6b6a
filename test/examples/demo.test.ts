// The README's demo: app-server and app-client on 127.0.0.1, both sides
// printed, the server stopped with SIGINT. And the CLI's program listing.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('npm run demo: the exchange on both sides, then a clean stop', async (t) => {
  const res = spawnSync(process.execPath, [`${ROOT}dist/examples/demo.js`], { encoding: 'utf8', timeout: 60_000 });
  t.equal(res.status, 0, res.stderr);
  const out = res.stdout;
  t.match(out, /\[server\] listening on \('127\.0\.0\.1', \d+\)/);
  t.match(out, /\[client\] got result: Follow the white rabbit\. 🐰/);
  t.match(out, /\[client\] got result: 🐾 Playing ball! 🏐/);
  t.match(out, /\[client\] got result: No match for "nobody"\./);
  t.match(out, /\[client\] got response: b'First 10 bytes of request: double100'/);
  t.match(out, /\[server\] received request \{'action': 'search', 'value': 'morpheus'\} from \('127\.0\.0\.1', \d+\)/);
  t.match(out, /\[server\] caught keyboard interrupt, exiting/);
  t.equal(res.stderr, '');
});

t.test('node-selectors --help lists every program; an unknown one is a usage error', async (t) => {
  const list = spawnSync(process.execPath, [`${ROOT}dist/examples/cli.js`, '--help'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(list.status, 0);
  for (const name of ['demo', 'app-server', 'app-client', 'multiconn-server', 'howto-epoll-et', 'epoll-web-server', 'multi-process-server']) {
    t.match(list.stdout, new RegExp(`\\n  ${name} `), name);
  }
  const none = spawnSync(process.execPath, [`${ROOT}dist/examples/cli.js`], { encoding: 'utf8', timeout: 30_000 });
  t.equal(none.status, 2);
  const bad = spawnSync(process.execPath, [`${ROOT}dist/examples/cli.js`, 'no-such-program'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /unknown program 'no-such-program'/);
});

t.test('npm run demo | head -1: no EPIPE crash, and no app-server left behind', async (t) => {
  const demo = `${ROOT}dist/examples/demo.js`;
  const res = spawnSync('bash', ['-c', `"${process.execPath}" "${demo}" | head -1; echo "demo status \${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 60_000 });
  t.match(res.stdout, /^\[server\] listening on/);
  t.match(res.stdout, /demo status 0\n$/);
  t.equal(res.stderr, '');
  // The demo's server runs `<dist>/examples/app-server.js 127.0.0.1 0`, from this checkout.
  const server = `${ROOT}dist/examples/app-server.js`;
  const left = (): string[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(server);
    } catch {
      return false;
    }
  });
  for (let i = 0; i < 100 && left().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(left(), [], 'no app-server process left');
});
