/**
 * The low-level half of keyboard interrupts (lib/interrupt.ts is the
 * public half): a signal flag that synchronous code can read, and the
 * checks every blocking call makes.
 *
 * Why it is needed: Node (libuv) installs its signal handlers with
 * SA_RESTART and runs JS listeners only when the JavaScript thread is free,
 * so a program blocked in accept() — or a busy synchronous select() loop —
 * never sees Ctrl-C. Python solves it with a C handler that sets a flag it
 * checks between bytecodes; we have no C code of our own, so the flag is
 * kept by the kernel: while armed, the interrupt signals' handler is libc's
 * own `umask()` (async-signal-safe, one system call), which sets the
 * process umask to the signal's number. Reading the umask back (and
 * resetting it) tells whether, and which, interrupt signal arrived. The
 * handler has no SA_RESTART, so the signal also ends a blocking call with
 * EINTR; other signals keep libuv's handlers. While armed the process umask
 * is the user's, made more restrictive by one bit only if it equals a
 * signal number (so a marker can always be told apart); it is restored when
 * disarmed.
 */

import { check } from './check.js';
import type { Libc } from './libc.js';
import { SA_FLAGS_OFFSET, SA_HANDLER_OFFSET, SA_MASK_OFFSET, SIGACTION_SIZE, SIGSET_SIZE } from './structs.js';

/** True while interrupts are armed (read on every blocking call: keep it a plain flag). */
export let interruptsArmed = false;

let handler: ((signum: number, syscall: string) => void) | null = null;
let armedSys: Libc | null = null;
let userUmask = 0;
let baseline = 0;
let saved: Array<[number, Buffer]> = [];
const markers = new Set<number>();

/**
 * Arm: while armed, `signals` set the flag and end blocking calls with
 * EINTR, and {@link interrupted} / {@link checkInterrupts} call
 * `onInterrupt(signum, syscall)` (which should throw) once one arrived.
 * @throws {SyscallError} if sigaction fails.
 */
export function armInterrupts(sys: Libc, signals: number[], onInterrupt: (signum: number, syscall: string) => void): void {
  if (interruptsArmed) disarmInterrupts();
  userUmask = sys.umask(0o022);
  baseline = signals.includes(userUmask) || [1, 2, 3, 15].includes(userUmask) ? userUmask | 0o020 : userUmask;
  sys.umask(baseline);
  const act = Buffer.alloc(SIGACTION_SIZE);
  act.writeBigUInt64LE(sys.symbol('umask'), SA_HANDLER_OFFSET);
  act.fill(0, SA_MASK_OFFSET, SA_MASK_OFFSET + SIGSET_SIZE);
  // No SA_RESTART: the signal must end a blocking call.
  act.writeInt32LE(0, SA_FLAGS_OFFSET);
  saved = [];
  try {
    for (const signum of signals) {
      const old = Buffer.alloc(SIGACTION_SIZE);
      check(sys, sys.sigaction(signum, act, old), 'sigaction');
      saved.push([signum, old]);
      markers.add(signum);
    }
  } catch (err) {
    for (const [signum, old] of saved) sys.sigaction(signum, old, null);
    saved = [];
    markers.clear();
    sys.umask(userUmask);
    throw err;
  }
  armedSys = sys;
  handler = onInterrupt;
  interruptsArmed = true;
}

/** Disarm: the signals' previous handlers and the user's umask come back. */
export function disarmInterrupts(): void {
  if (!interruptsArmed || armedSys === null) return;
  const sys = armedSys;
  interruptsArmed = false;
  handler = null;
  armedSys = null;
  // Whatever was there before: libuv's handler, SA_RESTART and all.
  for (const [signum, old] of saved) sys.sigaction(signum, old, null);
  saved = [];
  markers.clear();
  sys.umask(userUmask);
}

/** Whether interrupts are armed. */
export function interruptsEnabled(): boolean {
  return interruptsArmed;
}

/**
 * Look at the flag every `intervalMs` from Node's loop (an unref'd timer)
 * and call `onSignal(signum)` for an interrupt signal that arrived while
 * nothing was blocked to see it. Returns the function that stops it.
 */
export function watchPendingSignals(intervalMs: number, onSignal: (signum: number) => void): () => void {
  const timer = setInterval(() => {
    const signum = takePendingSignal();
    if (signum !== 0) onSignal(signum);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The interrupt signal that arrived since the last call (0 if none), and
 * reset the flag. One system call.
 */
function takePendingSignal(): number {
  if (!interruptsArmed || armedSys === null) return 0;
  const previous = armedSys.umask(baseline);
  return previous !== baseline && markers.has(previous) ? previous : 0;
}

/**
 * A blocking call returned EINTR: if an interrupt signal caused it, let
 * the handler throw (Python's PyErr_CheckSignals); otherwise the caller
 * retries.
 */
export function interrupted(syscall: string): void {
  if (!interruptsArmed) return;
  const signum = takePendingSignal();
  if (signum !== 0 && handler !== null) handler(signum, syscall);
}

/**
 * About to make a call that may block (or, in a busy loop, about to wait
 * again): if an interrupt signal arrived while JavaScript was running, act
 * on it now rather than blocking. A no-op unless armed.
 */
export function checkInterrupts(syscall: string): void {
  if (interruptsArmed) interrupted(syscall);
}
