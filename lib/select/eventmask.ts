/**
 * The event-mask arguments of Python's `select` module, checked and
 * converted the way CPython does it. Pure: loads without libc.
 */

import { invalidArgType, outOfRange } from '../errors.js';

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
