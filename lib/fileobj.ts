/**
 * File objects: an integer fd, or anything with a `fileno()` method (a
 * `Socket`, a user object), as in Python's `select` and `selectors`.
 * Pure: loads without libc.
 */

import { invalidArgType, outOfRange } from './errors.js';

/** Anything with a `fileno()` method returning an fd. */
export interface HasFileno {
  fileno(): number;
}

/** What `register`, `select()` and friends accept: an fd or an object with `fileno()`. */
export type FileObject = number | HasFileno;

/**
 * The fd of a file object (Python's `_fileobj_to_fd`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if it is neither an integer nor has `fileno()`
 *   (or `fileno()` returns a non-integer).
 * @throws {RangeError} `ERR_OUT_OF_RANGE` if the fd is negative (e.g. a closed socket's -1).
 */
export function fileobjToFd(fileobj: unknown, name = 'fileobj'): number {
  let fd: unknown;
  if (typeof fileobj === 'number') {
    fd = fileobj;
  } else if (fileobj !== null && typeof fileobj === 'object' && typeof (fileobj as HasFileno).fileno === 'function') {
    fd = (fileobj as HasFileno).fileno();
    if (!Number.isInteger(fd)) throw invalidArgType(`${name}.fileno()`, 'an integer', fd);
  } else {
    throw invalidArgType(name, 'an integer file descriptor or an object with a fileno() method', fileobj);
  }
  if (!Number.isInteger(fd)) throw invalidArgType(name, 'an integer file descriptor or an object with a fileno() method', fd);
  if ((fd as number) < 0) throw outOfRange(name, 'a file descriptor >= 0', fd);
  if ((fd as number) > 0x7fffffff) throw outOfRange(name, 'a file descriptor <= 2147483647', fd);
  return fd as number;
}
