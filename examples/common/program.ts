/**
 * What every example program shares: argument parsing with Python's usage
 * lines, the common flags, the one-line error for a failed call, and
 * Ctrl-C / SIGTERM handling ("caught keyboard interrupt, exiting", exit 0).
 *
 * A program is a {@link ProgramSpec}; `runMain(spec, import.meta.url)` at
 * the bottom of its file runs it when the file is executed directly, and
 * the `node-selectors` CLI runs it by name (examples/cli.ts).
 */

import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  enableKeyboardInterrupt,
  formatAddress,
  KeyboardInterrupt,
  ProtocolError,
  SocketTimeoutError,
  SyscallError,
  selectorClass,
  EVENT_READ,
  EVENT_WRITE,
  type BaseSelector,
  type MessageEngine,
  type SelectorKey,
} from '../../lib/index.js';
import { Proactor } from '../../lib/uring/index.js';

/** Common flags a program may take. */
export type CommonFlag = 'backend' | 'trace' | 'quiet' | 'backlog' | 'async' | 'engine';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string];

/** Everything a program's `main` gets. */
export interface ProgramContext {
  /** The program name (as in its usage line). */
  readonly name: string;
  /** Positional arguments, already checked against the usage's count. */
  readonly args: string[];
  /** Parsed flags (common and the program's own). */
  readonly flags: Record<string, string | boolean | undefined>;
  /** Aborted on SIGINT/SIGTERM: end an async loop with it (`sel.run(handler, { signal })`). */
  readonly signal: AbortSignal;
  /** `--quiet`: no per-message output. */
  readonly quiet: boolean;
  /** `--backlog N` if given, else the program's default. */
  backlog(fallback: number): number;
  /** A new selector of the `--backend` class (default: DefaultSelector). */
  selector<T = unknown>(): BaseSelector<T>;
  /** `--engine`: `'uring'` (the completion engine) or `'epoll'` (selectors; the default). */
  readonly engine: MessageEngine;
  /**
   * A new Proactor (for `--engine uring`); with `--trace`, one line says
   * what it runs on (io_uring, or epoll and why io_uring is unavailable).
   */
  proactor(): Proactor;
  /** Print a line, unless `--quiet`. */
  log(...parts: unknown[]): void;
  /** `--trace`: print a readiness event as it is dispatched (no-op otherwise). */
  trace(key: SelectorKey<unknown>, mask: number, peer?: unknown): void;
  /** Parse and check a port argument (exits with the usage line if it is not 0..65535). */
  port(text: string): number;
  /** Exit with the usage line and status 2. */
  usageError(message?: string): never;
}

/** One example program. */
export interface ProgramSpec {
  /** Name, as typed after `node-selectors`. */
  name: string;
  /** Python's usage argument list, e.g. `'<host> <port> <action> <value>'`. */
  usage: string;
  /** One line: what the program is and what it teaches. */
  summary: string;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  /** The common flags that apply. */
  common?: CommonFlag[];
  /** The event names `--trace` prints, for its help (default `READ/WRITE`, the selectors' names). */
  traceEvents?: string;
  /** The program's own flags (node:util parseArgs options), with help text. */
  options?: Record<string, OptionSpec & { help: string }>;
  /** Extra help text (how to talk to it). */
  help?: string;
  /**
   * The program. A blocking program simply blocks: SIGINT/SIGTERM end its
   * blocking call with KeyboardInterrupt (catch it only to clean up, or let
   * it propagate: the message is printed for you). An async program
   * returns a Promise and ends its loop when `ctx.signal` aborts.
   */
  main(ctx: ProgramContext): void | number | Promise<void | number>;
}

const COMMON: Record<CommonFlag, OptionSpec & { help: string }> = {
  backend: { type: 'string', help: 'selector backend: epoll, poll or select (default: the best, epoll)' },
  trace: { type: 'boolean', help: 'print each readiness event as it is dispatched (fd, peer, READ/WRITE)' },
  quiet: { type: 'boolean', help: 'no per-message output (for benchmarks)' },
  backlog: { type: 'string', help: 'listen() backlog (how many connections may wait to be accepted)' },
  async: { type: 'boolean', help: "wait with selectAsync() in Node's loop instead of a blocking select()" },
  engine: { type: 'string', help: 'epoll (default): a selector says when sockets are ready; uring: io_uring completes the I/O (epoll stands in where io_uring is unavailable)' },
};

