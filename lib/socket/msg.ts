/**
 * sendmsg(2)/recvmsg(2) for {@link Socket}: scatter/gather buffers,
 * ancillary data (control messages), and Python's `CMSG_LEN`/`CMSG_SPACE`.
 * The `struct msghdr` and its iovec array are laid out in Buffers
 * (structs.ts) with the buffers' addresses from {@link Libc.addressOf}; the
 * call itself goes through `sockCall` like every other socket call, the
 * msghdr passed as its buffer.
 */

import { MSG_CMSG_CLOEXEC, MSG_NOSIGNAL, POLLIN, POLLOUT, SCM_RIGHTS, SOL_SOCKET } from '../sys/constants.js';
import {
  CMSGHDR_SIZE, IOVEC_SIZE, MSGHDR_SIZE, MSG_CONTROLLEN_OFFSET, MSG_FLAGS_OFFSET, MSG_NAMELEN_OFFSET,
  SOCKADDR_STORAGE_SIZE, cmsgAlign, readCmsgs, writeCmsg, writeIovec, writeMsghdr,
} from '../sys/structs.js';
import type { Libc } from '../sys/libc.js';
import { WOULD_BLOCK, sockCall, type DataCall } from '../sys/call.js';
import { invalidArgType, outOfRange } from '../errors.js';
import { decodeAddress, encodeAddress, sockaddrTarget, type Address, type SocketAddress } from './address.js';

/** One control message: Python's `(cmsg_level, cmsg_type, cmsg_data)`. */
export type AncData = [level: number, type: number, data: Buffer];

/** A control message to send: level, type and its data bytes (an `Int32Array` of fds for SCM_RIGHTS). */
export type AncDataIn = readonly [level: number, type: number, data: Uint8Array | ArrayBufferView];

/** What `recvmsg()` returns: Python's `(data, ancdata, msg_flags, address)`. */
export type RecvmsgResult = [data: Buffer, ancdata: AncData[], msgFlags: number, address: SocketAddress | null];

/** What `recvmsgInto()` returns: Python's `(nbytes, ancdata, msg_flags, address)`. */
export type RecvmsgIntoResult = [nbytes: number, ancdata: AncData[], msgFlags: number, address: SocketAddress | null];

// Scratch memory for one call at a time (the calls are synchronous). Made
// with allocUnsafeSlow: its own off-heap ArrayBuffer, so the addresses
// written into the msghdr stay valid.
const MSG = Buffer.allocUnsafeSlow(MSGHDR_SIZE);
const NAME = Buffer.allocUnsafeSlow(SOCKADDR_STORAGE_SIZE);
let iovs = Buffer.allocUnsafeSlow(8 * IOVEC_SIZE);

// The msghdr calls as sockCall() makes them: `buf` is the msghdr, `len`
// the control buffer's size (recvmsg resets what the kernel overwrote).
const SENDMSG: DataCall = (sys, fd, msg, _len, flags) => sys.sendmsg(fd, msg, flags);
const RECVMSG: DataCall = (sys, fd, msg, controllen, flags) => {
  const m = msg as Buffer;
  m.writeUInt32LE(SOCKADDR_STORAGE_SIZE, MSG_NAMELEN_OFFSET);
  m.writeUInt32LE(controllen, MSG_CONTROLLEN_OFFSET);
  m.writeUInt32LE(0, MSG_CONTROLLEN_OFFSET + 4);
  return sys.recvmsg(fd, msg, flags);
};

/** The socket state a msghdr call needs (what {@link Socket} passes in). */
export interface MsgTarget {
  sys: Libc;
  fd: number;
  family: number;
  timeoutMs: number;
}

function cmsgLength(length: unknown, name: string, space: boolean): number {
  if (typeof length !== 'number') throw invalidArgType(name, 'an integer', length);
  const max = 0x7fffffff - CMSGHDR_SIZE - 7;
  // Python: OverflowError("CMSG_LEN() argument out of range").
  if (!Number.isInteger(length) || length < 0 || length > max) {
    throw outOfRange(name, `an integer >= 0 and <= ${max} (${space ? 'CMSG_SPACE' : 'CMSG_LEN'}() argument out of range)`, length);
  }
  return length;
}

/**
 * The total length of a control message carrying `length` bytes of data,
 * without the trailing padding (Python's `socket.CMSG_LEN`): the
 * `ancbufsize` that receives exactly one item of that size.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative, fractional or too large length.
 */
export function CMSG_LEN(length: number): number {
  return CMSGHDR_SIZE + cmsgLength(length, 'length', false);
}

