// The README's demo: app-server and app-client on 127.0.0.1, both sides
// printed, the server stopped with SIGINT. And the CLI's program listing.
import t from 'tap';
import { spawnSync } from 'node:child_process';
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
