// Keyboard interrupts: with enableKeyboardInterrupt(), SIGINT/SIGTERM end a
// blocking call with KeyboardInterrupt, while another handled signal
// (SIGWINCH) does not. Each case runs in a child process.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const fixture = fileURLToPath(new URL('../fixtures/blocking-interrupt.ts', import.meta.url));

async function run(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; result: Record<string, unknown> | null; stderr: string }> {
  const child = spawn(process.execPath, [...process.execArgv, fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  let result: Record<string, unknown> | null = null;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line === 'ready') {
        // SIGWINCH first: handled by a listener, it must not end the call.
        setTimeout(() => child.kill('SIGWINCH'), 200);
        setTimeout(() => child.kill(signal), 600);
        resolve();
      } else result = JSON.parse(line);
    });
    child.on('exit', () => resolve());
  });
  const code = await exited;
  clearTimeout(kill);
  return { code, result, stderr };
}

const cases: Array<[string, string[], string]> = [
  ['blocking accept()', ['accept'], 'accept'],
  ['blocking recv()', ['recv'], 'recv'],
  ['recv() in timeout mode (poll wait)', ['timeout-recv'], 'recv'],
  ['select.select()', ['select'], 'select'],
  ['EpollSelector.select()', ['selector', 'epoll'], 'epoll_wait'],
  ['PollSelector.select()', ['selector', 'poll'], 'poll'],
  ['SelectSelector.select()', ['selector', 'select'], 'select'],
];

for (const [name, args, syscall] of cases) {
  t.test(`${name}: SIGWINCH passes, SIGINT interrupts`, async (t) => {
    const { code, result, stderr } = await run(args, 'SIGINT');
    t.equal(code, 0, stderr);
    t.match(result, { outcome: 'KeyboardInterrupt', code: 'ERR_KEYBOARD_INTERRUPT', syscall, signal: 'SIGINT', winches: 1, lastSignal: 'SIGINT' });
  });
}

t.test('a busy select() loop that never blocks still sees SIGINT', async (t) => {
  const { code, result, stderr } = await run(['busy-selector', 'epoll'], 'SIGINT');
  t.equal(code, 0, stderr);
  t.match(result, { outcome: 'KeyboardInterrupt', signal: 'SIGINT', syscall: 'epoll_wait' });
});

t.test('waiting in Node\'s loop: onSignal and process listeners run', async (t) => {
  const { code, result, stderr } = await run(['async', 'epoll'], 'SIGINT');
  t.equal(code, 0, stderr);
  t.match(result, { outcome: 'aborted', onSignal: 'SIGINT', processListener: 1, lastSignal: 'SIGINT', winches: 1 });
});

t.test('SIGTERM interrupts too', async (t) => {
  const { code, result, stderr } = await run(['accept'], 'SIGTERM');
  t.equal(code, 0, stderr);
  t.match(result, { outcome: 'KeyboardInterrupt', signal: 'SIGTERM', lastSignal: 'SIGTERM' });
});

t.test('in process: the umask is borrowed while enabled and given back', async (t) => {
  const { enableKeyboardInterrupt, keyboardInterruptEnabled } = await import('../../lib/interrupt.js');
  const original = process.umask();
  t.teardown(() => {
    process.umask(original);
  });
  process.umask(0o002);
  const handle = enableKeyboardInterrupt();
  t.ok(keyboardInterruptEnabled());
  t.equal(process.umask(), 0o022, 'a umask equal to a signal number is made stricter by one bit');
  t.equal(handle.lastSignal, null);
  handle.disable();
  handle.disable();
  t.notOk(keyboardInterruptEnabled());
  t.equal(process.umask(), 0o002, 'restored');
  process.umask(0o027);
  using h2 = enableKeyboardInterrupt({ signals: ['SIGHUP'] });
  t.equal(process.umask(), 0o027, 'other umasks are kept as they are');
  t.throws(() => enableKeyboardInterrupt({ signals: ['SIGKILL' as never] }), { code: 'ERR_INVALID_ARG_VALUE' });
  void h2;
});