/**
 * The buffer space a control message carrying `length` bytes of data takes,
 * padding included (Python's `socket.CMSG_SPACE`): sum these to size an
 * `ancbufsize` for several items.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-number.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative, fractional or too large length.
 */
export function CMSG_SPACE(length: number): number {
  return cmsgAlign(CMSGHDR_SIZE + cmsgLength(length, 'length', true));
}

function bytesOf(data: unknown, name: string, strings: boolean): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (strings && typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgType(name, strings ? 'a Buffer, a Uint8Array or a string' : 'a Buffer, a Uint8Array or another ArrayBufferView', data);
}

function listOf(value: unknown, name: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object' && Symbol.iterator in value) return [...(value as Iterable<unknown>)];
  throw invalidArgType(name, 'an array', value);
}

function intOf(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'an integer', value);
  if ((value | 0) !== value) throw outOfRange(name, 'a 32-bit integer', value);
  return value;
}

/** Fill the iovec array for `bufs`; returns its address. */
function iovecFor(sys: Libc, bufs: Uint8Array[]): bigint {
  if (iovs.length < bufs.length * IOVEC_SIZE) iovs = Buffer.allocUnsafeSlow(bufs.length * 2 * IOVEC_SIZE);
  for (let i = 0; i < bufs.length; i++) {
    const b = bufs[i];
    writeIovec(iovs, i, b.byteLength === 0 ? 0n : sys.addressOf(b), b.byteLength);
  }
  return bufs.length === 0 ? 0n : sys.addressOf(iovs);
}

/**
 * sendmsg(2) on `t` (see `Socket.sendmsg`): the bytes sent, or null when
 * non-blocking and it would block.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for buffers/ancdata of the wrong shape.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for flags or a level/type outside int32.
 * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
 * @throws {SyscallError} the errno of sendmsg(2).
 */
export function sendmsgOn(t: MsgTarget, buffers: unknown, ancdata: unknown, flags: unknown, address: unknown, syscall: string): number | null {
  const bufs = listOf(buffers, 'buffers').map((b, i) => bytesOf(b, `buffers[${i}]`, true));
  const items = ancdata === undefined || ancdata === null ? [] : listOf(ancdata, 'ancdata');
  const f = intOf(flags ?? 0, 'flags') | MSG_NOSIGNAL;
  let space = 0;
  let last = 0;
  const parsed = items.map((item, i): [number, number, Uint8Array] => {
    if (!Array.isArray(item) || item.length !== 3) throw invalidArgType(`ancdata[${i}]`, 'a [level, type, data] array', item);
    const data = bytesOf(item[2], `ancdata[${i}][2]`, false);
    last = space + CMSGHDR_SIZE + data.byteLength;
    space += cmsgAlign(CMSGHDR_SIZE + data.byteLength);
    return [intOf(item[0], `ancdata[${i}][0]`), intOf(item[1], `ancdata[${i}][1]`), data];
  });
  const { sys } = t;
  let namelen = 0;
  if (address !== undefined && address !== null) namelen = encodeAddress(t.family, address, NAME, sys);
  let control: Buffer | null = null;
  if (parsed.length > 0) {
    control = Buffer.allocUnsafeSlow(space).fill(0);
    let off = 0;
    for (const [level, type, data] of parsed) off = writeCmsg(control, off, level, type, data);
  }
  // As CPython: the last item's padding is not counted in msg_controllen.
  writeMsghdr(MSG, namelen === 0 ? 0n : sys.addressOf(NAME), namelen, iovecFor(sys, bufs), bufs.length,
    control === null ? 0n : sys.addressOf(control), last);
  const target = namelen === 0 ? undefined : () => sockaddrTarget(NAME, namelen);
  const r = sockCall(sys, t.fd, t.timeoutMs, POLLOUT, syscall, SENDMSG, MSG, 0, f, target);
  return r === WOULD_BLOCK ? null : r;
}

/**
 * recvmsg(2) on `t` into `bufs` (see `Socket.recvmsg`): the count, the
 * control messages, msg_flags and the sender, or null when non-blocking
 * and nothing is there. Received fds are close-on-exec (MSG_CMSG_CLOEXEC).
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative ancbufsize or flags outside int32.
 * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
 * @throws {SyscallError} the errno of recvmsg(2).
 */
