// Seed 004 (server models): single-process, multi-process, multi-thread,
// non-blocking, select with stdin, select with a write list, epoll. Each is
// spawned from dist/examples on 127.0.0.1:<ephemeral> and talked to with
// raw node:net sockets (nc-style echo), the echo-client and the
// multiconn-client; each must leak no fd over a burst of clients and exit
// 0 on SIGINT.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import {
  burst, cpuTicks, echo, interrupt, pattern, rawClient, runProgram, settleFds, silentServer, sleep,
  startServer, waitCount,
} from './server-harness.js';

interface ServerCase {
  name: string;
  /** Extra arguments (before host and port). */
  args: string[];
  /** Concurrent clients in the fd-leak burst. */
  burst: number;
  stdin?: 'pipe';
}

// Generous backlogs: a burst must not overflow the listen queue (the
// kernel would reset connections; the programs' --help explains it).
const SERVERS: ServerCase[] = [
  { name: 'single-process-server', args: ['--backlog', '128'], burst: 50 },
  { name: 'multi-process-server', args: [], burst: 10 },
  { name: 'multi-thread-server', args: [], burst: 20 },
  { name: 'nonblocking-server', args: ['--sleep', '0.001'], burst: 50 },
  { name: 'select-stdin-server', args: ['--backlog', '128'], burst: 50, stdin: 'pipe' },
  { name: 'select-writelist-server', args: ['--backlog', '128'], burst: 50 },
  { name: 'epoll-server', args: ['--backlog', '128'], burst: 50 },
];

