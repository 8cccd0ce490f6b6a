// Runs the wait-in-worker.ts fixture in a child process (a crash or a hang
// must never take the test runner with it). Its stdin is a pipe held open
// and never written: the fd the fixture's selectors wait on.
import { fileURLToPath } from 'node:url';
import { runNode, type RunResult } from '../helpers/run-node.js';

const fixture = fileURLToPath(new URL('./wait-in-worker.ts', import.meta.url));

/** How the child ended, and the JSON line it printed last (null if none). */
export interface ChildResult extends RunResult {
  result: Record<string, unknown> | null;
}

/** Run the fixture with `args`, killed with SIGKILL after `timeoutMs`. */
export async function runFixture(args: string[], timeoutMs = 30_000): Promise<ChildResult> {
  const run = await runNode([...process.execArgv, fixture, ...args], { cwd: process.cwd(), timeoutMs, stdin: 'pipe' });
  let result: Record<string, unknown> | null = null;
  try {
    result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    // No result: the assertions on code and signal say why.
  }
  return { ...run, result };
}
