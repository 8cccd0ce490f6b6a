/**
 * `select.select()` — Python's wrapper of select(2) — and {@link selectFds},
 * the allocation-free select(2) on caller-owned fd_sets that
 * `SelectSelector` is built on.
 */

import { FD_SETSIZE } from '../sys/constants.js';
import { FD_SET_SIZE, TIMEVAL_SIZE, fdIsSet, fdSet, writeTimeval } from '../sys/structs.js';
import { libc, type Libc } from '../sys/libc.js';
import { kernelWait } from '../sys/call.js';
import { invalidArgType, outOfRange } from '../errors.js';
import { fileobjToFd, type FileObject } from '../fileobj.js';
import { selectTimeoutUs } from '../timeout.js';

// select() is synchronous, so one set of buffers serves every call: the
// sets select() fills, the snapshots selectFds() restores after EINTR, and
// the timeval. Each has its own ArrayBuffer, so word views are aligned.
const readSet = new Uint8Array(new ArrayBuffer(FD_SET_SIZE));
const writeSet = new Uint8Array(new ArrayBuffer(FD_SET_SIZE));
const exceptSet = new Uint8Array(new ArrayBuffer(FD_SET_SIZE));
const readSnap = new Uint8Array(new ArrayBuffer(FD_SET_SIZE));
const writeSnap = new Uint8Array(new ArrayBuffer(FD_SET_SIZE));
const exceptSnap = new Uint8Array(new ArrayBuffer(FD_SET_SIZE));
const timeval = Buffer.alloc(TIMEVAL_SIZE);

/**
 * Bytes of an fd_set the kernel reads and writes for `nfds`: it copies
 * whole longs (FDS_BYTES in fs/select.c), so round up to 8 bytes.
 */
function fdsBytes(nfds: number): number {
  return ((nfds + 63) >>> 6) << 3;
}

function copyBytes(dst: Uint8Array, src: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = src[i];
}

function zeroBytes(set: Uint8Array | null, n: number): void {
  if (set !== null) for (let i = 0; i < n; i++) set[i] = 0;
}

// The arguments of the select() in progress, for the two callbacks below
// (select() is synchronous: one call at a time, and no closure per call).
let curNfds = 0;
let curBytes = 0;
let curSys: Libc | null = null;
let curR: Uint8Array | null = null;
let curW: Uint8Array | null = null;
let curX: Uint8Array | null = null;

function selectOnce(us: number): number {
  if (us >= 0) writeTimeval(timeval, us);
  return curSys!.select(curNfds, curR, curW, curX, us >= 0 ? timeval : null);
}

function restoreSets(): void {
  if (curR !== null) copyBytes(curR, readSnap, curBytes);
  if (curW !== null) copyBytes(curW, writeSnap, curBytes);
  if (curX !== null) copyBytes(curX, exceptSnap, curBytes);
}

/**
 * One select(2), retried on EINTR with the time left (PEP 475). The sets
 * are snapshotted first and restored before each retry: POSIX leaves their
 * contents unspecified after a failure. When an interruption left no time,
 * nothing is ready and the sets are cleared, so that no stale bit reads as
 * ready (CPython bpo-35310).
 */
function selectUs(
  nfds: number,
  r: Uint8Array | null,
  w: Uint8Array | null,
  x: Uint8Array | null,
  timeoutUs: number,
  sys: Libc,
): number {
  const nbytes = fdsBytes(nfds);
  if (r !== null) copyBytes(readSnap, r, nbytes);
  if (w !== null) copyBytes(writeSnap, w, nbytes);
  if (x !== null) copyBytes(exceptSnap, x, nbytes);
  curNfds = nfds;
  curBytes = nbytes;
  curSys = sys;
  curR = r;
  curW = w;
  curX = x;
  try {
    const n = kernelWait(sys, 'select', timeoutUs, 1e3, selectOnce, restoreSets);
    if (n === 0) {
      zeroBytes(r, nbytes);
      zeroBytes(w, nbytes);
      zeroBytes(x, nbytes);
    }
    return n;
  } finally {
    curSys = curR = curW = curX = null;
  }
}

function checkSet(set: Uint8Array | null, name: string, nbytes: number): void {
  if (set === null) return;
  if (!(set instanceof Uint8Array)) throw invalidArgType(name, 'a Uint8Array or null', set);
  if (set.length < nbytes) throw outOfRange(`${name}.length`, `>= ${nbytes} bytes for this nfds`, set.length);
}

/**
 * select(2) on caller-owned fd_sets, for callers that keep their own sets
 * (the selectors layer): no allocation, no fd list to convert.
 *
 * Each non-null set is an fd_set (use {@link FD_SET_SIZE}-byte buffers,
 * `fdSet()` to fill, `fdIsSet()` to read): on return the kernel has left in
 * it only the ready fds, as select(2) does, so the caller re-fills its sets
 * before the next call. An `EINTR` is retried with the time left: the sets
 * are copied into module-level snapshots before the call and restored from
 * them before each retry (their contents are unspecified after a failure).
 * If the time runs out during such a retry, the sets are cleared and 0 is
 * returned.
 *
 * @param nfds highest fd in any set, plus one (0..1024).
 * @param rset fds to watch for reading, or null.
 * @param wset fds to watch for writing, or null.
 * @param xset fds to watch for exceptional conditions (out-of-band data), or null.
 * @param timeoutMs milliseconds: negative (or `Infinity`) blocks, 0 polls;
 *   fractions are kept to the microsecond, rounded up.
 * @param sys the libc binding (tests pass a scripted one).
 * @returns the number of ready bits over the three sets (an fd ready for
 *   reading and writing counts twice).
 * @throws {RangeError} `ERR_FD_OUT_OF_RANGE` if nfds is not an integer in 0..1024;
 *   `ERR_OUT_OF_RANGE` if a set is shorter than the bytes nfds covers.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if a set is neither a Uint8Array nor null.
 * @throws {SyscallError} the errno of select(2), e.g. `EBADF` for a closed fd in a set.
 */
