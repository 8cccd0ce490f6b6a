/**
 * Turning a libc failure (-1 and errno) into a Node-shaped error: the
 * simplest of the entry points of call.ts, kept apart so that the layers
 * that only need it (the selectors' worker wait) do not load the waits.
 */

import { SyscallError, type ErrorTarget } from '../errors.js';
import type { Libc } from './libc.js';

/** Anything that can say the errno of the call that just failed: the libc table, or another table of lib/sys (io_uring's). */
export type ErrnoSource = Pick<Libc, 'errno'>;

/** An error's target, or a function that makes it (called only once the call has failed). */
export type TargetOf = ErrorTarget | (() => ErrorTarget | undefined) | undefined;

/** The {@link SyscallError} for the call that just failed; errno is read first unless given. */
export function fail(sys: ErrnoSource, syscall: string, target: TargetOf, errno = sys.errno()): SyscallError {
  return new SyscallError(errno, syscall, typeof target === 'function' ? target() : target);
}

/**
 * Return `result` unless it is negative; then read errno (right away,
 * before any other call) and throw it.
 * @throws {SyscallError} with `code` the errno name, `syscall`, and the target's address/port/path.
 */
export function check(sys: ErrnoSource, result: number, syscall: string, target?: TargetOf): number {
  if (result < 0) throw fail(sys, syscall, target);
  return result;
}

/** 0 when `result` is not negative, otherwise the errno of the call that returned it. */
export function errnoOf(sys: ErrnoSource, result: number): number {
  return result < 0 ? sys.errno() : 0;
}