/** The one line `--trace` prints about a Proactor. */
export function engineNotice(proactor: Proactor): string {
  return proactor.backend === 'io_uring'
    ? 'engine: uring on io_uring'
    : `engine: uring on epoll (io_uring unavailable: ${proactor.fallbackReason ?? 'epoll asked for'})`;
}

const INTERRUPTED = 'caught keyboard interrupt, exiting';

class UsageExit extends Error {
  constructor(message: string) {
    super(message);
  }
}

function usageLine(spec: ProgramSpec): string {
  return `usage: ${spec.name} ${spec.usage}`.trimEnd();
}

/**
 * The "What it teaches" paragraph of a program's header comment, as
 * plain text, or null if it has none. Read from the program's own file
 * (its compiled .js keeps the comment, or its .ts in the source tree), so
 * there is one text and no copy to drift.
 */
export function whatItTeaches(name: string): string | null {
  let source: string | undefined;
  for (const ext of ['.js', '.ts']) {
    try {
      source = readFileSync(new URL(`../${name}${ext}`, import.meta.url), 'utf8');
      break;
    } catch {
      // Not built, or not in the source tree: try the other.
    }
  }
  const head = source === undefined ? undefined : /^\/\*\*\n([\s\S]*?)\*\//.exec(source)?.[1];
  if (head === undefined) return null;
  const lines = head.split('\n').map((l) => l.replace(/^ \* ?/, '').replace(/^ \*$/, ''));
  const start = lines.findIndex((l) => l.startsWith('What it teaches:'));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n').replace(/^What it teaches: /, '');
}

/** The `--explain` text of a program: its summary and what it teaches. */
export function explainText(spec: ProgramSpec): string {
  const teaches = whatItTeaches(spec.name);
  return `${spec.name}: ${spec.summary}\n\n${teaches ?? '(no "What it teaches" section in its source)'}\n`;
}

