/**
 * Handing a socket over to Node's `net` module, so that what Node builds
 * on streams (`node:tls`, `stream.pipeline`, HTTP parsers) can run on a
 * connection this library made.
 */

import { Socket as NetSocket } from 'node:net';
import { SyscallError, invalidArgValue } from '../errors.js';
import { EBADF, SOCK_STREAM } from '../sys/constants.js';
import type { Socket } from './socket.js';

/**
 * A `node:net` Socket on `sock`'s connection. Ownership moves: `sock` is
 * detached (closed, as after `detach()`, with any `*Async` wait on it
 * rejected) and the fd now belongs to the returned stream, which closes it
 * when destroyed. Use the stream only from then on; Node makes the fd
 * non-blocking and reads it in its own loop.
 *
 * ```ts
 * import { connect } from 'node:tls';
 * const tlsSocket = connect({ socket: toNetSocket(sock), servername: 'example.org' });
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a socket that is not `SOCK_STREAM`.
 * @throws {SyscallError} `EBADF` for a closed socket.
 */
export function toNetSocket(sock: Socket): NetSocket {
  if (sock.closed) throw new SyscallError(EBADF, 'toNetSocket');
  if (sock.type !== SOCK_STREAM) throw invalidArgValue('sock', 'must be a SOCK_STREAM socket (node:net streams only)', sock.type);
  return new NetSocket({ fd: sock.detach(), readable: true, writable: true });
}