export function recvmsgOn(t: MsgTarget, bufs: Uint8Array[], ancbufsize: unknown, flags: unknown, syscall: string): RecvmsgIntoResult | null {
  const anc = intOf(ancbufsize ?? 0, 'ancbufsize');
  // Python: ValueError("negative buffer size in recvmsg()").
  if (anc < 0) throw outOfRange('ancbufsize', '>= 0 (negative buffer size in recvmsg())', anc);
  const f = intOf(flags ?? 0, 'flags');
  const { sys } = t;
  const control = anc === 0 ? null : Buffer.allocUnsafeSlow(anc).fill(0);
  writeMsghdr(MSG, sys.addressOf(NAME), SOCKADDR_STORAGE_SIZE, iovecFor(sys, bufs), bufs.length,
    control === null ? 0n : sys.addressOf(control), anc);
  const r = sockCall(sys, t.fd, t.timeoutMs, POLLIN, syscall, RECVMSG, MSG, anc, f | MSG_CMSG_CLOEXEC);
  if (r === WOULD_BLOCK) return null;
  const controllen = Number(MSG.readBigUInt64LE(MSG_CONTROLLEN_OFFSET));
  // The kernel echoes MSG_CMSG_CLOEXEC in msg_flags; report only what Python would.
  let msgFlags = MSG.readInt32LE(MSG_FLAGS_OFFSET);
  if ((f & MSG_CMSG_CLOEXEC) === 0) msgFlags &= ~MSG_CMSG_CLOEXEC;
  return [r, control === null ? [] : readCmsgs(control, controllen), msgFlags,
    decodeAddress(NAME, MSG.readUInt32LE(MSG_NAMELEN_OFFSET))];
}

/**
 * The writable views of `buffers` for recvmsgInto.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `buffers` is not an array (or iterable) of Uint8Array/ArrayBufferView.
 */
export function writableList(buffers: unknown): Uint8Array[] {
  return listOf(buffers, 'buffers').map((b, i) => bytesOf(b, `buffers[${i}]`, false));
}

/** The part of Socket that {@link sendFds}/{@link recvFds} use. */
interface MsgSocket {
  sendmsg(buffers: readonly (Uint8Array | string)[], ancdata?: readonly AncDataIn[], flags?: number, address?: Address | null): number | null;
  recvmsg(bufsize: number, ancbufsize?: number, flags?: number): RecvmsgResult | null;
}

/**
 * Send `buffers` with the open file descriptors `fds` as one SCM_RIGHTS
 * message (Python's `socket.send_fds`) over an AF_UNIX socket; the
 * receiver gets its own copies of the fds (its numbers differ). Returns
 * the bytes sent, or null when non-blocking and it would block. At least
 * one byte of data should go with the fds: a stream receiver may never see
 * fds sent with no data.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for fds that are not an array of integers, or bad buffers.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for an fd outside int32.
 * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
 * @throws {SyscallError} `EBADF` (an fd is not open), `ETOOMANYREFS`, `EPIPE`... from sendmsg(2).
 */
export function sendFds(
  sock: MsgSocket, buffers: readonly (Uint8Array | string)[], fds: readonly number[],
  flags = 0, address: Address | null = null,
): number | null {
  const list = listOf(fds, 'fds');
  const data = new Int32Array(list.length);
  list.forEach((fd, i) => { data[i] = intOf(fd, `fds[${i}]`); });
  return sock.sendmsg(buffers, [[SOL_SOCKET, SCM_RIGHTS, data]], flags, address);
}

/**
 * Receive up to `bufsize` bytes and up to `maxfds` file descriptors
 * (Python's `socket.recv_fds`): `[data, fds, msgFlags, address]`, or null
 * when non-blocking and nothing is there. The fds are new in this process
 * and close-on-exec (MSG_CMSG_CLOEXEC); the caller owns them (wrap one
 * with `new Socket(null, null, null, fd)` or close it). More fds than
 * `maxfds` are closed by the kernel and flagged with MSG_CTRUNC.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for non-number arguments.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative bufsize or maxfds.
 * @throws {SocketTimeoutError} `ETIMEDOUT` in timeout mode.
 * @throws {SyscallError} the errno of recvmsg(2).
 */
export function recvFds(sock: MsgSocket, bufsize: number, maxfds: number, flags = 0): [data: Buffer, fds: number[], msgFlags: number, address: SocketAddress | null] | null {
  const n = intOf(maxfds, 'maxfds');
  if (n < 0) throw outOfRange('maxfds', '>= 0', n);
  const r = sock.recvmsg(bufsize, CMSG_LEN(n * 4), flags);
  if (r === null) return null;
  const [data, ancdata, msgFlags, address] = r;
  const fds: number[] = [];
  for (const [level, type, bytes] of ancdata) {
    if (level !== SOL_SOCKET || type !== SCM_RIGHTS) continue;
    // Whole ints only, as Python.
    for (let off = 0; off + 4 <= bytes.length; off += 4) fds.push(bytes.readInt32LE(off));
  }
  return [data, fds, msgFlags, address];
}
