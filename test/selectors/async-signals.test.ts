// While selectAsync() waits, Node's loop runs: a setTimeout fires and a
// SIGINT handler runs (the signal sent by another process), and the
// handler can end the wait by making an fd ready. Each scenario runs in its
// own child process: tap's own exit handlers would otherwise treat SIGINT
// as the end of the test run.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/sigint-wait.ts', import.meta.url));

function runChild(backend: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, fixture, backend], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

for (const backend of ['select', 'poll', 'epoll']) {
  t.test(`${backend}: timer and SIGINT handler run during a pending selectAsync`, async (t) => {
    const { code, stdout, stderr } = await runChild(backend);
    t.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    t.same(result.order, ['timer', 'SIGINT handler', 'selectAsync resolved']);
    t.same(result.ready, [['a', 1]]);
    t.ok(result.ms >= 300 && result.ms < 10_000, `resolved after ${result.ms} ms`);
  });
}
