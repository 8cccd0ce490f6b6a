// prefork-server (seed 004's multi-process server with a pool of
// pre-started workers): spawned from dist/examples on 127.0.0.1:<ephemeral>;
// every connection is accepted by the parent and served in a worker
// process it was passed to with sendFds; no fd leaks; a dead worker is
// replaced; SIGINT leaves no process behind.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import {
  burst, echo, fdCount, interrupt, pattern, rawClient, runProgram, settleFds, sleep, startServer, waitCount,
} from './server-harness.js';

/** Child pids of a process (from /proc). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).sort();
  } catch {
    return [];
  }
}

async function gone(pids: number[], ms = 10_000): Promise<boolean> {
  const start = Date.now();
  while (pids.some((p) => existsSync(`/proc/${p}`)) && Date.now() - start < ms) await sleep(25);
  return !pids.some((p) => existsSync(`/proc/${p}`));
}

t.test('prefork-server: N workers serve every client, fds passed over a socketpair; no leak; SIGINT stops all', async (t) => {
  const { proc, port } = await startServer(t, 'prefork-server', ['--workers', '3']);
  const started = await proc.waitFor(/^3 workers started: (\d+) (\d+) (\d+)$/m);
  const workers = started.slice(1, 4).map(Number).sort();
  await waitCount(proc, /^worker \d+ ready$/gm, 3);
  // The baseline once the workers run: the listening socket and one channel per worker.
  const base = fdCount(proc.pid);
  t.same(childPids(proc.pid), workers, 'three worker processes, started before any client');

  t.equal((await echo(port, 'hello\n')).toString(), 'hello\n', 'raw echo');
  const handed = await proc.waitFor(/^new client \('127\.0\.0\.1', (\d+)\) handed to worker (\d+)$/m);
  t.ok(workers.includes(Number(handed[2])), 'handed to one of the workers');
  await proc.waitFor(new RegExp(`^\\[worker ${handed[2]}\\] received b'hello\\\\n' from \\('127\\.0\\.0\\.1', ${handed[1]}\\)$`, 'm'));
  t.pass('the worker process served the connection the parent accepted');

  const client = await runProgram(t, 'echo-client', ['127.0.0.1', String(port)]);
  t.equal(client.code, 0, `echo-client ${client.err}`);
  t.equal(client.out, "Received b'Hello, world'\n");
  const multi = await runProgram(t, 'multiconn-client', ['--quiet', '127.0.0.1', String(port), '5']);
  t.equal(multi.code, 0, `multiconn-client ${multi.err}`);

  const big = pattern(1024 * 1024);
  const slow = await rawClient(port);
  slow.sock.write(big);
  t.ok((await slow.waitBytes(big.length, 30_000)).equals(big), '1 MiB echoed intact');
  slow.sock.end();
  await slow.ended;

  t.equal(await burst(port, 20, 300), 20, '20 concurrent clients on 3 workers all got their echo');
  t.equal(await settleFds(proc.pid, base), base, `parent fds back to the baseline (${base}): its copies are closed`);
  t.same(childPids(proc.pid), workers, 'the same three workers served them all (no process per client)');
  await interrupt(t, proc, base);
  t.ok(await gone(workers), 'every worker has exited');
  t.equal(proc.err(), '', 'nothing on stderr');
});

t.test('prefork-server: more clients than workers wait for a free one', async (t) => {
  const { proc, port } = await startServer(t, 'prefork-server', ['--workers', '1']);
  const first = await rawClient(port);
  first.sock.write('first');
  await first.waitBytes(5);
  const second = await rawClient(port);
  second.sock.write('second');
  await sleep(300);
  t.equal(second.received().length, 0, 'no reply while the only worker serves the first client');
  first.sock.end();
  t.equal((await second.waitBytes(6)).toString(), 'second', 'served once the worker is free');
  second.sock.end();
  await waitCount(proc, /^\[worker \d+\] client \('127\.0\.0\.1', \d+\) closed$/gm, 2);
  const workers = childPids(proc.pid);
  t.equal(workers.length, 1);
  await interrupt(t, proc);
  t.ok(await gone(workers), 'the worker has exited');
});

t.test('prefork-server: a worker that dies is replaced; SIGINT while serving', async (t) => {
  const { proc, port } = await startServer(t, 'prefork-server', ['--workers', '2']);
  const m = await proc.waitFor(/^2 workers started: (\d+) (\d+)$/m);
  const victim = Number(m[1]);
  process.kill(victim, 'SIGKILL');
  const replaced = await proc.waitFor(new RegExp(`^worker ${victim} is gone; started worker (\\d+)$`, 'm'));
  const fresh = Number(replaced[1]);
  const want = [Number(m[2]), fresh].sort();
  // The killed one stays listed until Node has reaped it.
  for (let i = 0; i < 200 && JSON.stringify(childPids(proc.pid)) !== JSON.stringify(want); i++) await sleep(25);
  t.same(childPids(proc.pid), want, 'two workers again');
  const a = await rawClient(port);
  const b = await rawClient(port);
  a.sock.write('a');
  b.sock.write('b');
  await a.waitBytes(1);
  await b.waitBytes(1);
  t.pass('both workers serve');
  const workers = childPids(proc.pid);
  await interrupt(t, proc);
  await Promise.all([a.ended, b.ended]);
  t.pass('the clients saw their connections close');
  t.ok(await gone(workers), 'no worker left behind');
});

t.test('prefork-server: usage and --help', async (t) => {
  const help = await runProgram(t, 'prefork-server', ['--help']);
  t.equal(help.code, 0);
  t.match(help.out, /^usage: prefork-server \[host\] \[port\]$/m);
  t.match(help.out, /--workers/);
  const bad = await runProgram(t, 'prefork-server', ['--workers', '0']);
  t.equal(bad.code, 2);
  t.match(bad.err, 'usage: prefork-server [host] [port]\n');
  t.match(bad.err, /--workers must be an integer from 1 to 64/);
});

t.test('prefork-server: a worker that dies with a connection in flight is replaced; that client sees the end', async (t) => {
  const { proc, port } = await startServer(t, 'prefork-server', ['--workers', '1']);
  const m = await proc.waitFor(/^1 workers started: (\d+)$/m);
  const victim = Number(m[1]);
  t.teardown(() => {
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  await proc.waitFor(new RegExp(`^worker ${victim} ready$`, 'm'));
  process.kill(victim, 'SIGSTOP');
  const lost = await rawClient(port);
  await proc.waitFor(new RegExp(`handed to worker ${victim}$`, 'm'));
  process.kill(victim, 'SIGKILL');
  await proc.waitFor(new RegExp(`^worker ${victim} is gone; started worker \\d+$`, 'm'));
  await lost.ended;
  t.pass('the client whose fd was in flight saw its connection close');
  t.equal((await echo(port, 'after\n')).toString(), 'after\n', 'the replacement serves');
  await interrupt(t, proc);
  t.equal(proc.err(), '', 'nothing on stderr');
});
