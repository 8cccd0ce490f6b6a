/**
 * Turning a libc failure (-1 and errno) into a Node-shaped error: the
 * simplest of the entry points of call.ts, kept apart so that the layers
 * that only need it (the selectors' worker wait) do not load the waits.
 */

import { SyscallError, type ErrorTarget } from '../errors.js';
import type { Libc } from './libc.js';

/** An error's target, or a function that makes it (called only once the call has failed). */
export type TargetOf = ErrorTarget | (() => ErrorTarget | undefined) | undefined;

/** The {@link SyscallError} for the call that just failed; errno is read first unless given. */
export function fail(sys: Libc, syscall: string, target: TargetOf, errno = sys.errno()): SyscallError {
  return new SyscallError(errno, syscall, typeof target === 'function' ? target() : target);
}

/**
 * Return `result` unless it is negative; then read errno (right away,
 * before any other call) and throw it.
 * @throws {SyscallError} with `code` the errno name, `syscall`, and the target's address/port/path.
 */
export function check(sys: Libc, result: number, syscall: string, target?: TargetOf): number {
  if (result < 0) throw fail(sys, syscall, target);
  return result;
}