/** The `--help` text of a program. */
export function helpText(spec: ProgramSpec): string {
  const lines = [usageLine(spec), '', spec.summary, ''];
  const common = (spec.common ?? []).map((c): [string, OptionSpec & { help: string }] => [
    c, c === 'trace' && spec.traceEvents !== undefined ? { ...COMMON.trace, help: COMMON.trace.help.replace('READ/WRITE', spec.traceEvents) } : COMMON[c],
  ]);
  const opts = { ...Object.fromEntries(common), ...(spec.options ?? {}) };
  lines.push('options:', '  --help              show this help and exit', '  --explain           print what the program teaches (from its source)');
  for (const [name, o] of Object.entries(opts)) {
    const flag = `--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    // A flag too long for the column gets its help on the next line.
    lines.push(flag.length < 20 ? `  ${flag.padEnd(20)}${o.help}` : `  ${flag}\n  ${''.padEnd(20)}${o.help}`);
  }
  if (spec.help) lines.push('', spec.help.trim());
  return `${lines.join('\n')}\n`;
}

function eventNames(mask: number): string {
  return [(mask & EVENT_READ) !== 0 ? 'READ' : '', (mask & EVENT_WRITE) !== 0 ? 'WRITE' : ''].filter(Boolean).join('|');
}

/** A one-line description of an error for the terminal (no stack for expected failures). */
export function describeError(err: unknown): string {
  if (err instanceof SyscallError || err instanceof SocketTimeoutError || err instanceof ProtocolError) return err.message;
  if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string') return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * Run a program with `argv` (the arguments after its name). Resolves to the
 * exit status: 0 on success and after Ctrl-C/SIGTERM, 1 when it failed
 * (one line on stderr), 2 for wrong arguments (usage line on stderr).
 */
export async function runProgram(spec: ProgramSpec, argv: string[]): Promise<number> {
  const options: Record<string, OptionSpec> = { help: { type: 'boolean' }, explain: { type: 'boolean' } };
  for (const c of spec.common ?? []) options[c] = COMMON[c];
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    const { help: _help, ...rest } = o;
    options[name] = rest;
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    process.stderr.write(`${spec.name}: ${(err as Error).message}\n${usageLine(spec)}\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  if (parsed.values.explain === true) {
    process.stdout.write(explainText(spec));
    return 0;
  }
  const { positionals } = parsed;
  if (positionals.length < spec.positionals.min || positionals.length > spec.positionals.max) {
    process.stderr.write(`${usageLine(spec)}\n`);
    return 2;
  }
  const controller = new AbortController();
  let interruptedBy: string | null = null;
  const interrupts = enableKeyboardInterrupt({
    onSignal: (sig) => {
      interruptedBy ??= sig;
      controller.abort();
    },
  });
  const flags = parsed.values;
  const quiet = flags.quiet === true;
  const usageError = (message?: string): never => {
    throw new UsageExit(message ?? '');
  };
  let Selector: ReturnType<typeof selectorClass>;
  try {
    Selector = selectorClass(typeof flags.backend === 'string' ? flags.backend : undefined);
  } catch {
    process.stderr.write(`${spec.name}: unknown backend '${String(flags.backend)}' (use epoll, poll or select)\n${usageLine(spec)}\n`);
    interrupts.disable();
    return 2;
  }
  const engine = flags.engine ?? 'epoll';
  if (engine !== 'epoll' && engine !== 'uring') {
    process.stderr.write(`${spec.name}: unknown engine '${String(engine)}' (use epoll or uring)\n${usageLine(spec)}\n`);
    interrupts.disable();
    return 2;
  }
  if (engine === 'uring' && flags.backend !== undefined) {
    process.stderr.write(`${spec.name}: --backend picks a selector: not with --engine uring\n${usageLine(spec)}\n`);
    interrupts.disable();
    return 2;
  }
  const ctx: ProgramContext = {
    name: spec.name,
    engine,
    args: positionals,
    flags,
    signal: controller.signal,
    quiet,
    backlog(fallback) {
      if (flags.backlog === undefined) return fallback;
      const n = Number(flags.backlog);
      if (!Number.isInteger(n) || n < 0) usageError(`invalid backlog '${String(flags.backlog)}'`);
      return n;
    },
    selector<T>() {
      return new Selector<T>();
    },
    proactor() {
      const proactor = new Proactor();
      if (flags.trace === true) console.log(engineNotice(proactor));
      return proactor;
    },
    log(...parts) {
      if (!quiet) console.log(...parts);
    },
    trace(key, mask, peer) {
      if (flags.trace !== true) return;
      const who = peer === undefined ? '' : ` ${typeof peer === 'string' ? peer : formatAddress(peer as never)}`;
      console.log(`trace: fd ${key.fd}${who} ${eventNames(mask)}`);
    },
    port(text) {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n > 65535) usageError(`invalid port '${text}'`);
      return n;
    },
    usageError,
  };
  try {
    const status = await spec.main(ctx);
    if (interruptedBy !== null) {
      console.log(INTERRUPTED);
      return 0;
    }
    return typeof status === 'number' ? status : 0;
  } catch (err) {
    if (err instanceof KeyboardInterrupt || (err instanceof Error && err.name === 'AbortError' && controller.signal.aborted)) {
      console.log(INTERRUPTED);
      return 0;
    }
    if (err instanceof UsageExit) {
      process.stderr.write(`${err.message ? `${spec.name}: ${err.message}\n` : ''}${usageLine(spec)}\n`);
      return 2;
    }
    process.stderr.write(`${spec.name}: error: ${describeError(err)}\n`);
    return 1;
  } finally {
    interrupts.disable();
  }
}

/**
 * Run `spec` with the process's arguments when `moduleUrl` is the script
 * Node was started with, and exit with its status.
 */
export function runMain(spec: ProgramSpec, moduleUrl: string): void {
  if (!isMain(moduleUrl)) return;
  void runProgram(spec, process.argv.slice(2)).then(exitWith);
}

/**
 * Whether `moduleUrl` is the script Node was started with (through
 * symlinks too, as for npm bins), in the main thread: a worker thread
 * that imports a program (`--workers`) only wants its exports.
 */
export function isMain(moduleUrl: string): boolean {
  if (!isMainThread) return false;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

/**
 * Set the exit status and let Node exit once everything is closed; if
 * something was left open, exit anyway after a grace period.
 */
export function exitWith(status: number): void {
  process.exitCode = status;
  setTimeout(() => process.exit(status), 2000).unref();
}
