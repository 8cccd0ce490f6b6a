// Out of fds: accept() fails with EMFILE. The server must neither spin on
// its still-readable listening socket nor die; when fds are freed it
// accepts the waiting connections. Run in a child process with a low
// RLIMIT_NOFILE.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Socket, AF_INET, SOCK_STREAM } from '../../lib/socket/index.js';
import { pidCpuTicks } from '../examples/server-harness.js';

const fixture = fileURLToPath(new URL('../fixtures/emfile-server.ts', import.meta.url));

t.test('EMFILE pauses accepting without spinning, then accepting resumes', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, fixture, '4'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: Array<Record<string, unknown>> = [];
  let wake: (() => void) | null = null;
  lines.on('line', (l) => {
    queue.push(JSON.parse(l));
    wake?.();
  });
  const next = async (event: string, ms = 30_000): Promise<Record<string, unknown>> => {
    const start = performance.now();
    for (;;) {
      const i = queue.findIndex((m) => m.event === event);
      if (i >= 0) return queue.splice(i, 1)[0];
      if (performance.now() - start > ms) throw new Error(`no ${event} from the server`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    child.stdin!.end();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  });
  const { port } = (await next('listening')) as { port: number };
  const clients: Socket[] = [];
  t.teardown(() => clients.forEach((c) => c.close()));
  for (let i = 0; i < 12; i++) {
    const c = new Socket(AF_INET, SOCK_STREAM);
    c.connect(['127.0.0.1', port]);
    clients.push(c);
  }
  const paused = await next('paused');
  t.equal(paused.code, 'EMFILE');
  const before = pidCpuTicks(child.pid!);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const used = pidCpuTicks(child.pid!) - before;
  t.ok(used < 40, `the server idles while out of fds (${used} ticks of CPU in 1 s)`);
  child.stdin!.write('stats\n');
  const s1 = await next('stats');
  t.ok((s1.accepted as number) < 12, `only some connections accepted so far (${s1.accepted})`);
  t.ok((s1.paused as number) >= 1);
  // Free fds: close the accepted clients one by one, each echoing first.
  for (const c of clients.splice(0, 8)) c.close();
  // The late clients must now be served.
  const late = clients[clients.length - 1];
  late.settimeout(20);
  late.sendall(Buffer.from('still there?'));
  t.equal(late.recv(100)?.toString(), 'still there?', 'a connection that waited in the backlog is served');
  child.stdin!.write('stats\n');
  const s2 = await next('stats');
  t.equal(s2.accepted, 12, 'every connection accepted in the end');
  t.ok((s2.resumed as number) >= 1);
});
