/**
 * `Socket.sendfile` (Python's `socket.sendfile`): sendfile(2) from a file
 * descriptor to the socket, looping until `count` bytes (or EOF) went out,
 * and read + send where the kernel will not do it.
 */

import { CodedError, SocketTimeoutError, SyscallError, invalidArgType, outOfRange } from '../errors.js';
import { POLLIN, POLLOUT, SEEK_CUR, SEEK_SET, SOCK_STREAM } from '../sys/constants.js';
import { WOULD_BLOCK, check, sockCall, type DataCall } from '../sys/call.js';
import type { Libc } from '../sys/libc.js';
import type { SendallError, Socket } from './socket.js';

/** What sendfile() sends from: an fd, an object with `fileno()`, or one with an `fd` (a Node `fs.promises.FileHandle`). */
export type SendfileSource = number | { fileno(): number } | { readonly fd: number };

// The off_t the kernel reads and advances.
const OFFSET = new BigInt64Array(1);
const NO_BYTES = new Uint8Array(0);
// Capture-free calls for sockCall; for SENDFILE, `flags` carries the file's fd.
const SENDFILE: DataCall = (sys, fd, _buf, len, inFd) => sys.sendfile(fd, inFd, OFFSET, len);
const READ: DataCall = (sys, fd, buf, len) => sys.read(fd, buf, len);
// As CPython: at most 1 GiB per sendfile(2) call.
const MAX_BLOCK = 2 ** 30;
// The read + send fallback's block (CPython reads 8 KiB at a time; the size changes nothing but speed).
const SEND_BLOCK = 64 * 1024;

function fdOf(file: unknown): number {
  let fd: unknown = file;
  if (typeof file === 'object' && file !== null) {
    const f = file as { fileno?: unknown; fd?: unknown };
    fd = typeof f.fileno === 'function' ? (f.fileno as () => unknown).call(file) : f.fd;
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd)) throw invalidArgType('file', 'a file descriptor, an object with fileno() or one with an integer fd', file);
  if (fd < 0 || fd > 0x7fffffff) throw outOfRange('file', 'a file descriptor >= 0', fd);
  return fd;
}

/**
 * Send `file` from `offset` over `sock` (fd `fd`, mode `timeoutMs`: -1
 * blocking, > 0 timeout mode, each wait bounded by the timeout as in
 * CPython): sendfile(2) in a loop; if the file cannot be seeked (a pipe)
 * or the kernel refuses before any byte went out (EINVAL, ENOSYS,
 * EOVERFLOW, ...), read + sendall instead. Afterwards the file's position
 * is `offset` + the bytes sent (lseek), when anything was sent.
 *
 * A non-blocking socket (`timeoutMs` 0; Python refuses those) makes one
 * sendfile(2) call, as `send()` does: the bytes the kernel took now, or
 * `null` when the send buffer is full. It needs a file that can seek.
 * @returns the bytes sent, or `null` (non-blocking, would block).
 * @throws {CodedError} `ERR_SENDFILE_UNSUPPORTED` on a non-SOCK_STREAM socket, or a non-blocking one with a
 *   file that cannot seek (a pipe).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a file that is not an fd, `{ fileno() }` or `{ fd }`, or a
 *   non-integer offset/count.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd or offset, or a count that is not positive.
 * @throws {SocketTimeoutError} `ETIMEDOUT` when the socket stayed unwritable for the timeout.
 * @throws {SyscallError} from sendfile(2) once bytes went out, from read(2)/lseek(2) (`ESPIPE` for an
 *   offset on a pipe), from send (`EPIPE`, ...).
 */
export function sendfileFrom(
  sock: Socket, sys: Libc, fd: number, timeoutMs: number, file: SendfileSource, offset: number, count: number | null | undefined,
): number | null {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) throw invalidArgType('offset', 'an integer', offset);
  if (offset < 0) throw outOfRange('offset', '>= 0', offset);
  const limit = count ?? 0;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit)) throw invalidArgType('count', 'a positive integer', count);
  if (count !== undefined && count !== null && limit <= 0) throw outOfRange('count', 'a positive integer', count);
  if ((sock.type & SOCK_STREAM) === 0) throw new CodedError('ERR_SENDFILE_UNSUPPORTED', 'only SOCK_STREAM type sockets are supported');
  const inFd = fdOf(file);
  const seekable = sys.lseek(inFd, 0, SEEK_CUR) >= 0;
  if (timeoutMs === 0) {
    // Bytes read from a pipe could not be given back if send() took fewer.
    if (!seekable) throw new CodedError('ERR_SENDFILE_UNSUPPORTED', 'a non-blocking socket sends only from a file that can seek');
    OFFSET[0] = BigInt(offset);
    const sent = sockCall(sys, fd, 0, POLLOUT, 'sendfile', SENDFILE, NO_BYTES, limit > 0 ? Math.min(limit, MAX_BLOCK) : MAX_BLOCK, inFd);
    if (sent === WOULD_BLOCK) return null;
    if (sent > 0) sys.lseek(inFd, offset + sent, SEEK_SET);
    return sent;
  }
  let total = 0;
  try {
    if (seekable) {
      try {
        for (;;) {
          const block = limit > 0 ? Math.min(limit - total, MAX_BLOCK) : MAX_BLOCK;
          if (block <= 0) return total;
          OFFSET[0] = BigInt(offset + total);
          const sent = sockCall(sys, fd, timeoutMs, POLLOUT, 'sendfile', SENDFILE, NO_BYTES, block, inFd);
          if (sent === 0) return total;
          total += sent;
        }
      } catch (err) {
        // As CPython: any OSError before the first byte means "use send()".
        if (total > 0 || !(err instanceof SyscallError) || (err as unknown) instanceof SocketTimeoutError) throw err;
      }
    }
    if (seekable || offset > 0) check(sys, sys.lseek(inFd, offset, SEEK_SET), 'lseek');
    const buf = Buffer.allocUnsafe(limit > 0 ? Math.min(limit, SEND_BLOCK) : SEND_BLOCK);
    for (;;) {
      const block = limit > 0 ? Math.min(limit - total, buf.length) : buf.length;
      if (block <= 0) return total;
      const n = sockCall(sys, inFd, -1, POLLIN, 'read', READ, buf, block, 0);
      if (n === 0) return total;
      try {
        sock.sendall(buf.subarray(0, n));
      } catch (err) {
        total += (err as Partial<SendallError>).bytesSent ?? 0;
        throw err;
      }
      total += n;
    }
  } finally {
    if (total > 0 && seekable) sys.lseek(inFd, offset + total, SEEK_SET);
  }
}
