/**
 * Keyboard interrupts for blocking programs: Ctrl-C (SIGINT) or SIGTERM
 * ends a blocking accept(), recv(), select()... with a thrown
 * {@link KeyboardInterrupt}, as Python's KeyboardInterrupt does.
 */

import { SIGHUP, SIGINT, SIGQUIT, SIGTERM } from './sys/constants.js';
import { libc, type Libc } from './sys/libc.js';
import { armInterrupts, disarmInterrupts, interruptsArmed } from './sys/interrupt.js';
import { invalidArgValue } from './errors.js';

/** The signals that can be made interrupts. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGQUIT';

const NUMBERS: Record<InterruptSignal, number> = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/**
 * Python's `KeyboardInterrupt`: an interrupt signal arrived while a
 * blocking call was waiting. Code `ERR_KEYBOARD_INTERRUPT`; `syscall` is
 * the call it ended.
 */
export class KeyboardInterrupt extends Error {
  readonly code = 'ERR_KEYBOARD_INTERRUPT';
  /** The blocking call that was interrupted. */
  readonly syscall: string;

  constructor(syscall: string) {
    super(`${syscall} interrupted by a signal`);
    this.name = 'KeyboardInterrupt';
    this.syscall = syscall;
  }
}

/** Options of {@link enableKeyboardInterrupt}. */
export interface KeyboardInterruptOptions {
  /** The signals that interrupt; default SIGINT and SIGTERM. */
  signals?: InterruptSignal[];
  /**
   * Called (in Node's loop, as a normal listener) when one of the signals
   * arrives while JavaScript is not blocked in a call — e.g. during a
   * `selectAsync()` wait, or before the next blocking call. Default: none.
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
 * a blocked program would never see Ctrl-C. While enabled, the signals end
 * blocking socket calls and kernel waits with EINTR, other signals (a
 * terminal resize, a child's exit) still do not, and the library throws
 * KeyboardInterrupt instead of retrying. Process-wide. A signal that
 * arrives while JavaScript is running (not blocked) is seen by `onSignal`
 * only, when the program next yields to Node's loop.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a signal it cannot use.
 * @throws {SyscallError} if sigaction fails.
 */
export function enableKeyboardInterrupt(options: KeyboardInterruptOptions = {}): KeyboardInterruptHandle {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  for (const s of signals) if (!(s in NUMBERS)) throw invalidArgValue('signals', 'may contain SIGINT, SIGTERM, SIGHUP, SIGQUIT only', s);
  const sys = options.sys ?? libc();
  let lastSignal: InterruptSignal | null = null;
  const listeners = signals.map((signal) => {
    const listener = (): void => {
      lastSignal = signal;
      options.onSignal?.(signal);
    };
    // A listener makes libuv install its C handler, whose flags we then change.
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  armInterrupts(sys, signals.map((s) => NUMBERS[s]), (syscall) => {
    throw new KeyboardInterrupt(syscall);
  });
  let enabled = true;
  const disable = (): void => {
    if (!enabled) return;
    enabled = false;
    disarmInterrupts();
    for (const [signal, listener] of listeners) process.off(signal, listener);
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
  return interruptsArmed;
}
