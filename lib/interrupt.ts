/**
 * Keyboard interrupts for blocking programs: Ctrl-C (SIGINT) or SIGTERM
 * ends a blocking accept(), recv(), select()... with a thrown
 * {@link KeyboardInterrupt}, as Python's KeyboardInterrupt does.
 */

import { SIGHUP, SIGINT, SIGQUIT, SIGTERM } from './sys/constants.js';
import { libc, type Libc } from './sys/libc.js';
import { armInterrupts, disarmInterrupts, interruptsEnabled, watchPendingSignals } from './sys/interrupt.js';
import { invalidArgValue } from './errors.js';

/** The signals that can be made interrupts. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGQUIT';

const NUMBERS: Record<InterruptSignal, number> = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
const NAMES = new Map<number, InterruptSignal>(Object.entries(NUMBERS).map(([name, n]) => [n, name as InterruptSignal]));

// While armed, Node's own handlers for the signals are replaced (see
// sys/interrupt.ts), so their 'process' listeners would never run: a timer
// looks at the flag this often and emits the signal on `process` itself.
const POLL_MS = 25;

/**
 * Python's `KeyboardInterrupt`: an interrupt signal arrived while a
 * blocking call was waiting. Code `ERR_KEYBOARD_INTERRUPT`; `syscall` is
 * the call it ended.
 */
export class KeyboardInterrupt extends Error {
  readonly code = 'ERR_KEYBOARD_INTERRUPT';
  /** The blocking call that was interrupted. */
  readonly syscall: string;
  /** The signal that arrived. */
  readonly signal: InterruptSignal;

  constructor(syscall: string, signal: InterruptSignal) {
    super(`${syscall} interrupted by ${signal}`);
    this.name = 'KeyboardInterrupt';
    this.syscall = syscall;
    this.signal = signal;
  }
}

/** Options of {@link enableKeyboardInterrupt}. */
export interface KeyboardInterruptOptions {
  /** The signals that interrupt; default SIGINT and SIGTERM. */
  signals?: InterruptSignal[];
  /**
   * Called in Node's loop when one of the signals arrives while the
   * program waits there (e.g. in `selectAsync()`), rather than in a
   * blocking call. `process` listeners of the signal run too.
   */
  onSignal?: (signal: InterruptSignal) => void;
  /** The libc binding (tests). */
  sys?: Libc;
}

/** What {@link enableKeyboardInterrupt} returns. */
export interface KeyboardInterruptHandle extends Disposable {
  /** Back to Node's behaviour: blocking calls are restarted, signals only reach listeners. */
  disable(): void;
  /** The last interrupt signal whose listener ran, if any. */
  readonly lastSignal: InterruptSignal | null;
}

/**
 * Make the interrupt signals end blocking calls with a thrown
 * {@link KeyboardInterrupt} — what Python programs rely on to stop a
 * blocking server with Ctrl-C:
 *
 * ```ts
 * const interrupts = enableKeyboardInterrupt();
 * try {
 *   for (;;) handle(server.accept());
 * } catch (err) {
 *   if (!(err instanceof KeyboardInterrupt)) throw err;
 *   console.log('caught keyboard interrupt, exiting');
 * } finally {
 *   server.close();
 *   interrupts.disable();
 * }
 * ```
 *
 * Node normally restarts an interrupted accept()/recv() (its handlers use
 * SA_RESTART) and runs a 'SIGINT' listener only when JavaScript is idle, so
 * a blocked program — or a busy synchronous select() loop — would never see
 * Ctrl-C. While enabled, the signals end blocking socket calls and kernel
 * waits with EINTR, every blocking call first checks whether one arrived
 * while JavaScript ran, and the library throws KeyboardInterrupt; other
 * signals (a terminal resize, a child's exit) still do not interrupt.
 * While the program waits in Node's loop instead (selectAsync, timers),
 * `onSignal` and the signals' `process` listeners run, within ~25 ms.
 * Process-wide; the process umask is borrowed as the signal flag (see
 * lib/sys/interrupt.ts), so keep file creation out of armed code or expect
 * a umask made stricter by one bit when yours is 002 or 017.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a signal it cannot use.
 * @throws {SyscallError} if sigaction fails.
 */
export function enableKeyboardInterrupt(options: KeyboardInterruptOptions = {}): KeyboardInterruptHandle {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  for (const s of signals) if (!(s in NUMBERS)) throw invalidArgValue('signals', 'may contain SIGINT, SIGTERM, SIGHUP, SIGQUIT only', s);
  const sys = options.sys ?? libc();
  let lastSignal: InterruptSignal | null = null;
  const listener = (signal: NodeJS.Signals): void => {
    lastSignal = signal as InterruptSignal;
    options.onSignal?.(signal as InterruptSignal);
  };
  // Our listener keeps Node from treating the signals as fatal meanwhile,
  // and libuv from reinstalling its handler over ours.
  for (const signal of signals) process.on(signal, listener);
  armInterrupts(sys, signals.map((s) => NUMBERS[s]), (signum, syscall) => {
    const signal = NAMES.get(signum) ?? 'SIGINT';
    lastSignal = signal;
    throw new KeyboardInterrupt(syscall, signal);
  });
  const stopWatching = watchPendingSignals(POLL_MS, (signum) => {
    const signal = NAMES.get(signum) ?? 'SIGINT';
    process.emit(signal, signal);
  });
  let enabled = true;
  const disable = (): void => {
    if (!enabled) return;
    enabled = false;
    stopWatching();
    disarmInterrupts();
    for (const signal of signals) process.off(signal, listener);
  };
  return {
    disable,
    [Symbol.dispose]: disable,
    get lastSignal() {
      return lastSignal;
    },
  };
}

/** Whether keyboard interrupts are enabled. */
export function keyboardInterruptEnabled(): boolean {
  return interruptsEnabled();
}
