// On a platform other than Linux x86-64/arm64 the library imports fine and
// fails at first use with ERR_UNSUPPORTED_PLATFORM (koffi is never loaded).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/unsupported-platform.ts', import.meta.url));

for (const platform of ['darwin', 'win32']) {
  t.test(`pretending to be ${platform}`, async (t) => {
    const res = spawnSync(process.execPath, [...process.execArgv, fixture, platform], { encoding: 'utf8', timeout: 60_000 });
    t.equal(res.status, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    t.equal(report.imported, true, 'import does not crash');
    t.equal(report.supported, false);
    t.equal(report.eventRead, 1, 'pure parts work');
    t.equal(report.socket, 'ERR_UNSUPPORTED_PLATFORM');
    t.match(report.message, new RegExp(`${platform}/`));
    t.equal(report.selector, 'ERR_UNSUPPORTED_PLATFORM');
  });
}