/** Child pids of a process (from /proc: its threads' children files). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

for (const c of SERVERS) {
  t.test(`${c.name}: echo with nc-style, echo-client and multiconn-client; ${c.burst} clients at once leak no fd; SIGINT`, async (t) => {
    const { proc, port, base } = await startServer(t, c.name, c.args, { stdin: c.stdin });
    t.equal((await echo(port, 'hello\n')).toString(), 'hello\n', 'raw echo');

    const client = await runProgram(t, 'echo-client', ['127.0.0.1', String(port)]);
    t.equal(client.code, 0, `echo-client ${client.err}`);
    t.equal(client.out, "Received b'Hello, world'\n");

    const multi = await runProgram(t, 'multiconn-client', ['--quiet', '127.0.0.1', String(port), '5']);
    t.equal(multi.code, 0, `multiconn-client ${multi.err}`);

    // More than one recv(1024), more than the socket buffers hold, and a
    // client that does not read for a while.
    const big = pattern(2 * 1024 * 1024);
    const slow = await rawClient(port);
    slow.sock.pause();
    slow.sock.write(big);
    await sleep(200);
    slow.sock.resume();
    t.ok((await slow.waitBytes(big.length, 30_000)).equals(big), '2 MiB echoed intact to a slow reader');
    slow.sock.end();
    await slow.ended;

    t.equal(await burst(port, c.burst, 300), c.burst, `${c.burst} concurrent clients all got their echo`);
    t.equal(await settleFds(proc.pid, base), base, `fds back to the baseline (${base})`);
    if (c.name === 'multi-process-server') {
      const start = Date.now();
      while (childPids(proc.pid).length > 0 && Date.now() - start < 10_000) await sleep(25);
      t.same(childPids(proc.pid), [], 'every child process has exited');
    }
    t.match(proc.out(), /received b'hello\\n' from (client )?\('127\.0\.0\.1', \d+\)/, 'prints what it received');
    await interrupt(t, proc, base);
    t.equal(proc.err(), '', 'nothing on stderr');
  });
}

t.test('single-process-server serves one client at a time; the next waits in the backlog', async (t) => {
  const { proc, port, base } = await startServer(t, 'single-process-server');
  const first = await rawClient(port);
  first.sock.write('first');
  await first.waitBytes(5);
  const second = await rawClient(port); // connect() succeeds: the kernel queues it
  second.sock.write('second'); // and its data waits in the kernel
  await sleep(300);
  t.equal(second.received().length, 0, 'no reply while the first client is served');
  first.sock.end();
  t.equal((await second.waitBytes(6)).toString(), 'second', 'served once the first one left');
  second.sock.end();
  await waitCount(proc, /^client \('127\.0\.0\.1', \d+\) closed$/gm, 2);
  t.match(proc.out(), /^waiting for a new client$/m);
  t.match(proc.out(), /^serving client \('127\.0\.0\.1', \d+\)$/m);
  await interrupt(t, proc, base);
});

t.test('multi-process-server: a process per client; SIGINT stops the children serving', async (t) => {
  const { proc, port } = await startServer(t, 'multi-process-server');
  const a = await rawClient(port);
  const b = await rawClient(port);
  a.sock.write('a');
  b.sock.write('b');
  await a.waitBytes(1);
  await b.waitBytes(1);
  const children = childPids(proc.pid);
  t.equal(children.length, 2, 'two child processes');
  const handed = [...proc.out().matchAll(/^new client \('127\.0\.0\.1', \d+\) handed to process (\d+)$/gm)].map((m) => Number(m[1]));
  t.same(handed.sort(), [...children].sort(), 'the printed pids are the children');
  t.match(proc.out(), new RegExp(`^\\[process ${children[0]}\\] received b'[ab]' from`, 'm'), 'the child prints what it serves');
  await interrupt(t, proc);
  await Promise.all([a.ended, b.ended]);
  t.pass('both clients saw their connection close');
  for (const pid of children) {
    const start = Date.now();
    while (existsSync(`/proc/${pid}`) && Date.now() - start < 5000) await sleep(25);
    t.notOk(existsSync(`/proc/${pid}`), `child ${pid} is gone`);
  }
});

t.test('multi-thread-server: a thread per client; SIGINT ends the workers serving', async (t) => {
  const { proc, port } = await startServer(t, 'multi-thread-server');
  const a = await rawClient(port);
  a.sock.write('ping');
  await a.waitBytes(4);
  await proc.waitFor(/^\[thread \d+\] received b'ping' from \('127\.0\.0\.1', \d+\)$/m);
  t.match(proc.out(), /^new client \('127\.0\.0\.1', \d+\) handed to thread \d+$/m);
  await interrupt(t, proc);
  await a.ended;
  t.pass('the client saw its connection close');
});

t.test('nonblocking-server: spins without --sleep, and says so on exit', async (t) => {
  const { proc, base } = await startServer(t, 'nonblocking-server');
  await sleep(200);
  const before = await cpuTicks(proc);
  await sleep(1000);
  const used = (await cpuTicks(proc)) - before;
  t.ok(used > 15, `polling with no client at all still burns CPU (${used} ticks in 1 s)`);
  await interrupt(t, proc, base);
  t.match(proc.out(), /^\d+ rounds of polling, 0 of them found something to do$/m);
});

t.test('nonblocking-server: a bad --sleep is a usage error', async (t) => {
  const r = await runProgram(t, 'nonblocking-server', ['--sleep', 'soon']);
  t.equal(r.code, 2);
  t.match(r.err, 'usage: nonblocking-server [host] [port]\n');
});

t.test('select-stdin-server: a line on stdin stops it; so does the end of stdin', async (t) => {
  const { proc, port } = await startServer(t, 'select-stdin-server', ['--trace'], { stdin: 'pipe' });
  const open = await rawClient(port);
  open.sock.write('x');
  await open.waitBytes(1);
  proc.child.stdin!.write('quit\n');
  t.equal((await proc.exited).code, 0);
  t.match(proc.out(), /^got 'quit' from stdin, exiting$/m);
  t.match(proc.out(), /^trace: fd 0 stdin READ$/m);
  t.match(proc.out(), /^trace: fd \d+ listening socket READ$/m);
  await open.ended;
  t.pass('the open client was closed');

  const eof = await startServer(t, 'select-stdin-server', [], { stdin: 'pipe' });
  eof.proc.child.stdin!.end();
  t.equal((await eof.proc.exited).code, 0);
  t.match(eof.proc.out(), /^end of stdin, exiting$/m);
});

t.test('select-writelist-server: the seed\'s lines, per-client addresses, --trace with WRITE', async (t) => {
  const { proc, port, base } = await startServer(t, 'select-writelist-server', ['--trace']);
  const a = await rawClient(port);
  const b = await rawClient(port);
  a.sock.write('from a');
  b.sock.write('from b');
  await a.waitBytes(6);
  await b.waitBytes(6);
  const aPort = a.sock.localPort;
  const bPort = b.sock.localPort;
  t.match(proc.out(), `Client ('127.0.0.1', ${aPort}) connected!`);
  t.match(proc.out(), `received b'from a' from client ('127.0.0.1', ${aPort})`, 'a\'s data printed with a\'s address');
  t.match(proc.out(), `received b'from b' from client ('127.0.0.1', ${bPort})`, 'b\'s data printed with b\'s address');
  t.match(proc.out(), /^trace: fd \d+ \('127\.0\.0\.1', \d+\) WRITE$/m);
  a.sock.end();
  b.sock.destroy();
  await waitCount(proc, /disconnected/g, 2);
  t.match(proc.out(), `[input] Client ('127.0.0.1', ${aPort}) disconnected`);
  await interrupt(t, proc, base);
});

t.test('epoll-server: --trace names the EPOLL bits', async (t) => {
  const { proc, port, base } = await startServer(t, 'epoll-server', ['--trace']);
  t.equal((await echo(port, 'epoll')).toString(), 'epoll');
  await waitCount(proc, /^client \('127\.0\.0\.1', \d+\) closed$/gm, 1);
  t.match(proc.out(), /^trace: fd \d+ listening socket EPOLLIN$/m);
  t.match(proc.out(), /^trace: fd \d+ \('127\.0\.0\.1', \d+\) EPOLLIN$/m);
  await interrupt(t, proc, base);
});

t.test('arguments, --help, EADDRINUSE and a bad host', async (t) => {
  const names = SERVERS.map((c) => c.name);
  const { port } = await silentServer(t);
  // A few at a time: each is a Node start.
  for (let i = 0; i < names.length; i += 4) {
    await Promise.all(names.slice(i, i + 4).map(async (name) => {
      const help = await runProgram(t, name, ['--help']);
      t.equal(help.code, 0, `${name} --help exits 0`);
      t.match(help.out, new RegExp(`^usage: ${name} \\[host\\] \\[port\\]\\n`), `${name} --help: usage line first`);
      t.match(help.out, '--backlog', `${name} --help lists --backlog`);
      const extra = await runProgram(t, name, ['127.0.0.1', '1', 'extra']);
      t.equal(extra.code, 2, `${name} with 3 arguments exits 2`);
      t.equal(extra.err, `usage: ${name} [host] [port]\n`);
      const badPort = await runProgram(t, name, ['127.0.0.1', 'http']);
      t.equal(badPort.code, 2, `${name} with a bad port exits 2`);
      t.equal(badPort.err, `${name}: invalid port 'http'\nusage: ${name} [host] [port]\n`);
      const inUse = await runProgram(t, name, ['127.0.0.1', String(port)], { stdin: name === 'select-stdin-server' ? 'pipe' : undefined });
      t.equal(inUse.code, 1, `${name} on a port in use exits 1`);
      t.equal(inUse.err, `${name}: error: bind EADDRINUSE 127.0.0.1:${port}\n`, `${name}: one line, no stack`);
    }));
  }
  const badHost = await runProgram(t, 'epoll-server', ['192.0.2.1', '0']);
  t.equal(badHost.code, 1);
  t.equal(badHost.err, 'epoll-server: error: bind EADDRNOTAVAIL 192.0.2.1:0\n');
  const unknown = await runProgram(t, 'single-process-server', ['nohost.invalid', '0']);
  t.equal(unknown.code, 1);
  t.match(unknown.err, /^single-process-server: error: getaddrinfo (ENOTFOUND|EAI_AGAIN) nohost\.invalid\n$/);
});
