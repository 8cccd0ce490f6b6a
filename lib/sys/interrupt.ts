/**
 * The low-level half of keyboard interrupts (lib/interrupt.ts is the
 * public half): what every blocking retry loop calls when a system call
 * returns EINTR, and the signal mask kernel waits run under while
 * interrupts are armed.
 *
 * Why it is needed: Node (libuv) installs its signal handlers with
 * SA_RESTART, so a blocking accept()/recv() is silently restarted, and a
 * JS 'SIGINT' listener only runs once the JavaScript thread is free again —
 * never, for a program blocked in a system call. Armed, the interrupt
 * signals lose SA_RESTART (so they, and only they, end blocking socket
 * calls with EINTR), every other signal is blocked on this thread during
 * poll/select/epoll_wait (which the kernel never restarts: any handled
 * signal would end them), and EINTR calls the handler, which throws:
 * Python's KeyboardInterrupt.
 */

import { SA_RESTART, SIG_SETMASK } from './constants.js';
import { check } from './check.js';
import type { Libc } from './libc.js';
import { SA_FLAGS_OFFSET, SIGACTION_SIZE, SIGSET_SIZE } from './structs.js';

/** True while interrupts are armed (read on every blocking wait: keep it a plain flag). */
export let interruptsArmed = false;

let handler: ((syscall: string) => void) | null = null;
let armedSys: Libc | null = null;
let armedSignals: number[] = [];
// Blocked during kernel waits: every signal but the interrupt ones.
const waitMask = Buffer.alloc(SIGSET_SIZE);
const savedMask = Buffer.alloc(SIGSET_SIZE);
const action = Buffer.alloc(SIGACTION_SIZE);

function setRestart(sys: Libc, signum: number, restart: boolean): void {
  check(sys, sys.sigaction(signum, null, action), 'sigaction');
  const flags = action.readInt32LE(SA_FLAGS_OFFSET);
  action.writeInt32LE(restart ? flags | SA_RESTART : flags & ~SA_RESTART, SA_FLAGS_OFFSET);
  check(sys, sys.sigaction(signum, action, null), 'sigaction');
}

/**
 * Arm: `signals` (whose handlers must already be installed, e.g. by a
 * `process.on()` listener) end blocking calls, and `onInterrupt` runs on
 * the resulting EINTR (it should throw).
 * @throws {SyscallError} if sigaction fails.
 */
export function armInterrupts(sys: Libc, signals: number[], onInterrupt: (syscall: string) => void): void {
  if (interruptsArmed) disarmInterrupts();
  for (const signum of signals) setRestart(sys, signum, false);
  waitMask.fill(0xff);
  for (const signum of signals) waitMask[(signum - 1) >> 3] &= ~(1 << ((signum - 1) & 7));
  armedSys = sys;
  armedSignals = [...signals];
  handler = onInterrupt;
  interruptsArmed = true;
}

/** Disarm: SA_RESTART back on the interrupt signals, EINTR retried silently again. */
export function disarmInterrupts(): void {
  if (!interruptsArmed || armedSys === null) return;
  const sys = armedSys;
  interruptsArmed = false;
  handler = null;
  armedSys = null;
  for (const signum of armedSignals) {
    try {
      setRestart(sys, signum, true);
    } catch {
      // The handler was replaced meanwhile (listener removed): nothing to restore.
    }
  }
  armedSignals = [];
}

/**
 * A blocking call returned EINTR: let the interrupt handler throw (Python's
 * PyErr_CheckSignals); if it does not, the caller retries.
 */
export function interrupted(syscall: string): void {
  if (handler !== null) handler(syscall);
}

/**
 * Before a kernel wait that is never restarted (poll, select, epoll_wait)
 * and may block: while armed, block every signal but the interrupt ones on
 * this thread, so that only they can end it with EINTR (the kernel hands
 * the others to another thread, where libuv's handler queues them for
 * their JS listeners). Returns whether it did; then call
 * {@link restoreSignalMask} right after the wait.
 */
export function maskForWait(sys: Libc): boolean {
  if (!interruptsArmed) return false;
  sys.pthread_sigmask(SIG_SETMASK, waitMask, savedMask);
  return true;
}

/** Undo {@link maskForWait}. */
export function restoreSignalMask(sys: Libc): void {
  sys.pthread_sigmask(SIG_SETMASK, savedMask, null);
}
