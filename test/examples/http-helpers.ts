// Shared by the seed 000 / seed 003 / web server / browser suites: spawn
// the BUILT programs (dist/examples, made by `pretest`) on 127.0.0.1 with
// port 0, read the real port from their "listening on" line, talk to them
// with raw node:net sockets, node:http, curl and Chromium, count their fds,
// stop them with a signal. Every process is killed at teardown; every
// wait is bounded.
import type { Test } from 'tap';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect, type Socket as NetSocket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INTERRUPTED = 'caught keyboard interrupt, exiting';
export const CHROMIUM = '/usr/bin/chromium';

/** Why curl tests are skipped, or false when curl is there. */
export const noCurl: string | false = spawnSync('curl', ['--version']).status === 0 ? false : 'curl is not installed';
/** Why Chromium tests are skipped, or false when Chromium is there. */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (Debian package "chromium"; test/examples/install-chromium.sh installs it)`;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wait until `cond()` holds (polled every 20 ms); rejects after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(20);
  }
}

/** A running example program. */
export interface Program {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The port from its "listening on" line (0 until then). */
  port: number;
  out(): string;
  err(): string;
  /** Resolves when it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wait until stdout matches `pattern`; rejects after `ms` or when the process exits first. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Send `signal` and wait for the exit (SIGKILL after `ms`). */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

/** Options of {@link runProgram}. */
export interface RunOptions {
  stdin?: 'ignore' | 'pipe';
  /** A command to run node under, e.g. `['prlimit', '--nofile=40']`. */
  wrap?: string[];
  /** The environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** Spawn `node dist/examples/<name>.js ...args`; killed at teardown. */
export function runProgram(t: Test, name: string, args: string[], opts: RunOptions = {}): Program {
  const command = [...(opts.wrap ?? []), process.execPath, `dist/examples/${name}.js`, ...args];
  const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: opts.env ?? process.env, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
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
  });
  t.teardown(async () => {
    if (done) return;
    child.kill('SIGKILL');
    await exited;
  });
  const prog: Program = {
    child,
    pid: child.pid as number,
    port: 0,
    out: () => out,
    err: () => err,
    exited,
    async waitFor(pattern, ms = 10_000) {
      const start = Date.now();
      for (;;) {
        const m = pattern.exec(out);
        if (m !== null) return m;
        if (done) throw new Error(`${name} exited before printing ${pattern}: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
        if (Date.now() - start > ms) throw new Error(`${name} did not print ${pattern} within ${ms} ms: stdout ${JSON.stringify(out.slice(-2000))}`);
        await sleep(10);
      }
    },
    async stop(signal = 'SIGINT', ms = 10_000) {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const r = await exited;
      clearTimeout(timer);
      return { ...r, out, err };
    },
  };
  return prog;
}

