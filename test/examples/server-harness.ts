// Shared by the seed 002 and seed 004 example suites: spawn the BUILT
// programs (dist/examples, made by `pretest`), wait for their "listening
// on" line, talk to them with raw node:net clients, count their fds, stop
// them with SIGINT. Every process is killed at teardown; every wait is
// bounded.
import type { Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket as NetSocket } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PY = (name: string): string => fileURLToPath(new URL(`../fixtures/python/${name}`, import.meta.url));
export const noPython: string | false = spawnSync('python3', ['--version']).status === 0 ? false : 'python3 is not installed';
export const INTERRUPTED = 'caught keyboard interrupt, exiting';

/** The built script of an example program. */
export function script(name: string): string {
  return `${ROOT}dist/examples/${name}.js`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A spawned process with its output collected. */
export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  out(): string;
  err(): string;
  /** Resolves when it exited (code, or null and the signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wait until stdout matches; rejects after `ms` or if the process exits first. */
  waitFor(pattern: string | RegExp, ms?: number): Promise<RegExpMatchArray>;
}

export interface SpawnOptions {
  stdin?: 'ignore' | 'pipe';
  /** Kill it (SIGKILL) if still running after this long. */
  timeoutMs?: number;
}

/** Spawn `cmd args`; killed at teardown (SIGINT, then SIGKILL). */
export function spawnProc(t: Test, cmd: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      err += `\nspawn error: ${e.message}`;
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  void exited.then(() => clearTimeout(killer));
  t.teardown(async () => {
    if (!done) {
      child.kill('SIGINT');
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(hard);
    }
    clearTimeout(killer);
  });
  const waitFor = async (pattern: string | RegExp, ms = 15_000): Promise<RegExpMatchArray> => {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const start = Date.now();
    for (;;) {
      const m = out.match(re);
      if (m) return m;
      if (done) throw new Error(`exited before printing ${re}: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
      if (Date.now() - start > ms) throw new Error(`no ${re} after ${ms} ms: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
      await sleep(15);
    }
  };
  return { child, pid: child.pid!, out: () => out, err: () => err, exited, waitFor };
}

/** Spawn an example program (the built script, under node). */
export function spawnProgram(t: Test, name: string, args: string[], opts: SpawnOptions = {}): Proc {
  return spawnProc(t, process.execPath, [script(name), ...args], opts);
}

/**
 * A server program started on 127.0.0.1 port 0, once it printed the port
 * it got; `base` is its fd count then (idle, no client).
 */
export async function startServer(t: Test, name: string, args: string[] = [], opts: SpawnOptions = {}): Promise<{ proc: Proc; port: number; base: number }> {
  const proc = spawnProgram(t, name, [...args, '127.0.0.1', '0'], opts);
  const m = await proc.waitFor(/listening on \('127\.0\.0\.1', (\d+)\)/);
  return { proc, port: Number(m[1]), base: fdCount(proc.pid) };
}

/** Run a program to completion: its status and output. */
export async function runProgram(t: Test, name: string, args: string[], opts: SpawnOptions = {}): Promise<{ code: number | null; out: string; err: string }> {
  const proc = spawnProgram(t, name, args, { timeoutMs: 30_000, ...opts });
  const { code } = await proc.exited;
  return { code, out: proc.out(), err: proc.err() };
}

/**
 * SIGINT, then expect exit 0 and Python's "caught keyboard interrupt,
 * exiting". With `idleFds`, first wait until the process is back to that
 * many fds, i.e. done with its clients and blocked in its wait again: a
 * blocking program only gets KeyboardInterrupt from a signal that arrives
 * while it is blocked in a system call — one that arrives while its
 * JavaScript runs goes to Node's listener, which a loop that never yields
 * never runs (reported: lib/interrupt.ts documents it), and the program
 * would wait for a second Ctrl-C.
 */
export async function interrupt(t: Test, proc: Proc, idleFds?: number, what = 'exits 0 on SIGINT'): Promise<void> {
  if (idleFds !== undefined) await settleFds(proc.pid, idleFds);
  proc.child.kill('SIGINT');
  const hard = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  const { code, signal } = await proc.exited;
  clearTimeout(hard);
  t.equal(code, 0, `${what} (signal ${signal}; stderr ${JSON.stringify(proc.err())})`);
  t.match(proc.out(), INTERRUPTED, 'prints "caught keyboard interrupt, exiting"');
}

/** Wait (bounded) until stdout has at least `n` matches of the global regex `re`. */
export async function waitCount(proc: Proc, re: RegExp, n: number, ms = 15_000): Promise<void> {
  const start = Date.now();
  while ((proc.out().match(re)?.length ?? 0) < n) {
    if (Date.now() - start > ms) throw new Error(`fewer than ${n} ${re} after ${ms} ms: ${JSON.stringify(proc.out().slice(-2000))}`);
    await sleep(15);
  }
}

/** Open fds of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Wait (bounded) until the process has at most `n` fds; returns the last count. */
export async function settleFds(pid: number, n: number, ms = 10_000): Promise<number> {
  const start = Date.now();
  let count = fdCount(pid);
  while (count > n && Date.now() - start < ms) {
    await sleep(25);
    count = fdCount(pid);
  }
  return count;
}

/**
 * CPU time (user + system) of a spawned process, in clock ticks (1/100 s).
 * When the process is gone, rejects with how it ended and what it printed.
 */
export async function cpuTicks(proc: Proc): Promise<number> {
  try {
    return pidCpuTicks(proc.pid);
  } catch (err) {
    const end = await Promise.race([proc.exited, sleep(2000).then(() => null)]);
    const how = end === null ? `unreadable: ${(err as Error).message}` : `exited (code ${end.code}, signal ${end.signal})`;
    throw new Error(`process ${proc.pid} ${how}; stdout ${JSON.stringify(proc.out().slice(-500))} stderr ${JSON.stringify(proc.err().slice(-1500))}`);
  }
}

/** CPU time (user + system) of process `pid`, in clock ticks (1/100 s), from /proc/PID/stat. */
export function pidCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** A free port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something listens on 127.0.0.1:port (from /proc/net/tcp: no probe connection). */
export function isListening(port: number): boolean {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[1] === hex && cols[3] === '0A';
  });
}

