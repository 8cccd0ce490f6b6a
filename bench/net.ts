/**
 * Infrastructure of the network benchmarks (bench/echo.ts,
 * bench/http.ts, bench/app-server.ts): compile the C peers and load generators in
 * bench/c/ (once, cached by source hash in bench/.build/), start a server
 * from a command line and wait until it listens, measure the server's CPU
 * time (utime + stime of its whole process tree, from /proc) over exactly
 * the load generator's measurement window, stop it with SIGINT (SIGKILL
 * after a timeout), and summarize interleaved rounds.
 *
 * A server is any program that listens on a TCP port given on its command
 * line: `{port}` and `{host}` in the command are replaced, leading
 * `NAME=value` words become environment variables. It should exec the real
 * server (not an npm script or a shell that forks), exit on SIGINT, and
 * keep per-event output off stdout (stdout goes to /dev/null by default).
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { median } from './harness.js';

/** The repository root (found from this file, in bench/ or in dist/bench/). */
export const REPO_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json)');
    dir = up;
  }
  return dir;
})();

/** A program to run: executable, arguments, extra environment. */
export interface Command {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
}

/** `cmd args…` as one line (for tables and logs). */
export function commandLine(c: Command): string {
  const env = Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`);
  return [...env, c.cmd, ...c.args].map((w) => (/[\s'"]/.test(w) ? JSON.stringify(w) : w)).join(' ');
}

/**
 * Split a command line into words like a POSIX shell would for simple cases
 * (whitespace, '…' and "…" quoting, backslash escapes), move leading
 * `NAME=value` words into `env`, and replace `{name}` placeholders from
 * `vars` (e.g. `{port}`, `{host}`, `{root}`).
 * @throws {Error} on an unterminated quote or an empty command.
 */
export function parseCommand(line: string, vars: Record<string, string | number> = {}): Command {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`unterminated ${ch} in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  const subst = (w: string): string => w.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const w = words.shift()!;
    const eq = w.indexOf('=');
    env[w.slice(0, eq)] = subst(w.slice(eq + 1));
  }
  if (words.length === 0) throw new Error(`empty command: ${JSON.stringify(line)}`);
  const [cmd, ...args] = words.map(subst);
  return Object.keys(env).length > 0 ? { cmd, args, env } : { cmd, args };
}

// ---------------------------------------------------------------- C builds

/** Where compiled C programs are cached (ignored by git). */
export const BUILD_DIR = join(REPO_ROOT, 'bench', '.build');
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-std=gnu11'];

/**
 * Compile `bench/c/<name>.c` with `cc -O2` unless a binary of the same
 * source and flags is already in bench/.build/; returns the binary's path.
 * @throws {Error} if the compiler is missing or fails.
 */
export function buildC(name: string): string {
  const src = join(REPO_ROOT, 'bench', 'c', `${name}.c`);
  const cc = process.env['CC'] ?? 'cc';
  // The program and the headers of bench/c/ it may include.
  const hash = createHash('sha256').update(readFileSync(src)).update(JSON.stringify([cc, CFLAGS]));
  for (const h of readdirSync(join(REPO_ROOT, 'bench', 'c')).filter((f) => f.endsWith('.h')).sort()) hash.update(readFileSync(join(REPO_ROOT, 'bench', 'c', h)));
  const digest = hash.digest('hex').slice(0, 12);
  const out = join(BUILD_DIR, `${name}-${digest}`);
  if (existsSync(out)) return out;
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  const res = spawnSync(cc, [...CFLAGS, '-o', tmp, src], { encoding: 'utf8' });
  if (res.error) throw new Error(`cannot run ${cc}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cc} failed on ${src}:\n${res.stderr}`);
  renameSync(tmp, out);
  // Older builds of the same program are stale: remove them.
  for (const f of readdirSync(BUILD_DIR)) {
    if (f.startsWith(`${name}-`) && /^[0-9a-f]{12}$/.test(f.slice(name.length + 1)) && join(BUILD_DIR, f) !== out) rmSync(join(BUILD_DIR, f), { force: true });
  }
  return out;
}