/** Start a server program with port 0 and wait for its "listening on ('127.0.0.1', PORT)" line. */
export async function startServer(t: Test, name: string, args: string[] = [], hostPort: string[] = ['127.0.0.1', '0'], opts: RunOptions = {}): Promise<Program> {
  const prog = runProgram(t, name, [...args, ...hostPort], opts);
  const m = await prog.waitFor(/listening on \('[^']*', (\d+)\)/);
  prog.port = Number(m[1]);
  return prog;
}

/** Run a program to its end (for --help, usage errors, bind errors). */
export function runToEnd(name: string, args: string[], ms = 10_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [`dist/examples/${name}.js`, ...args], { cwd: ROOT, timeout: ms }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

/** Open fds of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Wait until the process is back to `baseline` fds (connections close asynchronously); returns the last count. */
export async function settleFds(pid: number, baseline: number, ms = 5000): Promise<number> {
  const start = Date.now();
  let n = fdCount(pid);
  while (n > baseline && Date.now() - start < ms) {
    await sleep(50);
    n = fdCount(pid);
  }
  return n;
}

/** Options of {@link exchange}. */
export interface ExchangeOptions {
  /** Pause between chunks (ms). */
  delayMs?: number;
  /** Half-close after the last chunk. */
  end?: boolean;
  /** Give up (destroy, reject) after this long. */
  timeoutMs?: number;
  /** Resolve once this many bytes arrived, without waiting for the close. */
  untilBytes?: number;
}

/**
 * An nc-style raw conversation: connect, write `chunks` (one write each,
 * `delayMs` apart), collect everything until the server closes (or
 * `untilBytes` arrived). Resolves with the bytes and the client's local port.
 */
export function exchange(port: number, chunks: Array<string | Buffer>, opts: ExchangeOptions = {}): Promise<{ data: Buffer; localPort: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let size = 0;
    let localPort = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close from :${port} within ${opts.timeoutMs ?? 10_000} ms (got ${size} bytes: ${JSON.stringify(Buffer.concat(got).subarray(0, 200).toString('latin1'))})`));
    }, opts.timeoutMs ?? 10_000);
    const finish = (): void => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(got), localPort });
    };
    sock.on('data', (d: Buffer) => {
      got.push(d);
      size += d.length;
      if (opts.untilBytes !== undefined && size >= opts.untilBytes) {
        sock.destroy();
        finish();
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', finish);
    sock.on('connect', () => {
      localPort = sock.localPort as number;
      void (async () => {
        for (const [i, c] of chunks.entries()) {
          if (i > 0 && opts.delayMs) await sleep(opts.delayMs);
          if (sock.destroyed) return;
          sock.write(c);
        }
        if (opts.end === true) sock.end();
      })();
    });
  });
}

/** An open raw connection for step-by-step conversations (keep-alive, pipelining). */
export interface RawConnection {
  readonly sock: NetSocket;
  /** Everything received so far. */
  received(): Buffer;
  /** Whether the server closed. */
  ended(): boolean;
  /** Wait until `n` bytes in total were received (or reject after `ms`). */
  waitBytes(n: number, ms?: number): Promise<Buffer>;
  /** Wait until `count` complete responses were received (framed by Content-Length). */
  waitResponses(count: number, headRequests?: boolean[], ms?: number): Promise<HttpResponse[]>;
  /** Wait until the server closes. */
  waitEnd(ms?: number): Promise<void>;
}

export function rawConnection(t: Test, port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    // Chunks are joined only when looked at: a big download must not be copied on every read.
    const chunks: Buffer[] = [];
    let joined = Buffer.alloc(0);
    let size = 0;
    let ended = false;
    const received = (): Buffer => {
      if (joined.length !== size) {
        joined = Buffer.concat([joined, ...chunks.splice(0)]);
      }
      return joined;
    };
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
    });
    sock.on('close', () => (ended = true));
    sock.on('error', () => (ended = true));
    t.teardown(() => {
      sock.destroy();
    });
    sock.on('connect', () => {
      resolve({
        sock,
        received,
        ended: () => ended,
        async waitBytes(n, ms = 10_000) {
          await until(() => size >= n || ended, ms, `${n} bytes`);
          return received();
        },
        async waitResponses(count, heads = [], ms = 10_000) {
          let parsed: HttpResponse[] = [];
          let seen = -1;
          await until(
            () => {
              if (size === seen && !ended) return false;
              seen = size;
              parsed = parseResponses(received(), heads);
              return parsed.length >= count || ended;
            },
            ms,
            `${count} responses`,
          );
          return parsed;
        },
        async waitEnd(ms = 10_000) {
          await until(() => ended, ms, 'close by the server');
        },
      });
    });
    sock.once('error', reject);
  });
}

/** One parsed HTTP response. */
export interface HttpResponse {
  readonly version: string;
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: Buffer;
  /** The raw head (status line and headers). */
  readonly head: string;
}

/**
 * Parse the complete responses in `data`, framed by Content-Length
 * (`heads[i]`: the i-th response answers a HEAD, so it has no body).
 * Stops at the first incomplete one.
 */
export function parseResponses(data: Buffer, heads: boolean[] = []): HttpResponse[] {
  const out: HttpResponse[] = [];
  let pos = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', pos);
    if (end < 0) return out;
    const head = data.subarray(pos, end).toString('latin1');
    const [statusLine, ...lines] = head.split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})/.exec(statusLine);
    if (m === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const i = line.indexOf(':');
      headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
    }
    const length = heads[out.length] === true ? 0 : Number(headers.get('content-length') ?? 0);
    if (data.length < end + 4 + length) return out;
    out.push({ version: m[1], status: Number(m[2]), headers, body: data.subarray(end + 4, end + 4 + length), head });
    pos = end + 4 + length;
  }
}

/** Run curl with `args` (adds -s and a 10 s limit). */
export function curl(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--max-time', '10', ...args], { timeout: 15_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, out: stdout, err: stderr });
    });
  });
}

/** Run `fn(i)` for i in 0..n-1, all at once. */
export function concurrently<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

/** A PNG's width and height, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('PNG without IHDR first');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)
 * and return a function giving the [r, g, b] of a pixel.
 */
export function pngPixels(png: Buffer): { width: number; height: number; pixel(x: number, y: number): [number, number, number] } {
  const { width, height } = pngSize(png);
  const bitDepth = png[24];
  const colorType = png[25];
  const interlace = png[28];
  if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
  }
  const bpp = colorType === 6 ? 4 : 3;
  const idat: Buffer[] = [];
  for (let pos = 8; pos < png.length; ) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    pixel(x, y) {
      const o = y * stride + x * bpp;
      return [pixels[o], pixels[o + 1], pixels[o + 2]];
    },
  };
}
