/**
 * Every timeout of the library in one place: the arguments of Python's
 * `socket`, `select` and `selectors` calls, each in its own unit
 * (`settimeout()`, `select()`, `epoll.poll()` and `selector.select()`
 * take seconds, `poll.poll()` takes milliseconds), checked and converted
 * the way CPython does it (a positive timeout is rounded up, never
 * shortened), and the deadline arithmetic used to retry EINTR with the
 * time that is left (PEP 475). Pure: loads without libc.
 */

import { invalidArgType, outOfRange } from './errors.js';

/** Largest C `int`: the type of the poll(2)/epoll_wait(2) timeout argument. */
export const INT_MAX = 0x7fffffff;

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
  return Math.min(Math.ceil(seconds * 1e3), INT_MAX);
}

/**
 * The time left before `deadline` (from {@link monotonicMs}), rounded up,
 * never negative, at most the kernel's INT_MAX ms (~24.8 days; a longer
 * wait simply wakes up and waits again).
 */
export function remainingMs(deadline: number): number {
  const left = deadline - monotonicMs();
  return left <= 0 ? 0 : Math.min(Math.ceil(left), INT_MAX);
}

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
 * A socket timeout as Python's `settimeout()`/`setdefaulttimeout()` take
 * it: seconds, `null`/`undefined` for none (blocking).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number (or NaN).
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative or infinite value (Python: ValueError
 *   "Timeout value out of range").
 */
export function socketTimeout(value: unknown, name: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidArgType(name, 'a number of seconds or null', value);
  if (value < 0 || !Number.isFinite(value)) throw outOfRange(name, 'a finite number of seconds >= 0 or null (Timeout value out of range)', value);
  return value;
}