export async function waitListening(port: number, ms = 15_000): Promise<void> {
  const start = Date.now();
  while (!isListening(port)) {
    if (Date.now() - start > ms) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await sleep(20);
  }
}

/** A node:net server holding every connection it gets (never reads or answers); closed at teardown. */
export async function silentServer(t: Test): Promise<{ server: Server; port: number; sockets: NetSocket[] }> {
  const sockets: NetSocket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { server, port: (server.address() as { port: number }).port, sockets };
}

/** A connected raw client (node:net), with what it has received so far. */
export interface RawClient {
  sock: NetSocket;
  received(): Buffer;
  /** Wait until at least `n` bytes came (rejects after `ms` or on close before). */
  waitBytes(n: number, ms?: number): Promise<Buffer>;
  /** Resolves when the server closed its end. */
  ended: Promise<void>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const sock = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let size = 0;
  let closed = false;
  sock.on('data', (d: Buffer) => {
    chunks.push(d);
    size += d.length;
  });
  const ended = new Promise<void>((resolve) => sock.on('close', () => {
    closed = true;
    resolve();
  }));
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const received = (): Buffer => Buffer.concat(chunks);
  const waitBytes = async (n: number, ms = 10_000): Promise<Buffer> => {
    const start = Date.now();
    while (size < n) {
      if (closed) throw new Error(`closed after ${size} of ${n} bytes`);
      if (Date.now() - start > ms) throw new Error(`${size} of ${n} bytes after ${ms} ms`);
      await sleep(5);
    }
    return received();
  };
  return { sock, received, waitBytes, ended };
}

/** nc-style echo: send `payload`, read as many bytes back, close; resolves with what came back. */
export async function echo(port: number, payload: Buffer | string, ms = 15_000): Promise<Buffer> {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const c = await rawClient(port);
  try {
    c.sock.write(data);
    return await c.waitBytes(data.length, ms);
  } finally {
    c.sock.end();
    c.sock.destroySoon();
  }
}

/** `n` echo clients at once, each sending its own payload; resolves when all got their echo. */
export async function burst(port: number, n: number, size = 100): Promise<number> {
  let ok = 0;
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const payload = Buffer.alloc(size, 65 + (i % 26));
    const got = await echo(port, payload);
    if (got.equals(payload)) ok++;
  }));
  return ok;
}

/** Deterministic bytes (not all equal, so that reordering would show). */
export function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}
