/**
 * Timeouts in Python's units, converted for the kernel, and the deadline
 * arithmetic used to retry EINTR with the time that is left (PEP 475).
 * Pure: loads without libc.
 */

import { invalidArgType } from './errors.js';

/** Milliseconds on a monotonic clock. */
export function monotonicMs(): number {
  return performance.now();
}

/**
 * Seconds → whole milliseconds for epoll_wait/poll, rounded up (a timeout
 * is never shortened). `null`/`undefined` → -1 (block); `<= 0` → 0 (poll).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number or NaN.
 */
export function secondsToMs(seconds: number | null | undefined, name = 'timeout'): number {
  if (seconds === null || seconds === undefined) return -1;
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw invalidArgType(name, 'a number of seconds, null or undefined', seconds);
  if (seconds <= 0) return 0;
  // Python raises OverflowError for an infinite timeout; waiting forever is what it means.
  if (seconds === Infinity) return -1;
  // Clamp to the largest int the kernel takes; ~24.8 days.
  return Math.min(Math.ceil(seconds * 1e3), 0x7fffffff);
}

/**
 * The time left before `deadline` (from {@link monotonicMs}), rounded up,
 * never negative, at most the kernel's INT_MAX ms (~24.8 days; a longer
 * wait simply wakes up and waits again).
 */
export function remainingMs(deadline: number): number {
  const left = deadline - monotonicMs();
  return left <= 0 ? 0 : Math.min(Math.ceil(left), 0x7fffffff);
}
