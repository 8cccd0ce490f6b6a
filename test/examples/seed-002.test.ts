// Seed 002 (Real Python's sockets tutorial): echo-server/echo-client,
// multiconn-server/multiconn-client, app-server/app-client, spawned from
// dist/examples and talked to with the matching TypeScript program, the
// Python originals (test/fixtures/python) and raw node:net sockets.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { encodeMessage, createRequest } from '../../lib/index.js';
import {
  INTERRUPTED, PY, ROOT, burst, cpuTicks, echo, freePort, interrupt, noPython, rawClient,
  runProgram as runOn, settleFds, silentServer, sleep, spawnProc, spawnProgram as spawnOn, startServer as startOn, waitCount, waitListening,
} from './server-harness.js';
import type { SpawnOptions } from './server-harness.js';

// TEST_PROGRAM_ENGINE=uring (test/examples/uring/seed-002.test.ts) runs the
// Message programs with --engine uring: the same checks on the completion engine.
const URING = process.env.TEST_PROGRAM_ENGINE === 'uring';
const ENGINE_PROGRAMS = new Set(['multiconn-server', 'multiconn-client', 'app-server', 'app-client']);
const SAME_ON_BOTH = { skip: URING ? 'no --engine: the same on both engines' : false };
function withEngine(name: string, args: string[]): string[] {
  return URING && ENGINE_PROGRAMS.has(name) ? ['--engine', 'uring', ...args] : args;
}
const startServer = (t: Test, name: string, args: string[] = [], opts?: SpawnOptions) => startOn(t, name, withEngine(name, args), opts);
const runProgram = (t: Test, name: string, args: string[], opts?: SpawnOptions) => runOn(t, name, withEngine(name, args), opts);
const spawnProgram = (t: Test, name: string, args: string[], opts?: SpawnOptions) => spawnOn(t, name, withEngine(name, args), opts);

/** Python's echo programs hard-code PORT = 65432: run them with another port. */
function pythonEcho(t: Test, file: 'echo-server.py' | 'echo-client.py', port: number) {
  const source = readFileSync(PY(file), 'utf8').replace('PORT = 65432', `PORT = ${port}`);
  return spawnProc(t, 'python3', ['-u', '-c', source], { timeoutMs: 30_000 });
}

function python(t: Test, file: string, args: string[]) {
  return spawnProc(t, 'python3', ['-u', PY(file), ...args], { timeoutMs: 30_000 });
}

