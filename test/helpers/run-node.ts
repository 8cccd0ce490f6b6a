/**
 * Run a Node child process (a script, or a tool such as tsc) to completion
 * within a time limit, collecting its output. The child is not a coverage
 * source: tap's coverage variables are removed from its environment.
 */
import { spawn } from 'node:child_process';

/** How a child ended, and what it printed. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Options of {@link runNode}. */
export interface RunNodeOptions {
  cwd: string;
  timeoutMs: number;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** `'pipe'`: stdin is a pipe held open (never written) until the child ends. Default `'ignore'`. */
  stdin?: 'ignore' | 'pipe';
}

/** `node ...args`, killed with SIGKILL if it outlasts `timeoutMs`. */
export function runNode(args: string[], options: RunNodeOptions): Promise<RunResult> {
  const env = { ...process.env, ...options.env };
  delete env.NODE_V8_COVERAGE;
  delete env.NODE_OPTIONS;
  env._TAPJS_PROCESSINFO_COVERAGE_ = '0';
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({ code, signal, stdout, stderr, timedOut, ms: Math.round(performance.now() - start) });
    });
  });
}
