/**
 * The selector event bits (Python's `selectors.EVENT_READ`/`EVENT_WRITE`).
 * Pure: loads without libc.
 */

import { outOfRange } from '../lib/errors.js';

/** The file object is ready for reading (or at EOF, or in error). */
export const EVENT_READ = 1;
/** The file object is ready for writing (or in error). */
export const EVENT_WRITE = 2;

/**
 * Check an events mask as `register`/`modify` do, before anything else.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` if it is 0, not an integer, or has bits other than EVENT_READ|EVENT_WRITE.
 */
export function validateEvents(events: unknown): number {
  if (typeof events !== 'number' || !Number.isInteger(events) || events === 0 || (events & ~(EVENT_READ | EVENT_WRITE)) !== 0 || events < 0) {
    throw outOfRange('events', 'EVENT_READ, EVENT_WRITE or EVENT_READ | EVENT_WRITE', events);
  }
  return events;
}