t.test('echo-server and echo-client', SAME_ON_BOTH, async (t) => {
  t.test('the TypeScript pair: one connection, then the server exits', async (t) => {
    const { proc, port } = await startServer(t, 'echo-server');
    const client = await runProgram(t, 'echo-client', ['127.0.0.1', String(port)]);
    t.equal(client.code, 0);
    t.equal(client.out, "Received b'Hello, world'\n");
    t.equal(client.err, '');
    const { code } = await proc.exited;
    t.equal(code, 0, 'the server serves one connection and exits, as echo-server.py');
    t.match(proc.out(), /^Connected by \('127\.0\.0\.1', \d+\)$/m);
  });

  t.test('--message, and a reply larger than one recv(1024)', async (t) => {
    const { proc, port } = await startServer(t, 'echo-server');
    const text = 'x'.repeat(5000);
    const client = await runProgram(t, 'echo-client', ['--message', text, '127.0.0.1', String(port)]);
    t.equal(client.code, 0);
    t.equal(client.out, `Received b'${text}'\n`);
    t.equal((await proc.exited).code, 0);
  });

  t.test('Python echo-client.py → TS echo-server', { skip: noPython }, async (t) => {
    const { proc, port } = await startServer(t, 'echo-server');
    const py = pythonEcho(t, 'echo-client.py', port);
    t.equal((await py.exited).code, 0);
    t.equal(py.out(), "Received b'Hello, world'\n");
    t.equal((await proc.exited).code, 0);
  });

  t.test('TS echo-client → Python echo-server.py', { skip: noPython }, async (t) => {
    const port = await freePort();
    const py = pythonEcho(t, 'echo-server.py', port);
    await waitListening(port);
    const client = await runProgram(t, 'echo-client', ['127.0.0.1', String(port)]);
    t.equal(client.code, 0);
    t.equal(client.out, "Received b'Hello, world'\n");
    t.equal((await py.exited).code, 0);
    t.match(py.out(), /Connected by \('127\.0\.0\.1', \d+\)/);
  });

  t.test('echo-server --forever: 50 clients one after another, no fd leaked, SIGINT', async (t) => {
    const { proc, port, base } = await startServer(t, 'echo-server', ['--forever']);
    t.equal(await burst(port, 50), 50, 'every client got its echo');
    t.equal(await settleFds(proc.pid, base), base, 'fds back to the baseline');
    t.equal(proc.out().match(/Connected by/g)?.length, 50);
    await interrupt(t, proc, base);
  });

  t.test('echo-server: SIGINT while serving a client', async (t) => {
    const { proc, port } = await startServer(t, 'echo-server');
    const c = await rawClient(port);
    c.sock.write('hi');
    await c.waitBytes(2);
    await interrupt(t, proc);
    await c.ended;
    t.pass('the client saw the connection close');
  });

  t.test('echo-client failures: refused, bad host, server closing early → exit 1, one line', async (t) => {
    const port = await freePort();
    const refused = await runProgram(t, 'echo-client', ['127.0.0.1', String(port)]);
    t.equal(refused.code, 1);
    t.equal(refused.err, `echo-client: error: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    const badHost = await runProgram(t, 'echo-client', ['nohost.invalid', '1']);
    t.equal(badHost.code, 1);
    t.match(badHost.err, /^echo-client: error: getaddrinfo (ENOTFOUND|EAI_AGAIN) nohost\.invalid\n$/);
    const { server, port: rude } = await silentServer(t);
    server.on('connection', (s) => s.end());
    const early = await runProgram(t, 'echo-client', ['127.0.0.1', String(rude)]);
    t.equal(early.code, 1);
    t.equal(early.out, "Received b''\n");
    t.match(early.err, /closed the connection after echoing 0 of 12 bytes/);
  });

  t.test('echo-client: SIGINT while waiting for a reply that never comes', async (t) => {
    const { port, sockets } = await silentServer(t);
    const proc = spawnProgram(t, 'echo-client', ['127.0.0.1', String(port)]);
    for (let i = 0; sockets.length === 0 && i < 500; i++) await sleep(10);
    await sleep(100);
    await interrupt(t, proc);
  });
});

t.test('multiconn-server', async (t) => {
  t.test('Python multiconn-client.py → TS multiconn-server: the Python lines on both sides', { skip: noPython }, async (t) => {
    const { proc, port, base } = await startServer(t, 'multiconn-server');
    const py = python(t, 'multiconn-client.py', ['127.0.0.1', String(port), '3']);
    t.equal((await py.exited).code, 0);
    for (const id of [1, 2, 3]) t.match(py.out(), new RegExp(`closing connection ${id}\\n`));
    await waitCount(proc, /^closing connection to/gm, 3);
    const out = proc.out();
    t.equal(out.match(/^accepted connection from \('127\.0\.0\.1', \d+\)$/gm)?.length, 3);
    t.match(out, /^echoing b'Message 1 from client\.[^\n]*' to \('127\.0\.0\.1', \d+\)$/m);
    t.equal(out.match(/^closing connection to \('127\.0\.0\.1', \d+\)$/gm)?.length, 3);
    await interrupt(t, proc, base);
  });

  t.test('TS multiconn-client with 50 connections; no fd leaked; idle without spinning; SIGINT', async (t) => {
    const { proc, port, base } = await startServer(t, 'multiconn-server');
    const client = await runProgram(t, 'multiconn-client', ['127.0.0.1', String(port), '50']);
    t.equal(client.code, 0, client.err);
    t.equal(client.out.match(/^closing connection \d+$/gm)?.length, 50);
    t.ok((client.out.match(/^received b'Message [^\n]* from connection \d+$/gm)?.length ?? 0) >= 50, 'the echoes came back');
    t.equal(await settleFds(proc.pid, base), base, 'fds back to the baseline');
    // One idle connection: Python's server would spin on writability (100% CPU).
    const idle = await rawClient(port);
    await waitCount(proc, /^accepted connection from/gm, 51);
    await sleep(100);
    const before = await cpuTicks(proc);
    await sleep(1000);
    const used = (await cpuTicks(proc)) - before;
    t.ok(used < 25, `an idle connection does not make the loop spin (${used} ticks of CPU in 1 s)`);
    idle.sock.destroy();
    // SIGINT only once the loop is idle again: see the note in server-harness.ts.
    await waitCount(proc, /^closing connection to/gm, 51);
    await interrupt(t, proc, base);
  });

  t.test('--quiet prints only the listening line; raw echo of 1 MB', async (t) => {
    const { proc, port, base } = await startServer(t, 'multiconn-server', ['--quiet']);
    const big = Buffer.alloc(1 << 20, 7);
    t.ok((await echo(port, big)).equals(big));
    t.equal(await burst(port, 20), 20);
    await interrupt(t, proc, base);
    t.equal(proc.out(), `listening on ('127.0.0.1', ${port})\n${INTERRUPTED}\n`);
  });

  const variants = URING ? [['--async']] : [['--backend', 'poll'], ['--backend', 'select'], ['--async'], ['--async', '--backend', 'poll']];
  for (const args of variants) {
    t.test(`multiconn-server ${args.join(' ')}`, async (t) => {
      const { proc, port, base } = await startServer(t, 'multiconn-server', ['--quiet', ...args]);
      const client = await runProgram(t, 'multiconn-client', ['--quiet', '127.0.0.1', String(port), '5']);
      t.equal(client.code, 0, client.err);
      t.equal(client.out, '');
      await interrupt(t, proc, base);
    });
  }

  t.test('--trace shows each readiness event (on the ring: the engine, and each connection)', async (t) => {
    const { proc, port, base } = await startServer(t, 'multiconn-server', ['--trace']);
    t.equal((await echo(port, 'traced')).toString(), 'traced');
    await proc.waitFor('closing connection to');
    if (URING) {
      t.match(proc.out(), /^engine: uring on (io_uring|epoll \(io_uring unavailable: .+\))$/m);
      t.match(proc.out(), /^trace: accepted fd \d+ \('127\.0\.0\.1', \d+\)$/m);
    } else {
      t.match(proc.out(), /^trace: fd \d+ listening socket READ$/m);
      t.match(proc.out(), /^trace: fd \d+ \('127\.0\.0\.1', \d+\) READ$/m);
    }
    await interrupt(t, proc, base);
  });
});

t.test('multiconn-client', async (t) => {
  t.test('TS multiconn-client → Python multiconn-server.py', { skip: noPython }, async (t) => {
    const port = await freePort();
    const py = python(t, 'multiconn-server.py', ['127.0.0.1', String(port)]);
    await py.waitFor('listening on');
    const client = await runProgram(t, 'multiconn-client', ['127.0.0.1', String(port), '2']);
    t.equal(client.code, 0, client.err);
    const out = client.out;
    for (const id of [1, 2]) {
      t.match(out, `starting connection ${id} to ('127.0.0.1', ${port})\n`);
      t.match(out, `sending b'Message 1 from client.' to connection ${id}\n`);
      t.match(out, `sending b'Message 2 from client.' to connection ${id}\n`);
      t.match(out, new RegExp(`received b'Message [12] from client\\.[^\\n]*' from connection ${id}\\n`));
      t.match(out, `closing connection ${id}\n`);
    }
    await waitCount(py, /^closing connection to/gm, 2);
    t.match(py.out(), /^echoing b'Message 1 from client\.[^\n]*' to \('127\.0\.0\.1', \d+\)$/m);
  });

  t.test('refused connections → exit 1, one line each', async (t) => {
    const port = await freePort();
    const r = await runProgram(t, 'multiconn-client', ['127.0.0.1', String(port), '2']);
    t.equal(r.code, 1);
    t.equal(r.err, [1, 2].map((id) => `multiconn-client: error: connection ${id}: connect ECONNREFUSED 127.0.0.1:${port}\n`).join(''));
  });

  t.test('a server that closes without echoing → exit 1', async (t) => {
    const { server, port } = await silentServer(t);
    server.on('connection', (s) => s.end());
    const r = await runProgram(t, 'multiconn-client', ['--quiet', '127.0.0.1', String(port), '2']);
    t.equal(r.code, 1);
    t.match(r.err, /connection 1: closed by the server after 0 of 44 bytes/);
  });

  t.test('SIGINT while the server never answers', async (t) => {
    const { port, sockets } = await silentServer(t);
    const proc = spawnProgram(t, 'multiconn-client', ['127.0.0.1', String(port), '3']);
    for (let i = 0; sockets.length < 3 && i < 500; i++) await sleep(10);
    await proc.waitFor('sending');
    await interrupt(t, proc);
  });
});

t.test('app-server and app-client', async (t) => {
  t.test('the TypeScript pair: search and a binary request', async (t) => {
    const { proc, port, base } = await startServer(t, 'app-server');
    const search = await runProgram(t, 'app-client', ['127.0.0.1', String(port), 'search', 'morpheus']);
    t.equal(search.code, 0, search.err);
    t.match(search.out, 'got result: Follow the white rabbit. 🐰\n');
    const binary = await runProgram(t, 'app-client', ['127.0.0.1', String(port), 'double', '100']);
    t.equal(binary.code, 0, binary.err);
    t.match(binary.out, "got response: b'First 10 bytes of request: double100'\n");
    t.match(proc.out(), "received request {'action': 'search', 'value': 'morpheus'} from");
    await interrupt(t, proc, base);
  });

  t.test('Python app-client.py → TS app-server', { skip: noPython }, async (t) => {
    const { proc, port, base } = await startServer(t, 'app-server');
    const py = python(t, 'app-client.py', ['127.0.0.1', String(port), 'search', 'ring']);
    t.equal((await py.exited).code, 0);
    t.match(py.out(), /got result: In the caves beneath the Misty Mountains\. 💍/);
    await interrupt(t, proc, base);
  });

  t.test('TS app-client → Python app-server.py', { skip: noPython }, async (t) => {
    const port = await freePort();
    const py = python(t, 'app-server.py', ['127.0.0.1', String(port)]);
    await py.waitFor('listening on');
    const r = await runProgram(t, 'app-client', ['127.0.0.1', String(port), 'search', '🐶']);
    t.equal(r.code, 0, r.err);
    t.match(r.out, 'got result: 🐾 Playing ball! 🏐\n');
  });

  t.test('app-server: 50 raw requests at once, no fd leaked, SIGINT', async (t) => {
    const { proc, port, base } = await startServer(t, 'app-server', ['--quiet']);
    const frame = encodeMessage(createRequest('search', 'morpheus'));
    const replies = await Promise.all(Array.from({ length: 50 }, async () => {
      const c = await rawClient(port);
      c.sock.write(frame);
      await Promise.race([c.ended, sleep(10_000)]);
      c.sock.destroy();
      return c.received().toString('utf8');
    }));
    t.equal(replies.filter((r) => r.includes('Follow the white rabbit. 🐰')).length, 50, 'every request answered');
    t.equal(await settleFds(proc.pid, base), base, 'fds back to the baseline');
    await interrupt(t, proc, base);
  });

  t.test('app-server --keep-alive: SIGINT while 8 clients keep it busy ends it (graceful: their connections close)', async (t) => {
    const { proc, port } = await startServer(t, 'app-server', ['--quiet', '--keep-alive']);
    const frame = encodeMessage(createRequest('search', 'morpheus'));
    const clients = await Promise.all(Array.from({ length: 8 }, () => rawClient(port)));
    let answers = 0;
    for (const c of clients) {
      // Ask again as soon as anything comes back: the server never waits idle.
      c.sock.on('data', () => {
        answers++;
        c.sock.write(frame);
      });
      c.sock.write(frame);
    }
    for (let i = 0; answers < 200 && i < 500; i++) await sleep(10);
    t.ok(answers >= 200, `busy (${answers} answers)`);
    await interrupt(t, proc);
    for (const c of clients) c.sock.destroy();
  });

  t.test('app-client against a closed port → exit 1', async (t) => {
    const port = await freePort();
    const r = await runProgram(t, 'app-client', ['127.0.0.1', String(port), 'search', 'morpheus']);
    t.equal(r.code, 1);
    t.match(r.out, `connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  t.test('app-client: SIGINT while the server never answers', async (t) => {
    const { port, sockets } = await silentServer(t);
    const proc = spawnProgram(t, 'app-client', ['127.0.0.1', String(port), 'search', 'x']);
    for (let i = 0; sockets.length === 0 && i < 500; i++) await sleep(10);
    await proc.waitFor('sending');
    await interrupt(t, proc);
  });
});

t.test('arguments, --help and EADDRINUSE', SAME_ON_BOTH, async (t) => {
  const programs: Array<[string, string, string[]]> = [
    // name, usage, wrong arguments
    ['echo-server', '[host] [port]', ['127.0.0.1', '1', 'extra']],
    ['echo-client', '[host] [port]', ['127.0.0.1', '99999']],
    ['multiconn-server', '<host> <port>', ['127.0.0.1']],
    ['multiconn-client', '<host> <port> <num_connections>', ['127.0.0.1', '1', 'many']],
    ['app-server', '<host> <port>', ['--nope', '127.0.0.1', '1']],
    ['app-client', '<host> <port> <action> <value>', ['127.0.0.1', '1', 'search']],
  ];
  await Promise.all(programs.map(async ([name, usage, wrong]) => {
    const help = await runProgram(t, name, ['--help']);
    t.equal(help.code, 0, `${name} --help exits 0`);
    t.match(help.out, new RegExp(`^usage: ${name} ${usage.replace(/[[\]]/g, '\\$&')}\\n`), `${name} --help starts with the usage line`);
    const bad = await runProgram(t, name, wrong);
    t.equal(bad.code, 2, `${name} ${wrong.join(' ')} exits 2`);
    t.match(bad.err, `usage: ${name} ${usage}\n`, `${name}: the usage line on stderr`);
  }));

  t.test('through the node-selectors CLI', async (t) => {
    const list = spawnProc(t, process.execPath, [`${ROOT}dist/examples/cli.js`, '--help']);
    t.equal((await list.exited).code, 0);
    for (const name of ['echo-server', 'echo-client', 'multiconn-server', 'multiconn-client']) t.match(list.out(), new RegExp(`^  ${name} +\\S`, 'm'));
    const usage = spawnProc(t, process.execPath, [`${ROOT}dist/examples/cli.js`, 'multiconn-client', '127.0.0.1']);
    t.equal((await usage.exited).code, 2);
    t.equal(usage.err(), 'usage: multiconn-client <host> <port> <num_connections>\n');
  });

  t.test('EADDRINUSE: one line, exit 1', async (t) => {
    const { port } = await silentServer(t);
    await Promise.all(['echo-server', 'multiconn-server', 'app-server'].map(async (name) => {
      const r = await runProgram(t, name, ['127.0.0.1', String(port)]);
      t.equal(r.code, 1, `${name} exits 1`);
      t.equal(r.err, `${name}: error: bind EADDRINUSE 127.0.0.1:${port}\n`, `${name}: one line, no stack`);
    }));
  });
});