// ---------------------------------------------------------------- ports, CPU

/** A free TCP port on `host`: bind port 0 with node:net, read it, close. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Whether some socket listens on TCP `port` (any address), from /proc/net/tcp and tcp6. */
export function isListening(port: number): boolean {
  return listenerCount(port) > 0;
}

/**
 * How many sockets listen on TCP `port` (any address), from /proc/net/tcp
 * and tcp6: each SO_REUSEPORT listener of a group is a line of its own.
 */
export function listenerCount(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      // f[1] = local address:port, f[3] = state (0A = LISTEN)
      if (f.length > 3 && f[3] === '0A' && f[1].endsWith(hex)) count++;
    }
  }
  return count;
}

let clkTck: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, normally 100). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(res.stdout?.trim());
    clkTck = res.status === 0 && n > 0 ? n : 100;
  }
  return clkTck;
}

/**
 * utime + stime, in clock ticks, from the text of a /proc/<pid>/stat or
 * /proc/<pid>/task/<tid>/stat file (fields 14 and 15). The command name
 * (field 2) may hold spaces and parentheses: fields are counted after its
 * last ')'.
 * @throws {Error} if the text is not such a line.
 */
export function statTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  const f = close < 0 ? [] : stat.slice(close + 2).trim().split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // fields 14 (utime) and 15 (stime)
  if (f.length < 13 || !Number.isInteger(ticks)) throw new Error(`not a /proc stat line: ${JSON.stringify(stat.slice(0, 80))}`);
  return ticks;
}

/** utime + stime of one process (all its threads), in clock ticks; 0 if it is gone. */
function processTicks(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  return statTicks(stat);
}

/** utime + stime of each thread of `pid` (thread id → CPU seconds); threads that end meanwhile are left out. */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), statTicks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) / clockTicks());
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/**
 * CPU seconds of each thread between two {@link threadCpuSeconds} samples,
 * busiest first (threads present in both samples only).
 */
export function threadCpuDelta(before: Map<number, number>, after: Map<number, number>): number[] {
  const out: number[] = [];
  for (const [tid, cpu] of after) {
    const was = before.get(tid);
    if (was !== undefined) out.push(cpu - was);
  }
  return out.sort((a, b) => b - a);
}

/** `pid` and its live descendants (from /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
      } catch {
        // the thread exited meanwhile
      }
    }
  }
  return out;
}

/** CPU seconds (user + system) used so far by `pid` and its live descendants. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += processTicks(p);
  return ticks / clockTicks();
}

/** Machine-wide CPU seconds from /proc/stat: busy (user + nice + system, all CPUs) and stolen by the hypervisor. */
export function machineCpuSeconds(): { busy: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).map(Number);
  // cpu user nice system idle iowait irq softirq steal ...
  return { busy: (f[1] + f[2] + f[3]) / clockTicks(), steal: (f[8] || 0) / clockTicks() };
}

/**
 * Wait until the machine is quiet: until other processes use less than
 * `threshold` of a core over a 300 ms sample (nothing of the benchmark's
 * runs while this is called), for at most `maxMs`. Returns the last
 * sample's busy cores (e.g. 0.05), so a caller can report a noisy start.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.25): Promise<number> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const a = machineCpuSeconds();
    await sleep(300);
    const b = machineCpuSeconds();
    const busy = (b.busy - a.busy + b.steal - a.steal) / 0.3;
    if (busy < threshold || Date.now() >= deadline) return busy;
  }
}

/** Whether `taskset` exists and the machine has at least 2 CPUs (so server and client can be pinned apart). */
export function canPin(): boolean {
  return cpus().length >= 2 && spawnSync('taskset', ['--version']).status === 0;
}