export function selectFds(
  nfds: number,
  rset: Uint8Array | null,
  wset: Uint8Array | null,
  xset: Uint8Array | null,
  timeoutMs: number,
  sys: Libc = libc(),
): number {
  if (!Number.isInteger(nfds) || nfds < 0 || nfds > FD_SETSIZE) {
    throw outOfRange('nfds', `an integer >= 0 and <= ${FD_SETSIZE} (FD_SETSIZE)`, nfds, 'ERR_FD_OUT_OF_RANGE');
  }
  const nbytes = fdsBytes(nfds);
  checkSet(rset, 'rset', nbytes);
  checkSet(wset, 'wset', nbytes);
  checkSet(xset, 'xset', nbytes);
  let us: number;
  if (timeoutMs < 0 || timeoutMs === Infinity) us = -1;
  else if (timeoutMs > 0) us = Math.ceil(timeoutMs * 1e3);
  else us = 0; // 0 and NaN poll
  return selectUs(nfds, rset, wset, xset, us, sys);
}

function toArray<T>(list: Iterable<T>, name: string): T[] {
  if (Array.isArray(list)) return list;
  if (list !== null && typeof list === 'object' && typeof (list as Iterable<T>)[Symbol.iterator] === 'function') {
    return Array.from(list);
  }
  throw invalidArgType(name, 'an array or iterable of file objects', list);
}

function fdsOf(objs: readonly unknown[], name: string): number[] {
  const fds = new Array<number>(objs.length);
  for (let i = 0; i < objs.length; i++) {
    const fd = fileobjToFd(objs[i], name);
    if (fd >= FD_SETSIZE) {
      throw outOfRange(`${name}[${i}]`, `a file descriptor < ${FD_SETSIZE} (FD_SETSIZE) for select()`, fd, 'ERR_FD_OUT_OF_RANGE');
    }
    fds[i] = fd;
  }
  return fds;
}

function fill(set: Uint8Array, fds: readonly number[], nfds: number): number {
  for (let i = 0; i < fds.length; i++) {
    const fd = fds[i];
    fdSet(set, fd);
    if (fd >= nfds) nfds = fd + 1;
  }
  return nfds;
}

function pick<T>(objs: readonly T[], fds: readonly number[], set: Uint8Array): T[] {
  const out: T[] = [];
  for (let i = 0; i < objs.length; i++) if (fdIsSet(set, fds[i])) out.push(objs[i]);
  return out;
}

/**
 * Wait until some of the file objects are ready — Python's
 * `select.select(rlist, wlist, xlist[, timeout])`.
 *
 * Each list holds file objects (an integer fd or anything with `fileno()`);
 * the result holds the same objects, in the same order, that are ready for
 * reading, for writing, or have an exceptional condition (an object listed
 * twice is returned twice, as in Python). With three empty lists it just
 * sleeps for the timeout.
 *
 * @param timeout seconds; `null`/`undefined` blocks until something is
 *   ready, 0 polls. Kept to the microsecond, rounded up. An `EINTR` is
 *   retried with the time left (PEP 475).
 * @param sys the libc binding (tests pass a scripted one).
 * @returns `[readable, writable, exceptional]`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a list that is not iterable, an element that is
 *   not a file object, or a timeout that is not a number (or NaN).
 * @throws {RangeError} `ERR_FD_OUT_OF_RANGE` for an fd >= 1024 (FD_SETSIZE; Python: ValueError
 *   "filedescriptor out of range in select()"), checked before anything is written;
 *   `ERR_OUT_OF_RANGE` for a negative fd, or a negative or too large timeout.
 * @throws {SyscallError} the errno of select(2), e.g. `EBADF` when an fd is not open.
 */
export function select<R extends FileObject, W extends FileObject, X extends FileObject>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
  sys: Libc = libc(),
): [R[], W[], X[]] {
  const timeoutUs = selectTimeoutUs(timeout);
  const r = toArray(rlist, 'rlist');
  const w = toArray(wlist, 'wlist');
  const x = toArray(xlist, 'xlist');
  const rfds = fdsOf(r, 'rlist');
  const wfds = fdsOf(w, 'wlist');
  const xfds = fdsOf(x, 'xlist');
  readSet.fill(0);
  writeSet.fill(0);
  exceptSet.fill(0);
  let nfds = fill(readSet, rfds, 0);
  nfds = fill(writeSet, wfds, nfds);
  nfds = fill(exceptSet, xfds, nfds);
  if (selectUs(nfds, readSet, writeSet, exceptSet, timeoutUs, sys) === 0) return [[], [], []];
  return [pick(r, rfds, readSet), pick(w, wfds, writeSet), pick(x, xfds, exceptSet)];
}
