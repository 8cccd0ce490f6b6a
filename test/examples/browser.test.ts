// epoll-web-server in a real browser: headless Chromium (Debian's
// "chromium", installed by test/examples/install-chromium.sh) loads the
// sample site (examples/site) from the server. Proof that it rendered:
// the DOM after load (the page's script reports that the stylesheet
// applied and the image decoded at its real size), the server's access log
// (every resource fetched with 200), and a screenshot whose size comes
// from its IHDR header and whose pixels show the stylesheet's background
// and the image where the stylesheet puts it. Skipped, with the reason,
// only where Chromium is absent.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, INTERRUPTED, ROOT, noChromium, pngPixels, pngSize, startServer } from './http-helpers.js';

const SITE = join(ROOT, 'examples/site');

/** Run Chromium headless with a fresh profile; resolves with its stdout. The whole process group is killed after `ms`. */
function chromium(args: string[], ms = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-proxy-server',
    `--user-data-dir=${profile}`,
  ];
  return new Promise((resolve) => {
    const child = spawn(CHROMIUM, [...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const kill = (): void => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      kill(); // helpers (zygote, GPU, network service) must not outlive the run
      rmSync(profile, { recursive: true, force: true });
      resolve({ code, out, err });
    });
  });
}

/** Whether two colours are within `tolerance` per channel. */
function near(actual: [number, number, number], expected: [number, number, number], tolerance = 6): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]) <= tolerance);
}

t.test('Chromium loads the sample site from epoll-web-server', { skip: noChromium }, async (t) => {
  const srv = await startServer(t, 'epoll-web-server');
  const url = `http://127.0.0.1:${srv.port}/`;

  // The DOM after the load event: app.js wrote what it found.
  const dom = await chromium(['--virtual-time-budget=5000', '--dump-dom', url]);
  t.equal(dom.code, 0, 'chromium --dump-dom exits 0');
  t.match(dom.out, /<h1 id="title">Served by epoll-web-server<\/h1>/, 'the page text rendered');
  t.match(dom.out, /data-stylesheet="applied"/, 'the stylesheet applied (its custom property is set)');
  t.match(dom.out, /data-image="64x64"/, 'the image decoded at its real size (img.naturalWidth)');
  t.match(dom.out, /script: ran/, 'the script ran');

  // The access log: every resource was fetched, with 200 and its full length.
  for (const file of ['index.html', 'style.css', 'app.js', 'logo.png']) {
    const path = file === 'index.html' ? '/' : `/${file}`;
    const size = statSync(join(SITE, file)).size;
    t.match(srv.out(), new RegExp(`127\\.0\\.0\\.1:\\d+ "GET ${path.replace('.', '\\.')} HTTP/1\\.1" 200 ${size}\\n`), `${path}: 200, ${size} bytes`);
  }

  // The picture: size from the IHDR header, pixels from the stylesheet and the image.
  const dir = mkdtempSync(join(tmpdir(), 'chromium-shot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'page.png');
  const shot = await chromium([`--screenshot=${file}`, '--window-size=800,600', url]);
  t.equal(shot.code, 0, 'chromium --screenshot exits 0');
  const png = readFileSync(file);
  t.same(pngSize(png), { width: 800, height: 600 }, 'an 800x600 screenshot (IHDR)');
  const img = pngPixels(png);
  t.ok(near(img.pixel(10, 590), [0x1d, 0x35, 0x57]), `the stylesheet's background #1d3557 (got ${img.pixel(10, 590).join(',')})`);
  // style.css puts the 64x64 logo at top 40, right 40, scaled to 128x128: red with a white centre.
  t.ok(near(img.pixel(800 - 40 - 128 + 8, 48), [0xe6, 0x39, 0x46]), `the logo's red at its CSS position (got ${img.pixel(800 - 40 - 128 + 8, 48).join(',')})`);
  t.ok(near(img.pixel(800 - 40 - 64, 40 + 64), [255, 255, 255]), `the logo's white centre (got ${img.pixel(800 - 40 - 64, 40 + 64).join(',')})`);

  const stopped = await srv.stop();
  t.equal(stopped.code, 0, 'the server exits 0 on SIGINT');
  t.match(stopped.out, INTERRUPTED);
});