/** Prefix a command with `taskset -c <cpus>` (taskset execs it: the pid stays the program's). */
function pinned(c: Command, cpuList: string | undefined): Command {
  return cpuList === undefined ? c : { cmd: 'taskset', args: ['-c', cpuList, c.cmd, ...c.args], env: c.env };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- servers

/** How to start a server on a given host and port. */
export interface ServerLaunch {
  /** Label in tables. */
  name: string;
  /** The command for a host and port. */
  command(host: string, port: number): Command;
  /** Where the server's stdout goes: /dev/null (default), or inherited for debugging. */
  stdout?: 'ignore' | 'inherit';
  /** A remark printed under the table (e.g. known behaviour that skews numbers). */
  note?: string;
  /**
   * The server reports its own counters: on SIGUSR2 it prints a line
   * `counters NAME N NAME N …` to stderr. {@link measure} signals it at the
   * start and the end of the measured window and returns the differences
   * in {@link Measurement.counters}.
   */
  counters?: boolean;
}

/** The first two `counters …` lines of a server's stderr, as differences (null without two). */
export function counterDeltas(stderr: string): Record<string, number> | null {
  const lines = stderr.split('\n').filter((l) => l.startsWith('counters '));
  if (lines.length < 2) return null;
  const parse = (line: string): Map<string, number> => {
    const words = line.split(/\s+/).slice(1);
    const out = new Map<string, number>();
    for (let i = 0; i + 1 < words.length; i += 2) out.set(words[i], Number(words[i + 1]));
    return out;
  };
  const [a, b] = [parse(lines[0]), parse(lines[1])];
  const out: Record<string, number> = {};
  for (const [k, v] of b) if (a.has(k)) out[k] = v - a.get(k)!;
  return out;
}

/** A launch from a command line with `{host}`/`{port}` placeholders (see {@link parseCommand}). */
export function launchFromLine(name: string, line: string, note?: string): ServerLaunch {
  parseCommand(line); // fail early on a malformed line
  return { name, command: (host, port) => parseCommand(line, { host, port, root: REPO_ROOT }), note };
}

/**
 * Parse a peer flag value: `"label: cmd args…"` or just `"cmd args…"` (then
 * the label is the script's file name, e.g. `multiconn-server.js`).
 */
export function launchFromFlag(value: string, fallbackLabel: string, note?: string): ServerLaunch {
  const m = /^([^\s:'"]+):\s+(.*)$/s.exec(value);
  if (m) return launchFromLine(m[1], m[2], note);
  const c = parseCommand(value);
  const script = [c.cmd, ...c.args].find((w) => /\.(m?js|ts|py)$/.test(w));
  return launchFromLine(script ? script.split('/').pop()! : fallbackLabel, value, note);
}

/** `python3` (or $PYTHON) running one of test/fixtures/python/*.py with HOST PORT. */
export function pythonLaunch(name: string, script: string, note?: string): ServerLaunch {
  const py = process.env['PYTHON'] ?? 'python3';
  const path = join(REPO_ROOT, 'test', 'fixtures', 'python', script);
  return { name, command: (host, port) => ({ cmd: py, args: [path, host, String(port)] }), note };
}

/**
 * The Real Python app server, test/fixtures/python/app-server.py HOST PORT.
 * It prints every connection, request and reply; stdout goes to /dev/null.
 */
export function pythonAppServer(): ServerLaunch {
  return pythonLaunch('Python app-server.py', 'app-server.py',
    'app-server.py prints per connection and per message; its stdout went to /dev/null (block-buffered, not a terminal).');
}

/**
 * The Real Python multi-connection echo server, multiconn-server.py HOST
 * PORT. It has no quiet flag and prints every echo (stdout to /dev/null),
 * and it keeps every connection registered for READ|WRITE, so it spins at
 * 100% CPU even while idle (NOTES.md): its CPU per message is inflated.
 */
export function pythonEchoServer(): ServerLaunch {
  return pythonLaunch('Python multiconn-server.py', 'multiconn-server.py',
    'multiconn-server.py has no quiet flag (stdout to /dev/null; it prints every echo) and registers every connection for READ|WRITE, so it spins at 100% CPU even when idle: its CPU per message is not meaningful; recv(1024).');
}

// Servers still running if the benchmark dies half-way: killed on exit.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** A server process started by {@link startServer}. */
export interface RunningServer {
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** CPU seconds used so far by the server's process tree. */
  cpuSeconds(): number;
  /** SIGINT, then SIGKILL after `timeoutMs`; resolves with how it ended. */
  stop(timeoutMs?: number): Promise<StopResult>;
  /** The last few KiB of its stderr. */
  stderr(): string;
}

/** How a server ended. */
export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True if SIGINT was not enough. */
  killed: boolean;
}

/** Options of {@link startServer}. */
export interface StartOptions {
  host?: string;
  /** Port to use; default a free one from {@link freePort}. */
  port?: number;
  /** `taskset -c` CPU list for the server, e.g. `'0'`. */
  cpus?: string;
  /** How long to wait for the port to listen (ms, default 20 s). */
  readyTimeoutMs?: number;
  /** How many listening sockets make it ready (default 1; n for n SO_REUSEPORT loops, which start one after another). */
  listeners?: number;
}

/**
 * Start a server and wait until something listens on its port (checked in
 * /proc/net/tcp, so no probe connection disturbs it). Rejects with the
 * server's stderr if it exits first or does not listen in time.
 */
export async function startServer(launch: ServerLaunch, opts: StartOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const cmd = pinned(launch.command(host, port), opts.cpus);
  const child = spawn(cmd.cmd, cmd.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...cmd.env },
    stdio: ['ignore', launch.stdout ?? 'ignore', 'pipe'],
  });
  running.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4096); });
  let exited: StopResult | undefined;
  const exit = new Promise<StopResult>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve((exited = { code, signal, killed: false }));
    });
    child.once('error', (e) => { err += `\n${e.message}`; resolve((exited = { code: null, signal: null, killed: false })); });
  });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  const listeners = opts.listeners ?? 1;
  while (listenerCount(port) < listeners) {
    if (exited) throw new Error(`${launch.name} exited before listening (${commandLine(cmd)}): code ${exited.code} signal ${exited.signal}\n${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${launch.name} did not listen on ${host}:${port} in time (${commandLine(cmd)})\n${err}`);
    }
    await sleep(20);
  }
  const pid = child.pid!;
  return {
    name: launch.name,
    pid,
    host,
    port,
    child,
    cpuSeconds: () => treeCpuSeconds(pid),
    stderr: () => err,
    async stop(timeoutMs = 5000): Promise<StopResult> {
      if (exited) return exited;
      child.kill('SIGINT');
      const timer = sleep(timeoutMs).then(() => undefined);
      const r = await Promise.race([exit, timer]);
      if (r) return r;
      child.kill('SIGKILL');
      return { ...(await exit), killed: true };
    },
  };
}

