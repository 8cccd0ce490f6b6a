/**
 * Turning a libc failure (-1 and errno) into a Node-shaped error.
 */

import { SyscallError, type ErrorTarget } from '../errors.js';
import type { Libc } from './libc.js';

/**
 * Return `result` unless it is negative; then read errno from `sys` (right
 * away, before any other call) and throw it as a {@link SyscallError}.
 * @throws {SyscallError} with `code` the errno name, `syscall`, and the target's address/port/path.
 */
export function check(sys: Libc, result: number, syscall: string, target?: ErrorTarget): number {
  if (result < 0) throw new SyscallError(sys.errno(), syscall, target);
  return result;
}

/** A {@link SyscallError} for an errno value already read. */
export function errnoError(errno: number, syscall: string, target?: ErrorTarget): SyscallError {
  return new SyscallError(errno, syscall, target);
}
