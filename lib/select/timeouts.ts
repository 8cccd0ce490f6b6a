/**
 * The timeout and event-mask arguments of Python's `select` module,
 * checked and converted the way CPython does it: each call has its own
 * unit (`select()` and `epoll.poll()` take seconds, `poll.poll()` takes
 * milliseconds) and every positive timeout is rounded up, never shortened.
 * Pure: loads without libc.
 */

import { invalidArgType, outOfRange } from '../errors.js';

/** Largest C `int`: the type of the poll(2)/epoll_wait(2) timeout argument. */
export const INT_MAX = 0x7fffffff;

// CPython keeps timeouts as int64 nanoseconds (_PyTime_t): anything beyond
// ~292 years is an OverflowError there.
const MAX_SECONDS = 9223372036;

function checkNumber(value: unknown, name: string, expected: string): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidArgType(name, expected, value);
  return value;
}

/**
 * `select()`'s timeout: seconds → whole microseconds for a `struct timeval`,
 * rounded up as CPython does (`_PyTime_ROUND_TIMEOUT`: seconds → ns rounded
 * up, ns → µs rounded up). `null`/`undefined` → -1 (block).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number or NaN (Python: TypeError / ValueError).
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative timeout (Python: ValueError "timeout must
 *   be non-negative") or one too large to represent (Python: OverflowError).
 */
export function selectTimeoutUs(seconds: number | null | undefined): number {
  if (seconds === null || seconds === undefined) return -1;
  const s = checkNumber(seconds, 'timeout', 'a number of seconds, null or undefined');
  if (s < 0) throw outOfRange('timeout', 'non-negative', s);
  if (s > MAX_SECONDS) throw outOfRange('timeout', `<= ${MAX_SECONDS} seconds`, s);
  return Math.ceil(Math.ceil(s * 1e9) / 1e3);
}

/**
 * `poll.poll()`'s timeout: milliseconds, fractions rounded up.
 * `null`/`undefined`/negative → -1 (block), as in CPython.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number or NaN.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` above INT_MAX ms (Python: OverflowError "timeout is too large").
 */
export function pollTimeoutMs(ms: number | null | undefined): number {
  if (ms === null || ms === undefined) return -1;
  const m = checkNumber(ms, 'timeout', 'a number of milliseconds, null or undefined');
  if (m < 0) return -1;
  const whole = Math.ceil(m);
  if (whole > INT_MAX) throw outOfRange('timeout', `<= ${INT_MAX} milliseconds`, m);
  return whole;
}

/**
 * `epoll.poll()`'s timeout: seconds → whole milliseconds, rounded up.
 * `null`/`undefined`/negative → -1 (block).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number or NaN.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` above INT_MAX ms (Python: OverflowError "timeout is too large").
 */
export function epollTimeoutMs(seconds: number | null | undefined): number {
  if (seconds === null || seconds === undefined) return -1;
  const s = checkNumber(seconds, 'timeout', 'a number of seconds, null or undefined');
  if (s < 0) return -1;
  const ms = Math.ceil(Math.ceil(s * 1e9) / 1e6);
  if (!(ms <= INT_MAX)) throw outOfRange('timeout', `<= ${INT_MAX / 1e3} seconds`, s);
  return ms;
}

/**
 * A kernel wait timeout in ms as the raw `wait()` calls take it: any
 * negative → -1 (block), fractions rounded up, clamped to INT_MAX. Never throws.
 */
export function rawTimeoutMs(ms: number): number {
  if (ms < 0) return -1;
  if (ms >= INT_MAX) return INT_MAX;
  // NaN (no valid caller passes it) polls rather than blocking forever.
  return ms > 0 ? Math.ceil(ms) : 0;
}

/**
 * A `poll` event mask: an integer that fits an `unsigned short`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` outside 0..65535 (Python: OverflowError / ValueError).
 */
export function pollEventmask(eventmask: unknown): number {
  if (typeof eventmask !== 'number' || !Number.isInteger(eventmask)) throw invalidArgType('eventmask', 'an integer', eventmask);
  if (eventmask < 0 || eventmask > 0xffff) throw outOfRange('eventmask', '>= 0 and <= 65535 (an unsigned short)', eventmask);
  return eventmask;
}

/**
 * An `epoll` event mask, as the unsigned 32-bit value the kernel gets.
 * Like CPython (an `unsigned int` taken "bitwise"), any integer is reduced
 * modulo 2**32, so `EPOLLET` may be given as 0x80000000 or as the signed
 * `1 << 31`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer or an unsafe integer.
 */
export function epollEventmask(eventmask: unknown): number {
  if (typeof eventmask !== 'number' || !Number.isSafeInteger(eventmask)) throw invalidArgType('eventmask', 'a safe integer', eventmask);
  return eventmask >>> 0;
}