// ---------------------------------------------------------------- load

/** What one load-generator run printed (its final JSON line), plus when the markers came. */
export interface LoadResult {
  /** The generator's JSON result. */
  json: Record<string, number | string>;
  /** Server CPU seconds at "# start" and at the result line. */
  cpuAtStart: number;
  cpuAtEnd: number;
  /** Machine-wide CPU (see {@link machineCpuSeconds}) at both. */
  machineAtStart: { busy: number; steal: number };
  machineAtEnd: { busy: number; steal: number };
  /** When both were sampled (performance.now(), ms). */
  atStart: number;
  atEnd: number;
}

/**
 * Run a load generator that prints "# start" when its measured window
 * begins and a JSON line when it ends; sample the server's CPU time at
 * both. Rejects if it fails, prints no result, or runs past `timeoutMs`
 * (then it is killed).
 */
export function runLoad(gen: Command, server: RunningServer, cpuList?: string, timeoutMs = 300_000, onMark?: (mark: 'start' | 'end') => void): Promise<LoadResult> {
  const cmd = pinned(gen, cpuList);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.cmd, cmd.args, { cwd: REPO_ROOT, env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      err += `\n(killed after ${timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    let cpuAtStart = NaN;
    let atStart = NaN;
    let machineAtStart = { busy: NaN, steal: NaN };
    let result: LoadResult | undefined;
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4096); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('# start')) {
        onMark?.('start');
        cpuAtStart = server.cpuSeconds();
        machineAtStart = machineCpuSeconds();
        atStart = performance.now();
      } else if (line.startsWith('{') && result === undefined) {
        onMark?.('end');
        const cpuAtEnd = server.cpuSeconds();
        const machineAtEnd = machineCpuSeconds();
        result = {
          json: JSON.parse(line) as Record<string, number | string>, cpuAtStart, cpuAtEnd, machineAtStart, machineAtEnd, atStart, atEnd: performance.now(),
        };
      }
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && result && !Number.isNaN(result.cpuAtStart)) resolve(result);
      else reject(new Error(`load generator failed (${commandLine(cmd)}): exit ${code}\n${err}`));
    });
  });
}

/**
 * Run several load generators at once against one server (one thread each
 * cannot drive more than about one server core). Their windows open and
 * close within milliseconds of each other; the result covers their union:
 * the server's CPU from the first "# start" to the last result line, and
 * the generators' JSON combined by {@link combineLoads}. `onMark` fires at
 * the first start and the last end.
 */
export async function runLoads(gens: Command[], server: RunningServer, opsKey: string, cpuList?: string, timeoutMs = 300_000, onMark?: (mark: 'start' | 'end') => void): Promise<LoadResult> {
  let started = 0;
  let ended = 0;
  const mark = (m: 'start' | 'end'): void => {
    if (m === 'start' && started++ === 0) onMark?.('start');
    if (m === 'end' && ++ended === gens.length) onMark?.('end');
  };
  const results = await Promise.all(gens.map((g) => runLoad(g, server, cpuList, timeoutMs, mark)));
  const first = results.reduce((a, b) => (b.atStart < a.atStart ? b : a));
  const last = results.reduce((a, b) => (b.atEnd > a.atEnd ? b : a));
  return {
    json: combineLoads(results.map((r) => r.json), opsKey, (last.atEnd - first.atStart) / 1000),
    cpuAtStart: first.cpuAtStart,
    cpuAtEnd: last.cpuAtEnd,
    machineAtStart: first.machineAtStart,
    machineAtEnd: last.machineAtEnd,
    atStart: first.atStart,
    atEnd: last.atEnd,
  };
}

/**
 * The JSON lines of generators that ran side by side, as one over their
 * union window of `seconds`: rates add up (each generator's ops over its
 * own window), so the ops become the summed rate times `seconds`; CPU
 * cores add up the same way (`client_cpu_s` scaled to `seconds`); errors,
 * connections and latency samples are summed. Percentiles cannot be merged
 * from percentiles: `p50_us`, `p99_us`, `p999_us` and `max_us` are the
 * worst generator's (the true p99 of all the samples is no higher than the
 * highest p99). Pure.
 */
export function combineLoads(jsons: Array<Record<string, number | string>>, opsKey: string, seconds: number): Record<string, number | string> {
  const num = (j: Record<string, number | string>, k: string): number => Number(j[k]);
  const sum = (k: string): number => jsons.reduce((a, j) => a + num(j, k), 0);
  const worst = (k: string): number => Math.max(...jsons.map((j) => num(j, k)));
  const rate = jsons.reduce((a, j) => a + num(j, opsKey) / num(j, 'seconds'), 0);
  const cores = jsons.reduce((a, j) => a + num(j, 'client_cpu_s') / num(j, 'seconds'), 0);
  const out: Record<string, number | string> = {
    ...jsons[0],
    [opsKey]: Math.round(rate * seconds),
    seconds,
    client_cpu_s: cores * seconds,
    errors: sum('errors'),
    generators: jsons.length,
  };
  if ('conns' in jsons[0]) out['conns'] = sum('conns');
  if ('lat_samples' in jsons[0]) {
    out['lat_samples'] = sum('lat_samples');
    for (const k of ['p50_us', 'p99_us', 'p999_us', 'max_us']) out[k] = worst(k);
  }
  return out;
}

/** One measurement of one server under one load. */
export interface Measurement {
  name: string;
  /** Operations (round trips, requests) in the measured window. */
  ops: number;
  seconds: number;
  /** ops / seconds. */
  rate: number;
  /** Server CPU seconds in the window (whole process tree). */
  serverCpuSeconds: number;
  /** serverCpuSeconds / ops. */
  cpuSecondsPerOp: number;
  /** serverCpuSeconds / seconds (1.0 = one core busy). */
  serverUtil: number;
  /** The load generator's own CPU seconds in the window. */
  clientCpuSeconds: number;
  /**
   * CPU seconds other processes used in the window (machine busy time minus
   * server and generator): the noise of a shared machine.
   */
  otherCpuSeconds: number;
  /** CPU seconds stolen by the hypervisor in the window (all CPUs). */
  stealSeconds: number;
  errors: number;
  /** How the server stopped. */
  stop: StopResult;
  /** The generator's JSON. */
  raw: Record<string, number | string>;
  /** With {@link MeasureOptions.threads}: CPU seconds of each server thread in the window, busiest first. */
  threadCpuSeconds?: number[];
  /** With {@link ServerLaunch.counters}: the server's own counters over the window. */
  counters?: Record<string, number>;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  host?: string;
  /** Pin the server to CPU 0 and the generator to CPU 1 (needs taskset); {@link cpuLists} overrides it. */
  pin?: boolean;
  /** `taskset -c` CPU lists for the server and the generator (e.g. `'0-1'` and `'2'`). */
  cpuLists?: { server: string; load: string };
  /** JSON key of the operation count (`msgs`, `requests`). */
  opsKey: string;
  /** Kill the load generator if it runs longer (ms; default 5 min). */
  timeoutMs?: number;
  /** Also sample the CPU time of each thread of the server process (not its children) over the window. */
  threads?: boolean;
  /** How many listening sockets the server opens on its port before it is ready (default 1; see {@link StartOptions.listeners}). */
  listeners?: number;
}

/**
 * Start `launch`, run the generator made by `load(port)` against it (or
 * the generators, side by side: {@link runLoads}), stop it, and return the
 * rate and the server's CPU time per operation over the generator's
 * measured window.
 */
export async function measure(launch: ServerLaunch, load: (host: string, port: number) => Command | Command[], opts: MeasureOptions): Promise<Measurement> {
  const host = opts.host ?? '127.0.0.1';
  const cpuLists = opts.cpuLists ?? (opts.pin ? { server: '0', load: '1' } : undefined);
  const server = await startServer(launch, { host, cpus: cpuLists?.server, listeners: opts.listeners });
  let res: LoadResult;
  const samples: Array<Map<number, number>> = [];
  const onMark = opts.threads || launch.counters ? () => {
    if (opts.threads) samples.push(threadCpuSeconds(server.pid));
    if (launch.counters) process.kill(server.pid, 'SIGUSR2');
  } : undefined;
  try {
    const gens = load(host, server.port);
    res = Array.isArray(gens) && gens.length > 1
      ? await runLoads(gens, server, opts.opsKey, cpuLists?.load, opts.timeoutMs, onMark)
      : await runLoad(Array.isArray(gens) ? gens[0] : gens, server, cpuLists?.load, opts.timeoutMs, onMark);
  } catch (e) {
    await server.stop();
    throw new Error(`${launch.name}: ${(e as Error).message}\nserver stderr:\n${server.stderr()}`);
  }
  const stop = await server.stop();
  const counters = launch.counters ? counterDeltas(server.stderr()) : null;
  const ops = Number(res.json[opts.opsKey]);
  const seconds = Number(res.json['seconds']);
  const cpu = res.cpuAtEnd - res.cpuAtStart;
  const clientCpu = Number(res.json['client_cpu_s']);
  const busy = res.machineAtEnd.busy - res.machineAtStart.busy;
  return {
    name: launch.name,
    ops,
    seconds,
    rate: ops / seconds,
    serverCpuSeconds: cpu,
    cpuSecondsPerOp: ops > 0 ? cpu / ops : NaN,
    serverUtil: cpu / seconds,
    clientCpuSeconds: clientCpu,
    otherCpuSeconds: Math.max(0, busy - cpu - clientCpu),
    stealSeconds: res.machineAtEnd.steal - res.machineAtStart.steal,
    errors: Number(res.json['errors']),
    stop,
    raw: res.json,
    ...(samples.length === 2 ? { threadCpuSeconds: threadCpuDelta(samples[0], samples[1]) } : {}),
    ...(counters ? { counters } : {}),
  };
}

/** Medians (and spread) of one peer's rounds. */
export interface Summary {
  name: string;
  rounds: Measurement[];
  rate: number;
  rateMin: number;
  rateMax: number;
  cpuSecondsPerOp: number;
  serverUtil: number;
  clientUtil: number;
  /** Rounds (index) -> measurement, to pair rounds with a reference's. */
  byRound: Map<number, Measurement>;
  /** Median CPU use of other processes during the windows (1.0 = one core). */
  otherUtil: number;
  errors: number;
  /** Stops that needed SIGKILL or ended with a non-zero status. */
  uncleanStops: number;
}

/** Summarize the rounds of one peer (medians; errors summed). */
export function summarize(name: string, rounds: Measurement[], byRound = new Map(rounds.map((m, i) => [i, m]))): Summary {
  const rates = rounds.map((m) => m.rate);
  return {
    name,
    rounds,
    rate: median(rates),
    rateMin: Math.min(...rates),
    rateMax: Math.max(...rates),
    byRound,
    cpuSecondsPerOp: median(rounds.map((m) => m.cpuSecondsPerOp)),
    serverUtil: median(rounds.map((m) => m.serverUtil)),
    clientUtil: median(rounds.map((m) => m.clientCpuSeconds / m.seconds)),
    otherUtil: median(rounds.map((m) => (m.otherCpuSeconds + m.stealSeconds) / m.seconds)),
    errors: rounds.reduce((s, m) => s + m.errors, 0),
    uncleanStops: rounds.filter((m) => m.stop.killed || (m.stop.code !== 0 && m.stop.code !== null) || (m.stop.signal !== null && m.stop.signal !== 'SIGINT')).length,
  };
}

/**
 * Ratios of `peer` to `ref` paired round by round (both measured in the
 * same interleaved round, close in time), then the median: less exposed to
 * slow drifts of machine load than a ratio of medians. NaN if no round pairs.
 */
export function pairedRatio(peer: Summary, ref: Summary, pick: (m: Measurement) => number): number {
  const ratios: number[] = [];
  for (const [r, m] of peer.byRound) {
    const q = ref.byRound.get(r);
    if (q) ratios.push(pick(m) / pick(q));
  }
  return ratios.length > 0 ? median(ratios) : NaN;
}

/** Options of {@link interleave}. */
export interface InterleaveOptions {
  /** Before each measurement, wait up to this long for the machine to be quiet (ms; 0: don't). */
  quietWaitMs?: number;
  log?: (msg: string) => void;
}

/**
 * Run `run(peer)` for every peer, `rounds` times, interleaved (round r of
 * every peer before round r+1 of any) so machine noise hits all alike.
 * A failing peer is reported on stderr and left out (null), not fatal.
 */
export async function interleave<P extends { name: string }>(
  peers: P[],
  rounds: number,
  run: (peer: P, round: number) => Promise<Measurement>,
  opts: InterleaveOptions = {},
): Promise<Map<P, Summary | null>> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const results = new Map<P, Map<number, Measurement> | null>(peers.map((p) => [p, new Map()]));
  for (let r = 0; r < rounds; r++) {
    for (const p of peers) {
      const acc = results.get(p);
      if (acc === null) continue;
      if (opts.quietWaitMs) {
        const busy = await waitForQuiet(opts.quietWaitMs);
        if (busy >= 0.25) log(`(machine still busy: ${(busy * 100).toFixed(0)}% of a core used by other processes after waiting ${opts.quietWaitMs / 1000} s)`);
      }
      try {
        const m = await run(p, r);
        acc!.set(r, m);
        log(`round ${r + 1}/${rounds} ${p.name}: ${m.rate.toFixed(0)}/s, server ${(m.cpuSecondsPerOp * 1e6).toFixed(2)} µs CPU/op (${(m.serverUtil * 100).toFixed(0)}% CPU), client ${(m.clientCpuSeconds / m.seconds * 100).toFixed(0)}%, others ${((m.otherCpuSeconds + m.stealSeconds) / m.seconds * 100).toFixed(0)}%, errors ${m.errors}`);
      } catch (e) {
        log(`${p.name} failed, dropped from the run: ${(e as Error).message}`);
        results.set(p, null);
      }
      await sleep(200);
    }
  }
  return new Map(peers.map((p) => {
    const ms = results.get(p);
    return [p, ms && ms.size > 0 ? summarize(p.name, [...ms.values()], ms) : null];
  }));
}

/** One line describing the machine and settings, for the top of a report. */
export function environmentLine(extra: string): string {
  const cc = spawnSync(process.env['CC'] ?? 'cc', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'cc ?';
  const py = spawnSync(process.env['PYTHON'] ?? 'python3', ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'python3 ?';
  return `node ${process.version}, ${cc}, ${py}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${extra}`;
}

/** Write `data` as JSON to `path` (for --json). */
export function writeJson(path: string, data: unknown): void {
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}

// `node dist/bench/net.js build`: compile the C programs and print their paths.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'build') {
    for (const name of ['epoll-echo-server', 'echo-load', 'connect-load', 'app-load', 'wait-scaling', 'epoll-http-server', 'http-load', 'hold-load']) console.log(`${name}: ${buildC(name)}`);
  } else {
    console.error('usage: node dist/bench/net.js build   (compile bench/c/*.c into bench/.build/ and print the paths)');
    process.exitCode = 2;
  }
}

/**
 * One table row for a measured server: name, rate, range, server CPU per
 * operation (µs), CPU shares, and the paired ratios to `ref` (or 'n/a').
 */
export function summaryRow(s: Summary, ref: Summary | null): Array<string | number> {
  return [
    s.name,
    s.rate,
    `${s.rateMin.toFixed(0)}-${s.rateMax.toFixed(0)}`,
    s.cpuSecondsPerOp * 1e6,
    `${(s.serverUtil * 100).toFixed(0)}%`,
    `${(s.clientUtil * 100).toFixed(0)}%`,
    `${(s.otherUtil * 100).toFixed(0)}%`,
    ref ? `${pairedRatio(s, ref, (m) => m.rate).toFixed(2)}x` : 'n/a',
    ref ? `${pairedRatio(s, ref, (m) => m.cpuSecondsPerOp).toFixed(2)}x` : 'n/a',
    s.errors,
  ];
}

/** The flags every network benchmark takes (node:util parseArgs options). */
export const COMMON_OPTIONS = {
  seconds: { type: 'string', default: '5' },
  warmup: { type: 'string', default: '1' },
  rounds: { type: 'string', default: '3' },
  pin: { type: 'boolean', default: false },
  'quiet-wait': { type: 'string', default: '5' },
  'server-output': { type: 'boolean', default: false },
  json: { type: 'string' },
} as const;

/**
 * The flags of a network benchmark: the common ones plus `options`, or
 * null after printing `usage` for `--help`/`-h`.
 */
export function benchArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[], usage: string, options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & O }>>['values'] | null {
  if (helpWanted(argv, usage)) return null;
  return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options } }).values;
}

/** Prints `usage` and returns true when argv asks for --help (or -h). */
export function helpWanted(argv: string[], usage: string): boolean {
  if (!argv.includes('--help') && !argv.includes('-h')) return false;
  console.log(usage);
  return true;
}

/** What the common flags mean for a run: CPU pinning, the quiet wait, and when a load generator counts as stuck. */
export function commonSettings(values: { pin: boolean; 'quiet-wait': string; warmup: string; seconds: string }): { pin: boolean; quietWaitMs: number; timeoutMs: number } {
  const pin = values.pin && canPin();
  if (values.pin && !pin) process.stderr.write('--pin ignored: needs taskset and 2 CPUs\n');
  return {
    pin,
    quietWaitMs: Number(values['quiet-wait']) * 1000,
    // A generator that runs this long is stuck (e.g. connects that never complete).
    timeoutMs: (Number(values.warmup) + Number(values.seconds) + 60) * 1000,
  };
}
