/**
 * The module-level functions of Python's `socket` that are not about one
 * socket object: fds (`fromfd`, `close`), IPv6 support, network interfaces,
 * address conversion (`inetPton`, `inetNtop`, `inetAton`, `inetNtoa`), byte
 * order (`htons`, ...), and host names (`gethostname`, `gethostbyname`,
 * `gethostbyaddr`, `getnameinfo`, `getfqdn`). Synchronous, as in Python.
 */

import {
  AF_INET, AF_INET6, AF_UNSPEC, AI_NUMERICHOST, AI_PASSIVE, EAFNOSUPPORT, ECONNRESET, EINVAL, F_DUPFD_CLOEXEC,
  IF_NAMESIZE, IPPROTO_IPV6, IPV6_V6ONLY, NI_MAXHOST, NI_MAXSERV, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_STREAM,
} from '../sys/constants.js';
import {
  HOSTENT_SIZE, H_ADDR_LIST_OFFSET, H_ADDRTYPE_OFFSET, H_ALIASES_OFFSET, H_LENGTH_OFFSET, H_NAME_OFFSET,
  IF_INDEX_OFFSET, IF_NAMEINDEX_SIZE, IF_NAME_OFFSET, SIN6_ADDR_OFFSET, SIN_ADDR_OFFSET,
} from '../sys/structs.js';
import { libc, type Libc } from '../sys/libc.js';
import { check, errnoOf } from '../sys/call.js';
import { fail } from '../sys/check.js';
import { gaiFailure, gaiNotFound, gaiRaw } from '../sys/getaddrinfo.js';
import { SyscallError, invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import { decodeAddress } from './address.js';
import { Socket, type SocketOptions } from './socket.js';

function fdArg(fd: unknown, name = 'fd'): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd)) throw invalidArgType(name, 'an integer file descriptor', fd);
  if (fd < 0 || fd > 0x7fffffff) throw outOfRange(name, 'a file descriptor >= 0', fd);
  return fd;
}

function textArg(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'a string', value);
  // Python: ValueError("embedded null character").
  if (value.includes('\0')) throw invalidArgValue(name, 'must not contain a NUL character (embedded null character)', value);
  return value;
}

function bytesArg(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalidArgType(name, 'a Buffer or a Uint8Array', value);
}

/** An OSError without an errno in Python (e.g. an illegal address string): a SyscallError with its text. */
function osError(errno: number, syscall: string, text: string): SyscallError {
  return new SyscallError(errno, syscall, undefined, undefined, text);
}

/**
 * A Socket on a duplicate of `fd` (Python's `socket.fromfd`): the
 * duplicate is close-on-exec, `fd` itself stays open and is still the
 * caller's to close.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer fd, family, type or proto.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
 * @throws {SyscallError} `EBADF` (fd not open), `EMFILE` from the dup.
 */
export function fromfd(fd: number, family: number, type: number, proto = 0, options?: SocketOptions): Socket {
  const sys = options?.sys ?? libc();
  const nfd = check(sys, sys.fcntl(fdArg(fd), F_DUPFD_CLOEXEC, 0), 'fromfd');
  try {
    return new Socket(family, type, proto, nfd, { sys });
  } catch (err) {
    sys.close(nfd);
    throw err;
  }
}

/**
 * Close a socket fd (Python's `socket.close`). ECONNRESET is ignored, as
 * in Python (the fd is released anyway).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer fd.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative fd.
 * @throws {SyscallError} `EBADF` when the fd is not open.
 */
export function close(fd: number, options?: SocketOptions): void {
  const sys = options?.sys ?? libc();
  const errno = errnoOf(sys, sys.close(fdArg(fd)));
  if (errno !== 0 && errno !== ECONNRESET) throw new SyscallError(errno, 'close');
}

/**
 * True when this host can make an AF_INET6 stream socket that also
 * accepts IPv4 (IPV6_V6ONLY off): Python's `socket.has_dualstack_ipv6()`.
 */
export function hasDualstackIpv6(): boolean {
  const sys = libc();
  const fd = sys.socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const off = Buffer.alloc(4);
  const ok = sys.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, off, 4) === 0;
  sys.close(fd);
  return ok;
}

/**
 * The index of the network interface `name` (Python's `if_nametoindex`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-string.
 * @throws {SyscallError} `ENODEV` when there is no such interface (Python: OSError "no interface with this name",
 *   without an errno).
 */
export function ifNametoindex(name: string): number {
  const sys = libc();
  const index = sys.if_nametoindex(textArg(name, 'name'));
  if (index === 0) throw fail(sys, 'ifNametoindex', undefined);
  return index;
}

/**
 * The name of the network interface with index `index` (Python's `if_indextoname`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for an index outside 0..2**32-1 (Python: OverflowError).
 * @throws {SyscallError} `ENXIO` when there is no such interface.
 */
export function ifIndextoname(index: number): string {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw invalidArgType('index', 'an integer', index);
  if (index < 0 || index > 0xffffffff) throw outOfRange('index', 'an integer >= 0 and <= 4294967295', index);
  const sys = libc();
  const name = sys.if_indextoname(index, Buffer.alloc(IF_NAMESIZE));
  if (name === null) throw fail(sys, 'ifIndextoname', undefined);
  return name;
}

/**
 * Every network interface as `[index, name]`, in the kernel's order
 * (Python's `if_nameindex`).
 * @throws {SyscallError} from if_nameindex(3) (`ENOBUFS`, ...).
 */
export function ifNameindex(): [index: number, name: string][] {
  const sys = libc();
  const head = sys.if_nameindex();
  if (head === 0n) throw fail(sys, 'ifNameindex', undefined);
  const out: [number, string][] = [];
  try {
    for (let p = head; ; p += BigInt(IF_NAMEINDEX_SIZE)) {
      const entry = sys.peek(p, IF_NAMEINDEX_SIZE);
      const index = entry.readUInt32LE(IF_INDEX_OFFSET);
      const name = entry.readBigUInt64LE(IF_NAME_OFFSET);
      if (index === 0 && name === 0n) break;
      out.push([index, sys.peekString(name)]);
    }
  } finally {
    sys.if_freenameindex(head);
  }
  return out;
}

function packedLength(family: number): number {
  if (family === AF_INET) return 4;
  if (family === AF_INET6) return 16;
  return -1;
}

/**
 * The packed (network-order) bytes of an IP address string of `family`
 * (Python's `inet_pton`): 4 bytes for AF_INET (dotted quad only), 16 for
 * AF_INET6.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer family or a non-string address.
 * @throws {SyscallError} `EINVAL` (strerror "illegal IP address string passed to inet_pton") for a
 *   malformed address; `EAFNOSUPPORT` for another family (both Python's OSError).
 */
export function inetPton(family: number, ipString: string): Buffer {
  if (typeof family !== 'number' || !Number.isInteger(family)) throw invalidArgType('family', 'an integer', family);
  const text = textArg(ipString, 'ipString');
  const len = packedLength(family);
  if (len < 0) throw new SyscallError(EAFNOSUPPORT, 'inetPton');
  const out = Buffer.alloc(16);
  if (libc().inet_pton(family, text, out) !== 1) throw osError(EINVAL, 'inetPton', 'illegal IP address string passed to inet_pton');
  return out.subarray(0, len);
}

/**
 * The text of a packed IP address of `family` (Python's `inet_ntop`), as
 * glibc writes it (IPv6 compressed, lowercase).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer family or non-bytes;
 *   `ERR_INVALID_ARG_VALUE` for an unknown family or bytes of the wrong length
 *   (Python's ValueError "invalid length of packed IP address string").
 */
export function inetNtop(family: number, packedIp: Uint8Array): string {
  if (typeof family !== 'number' || !Number.isInteger(family)) throw invalidArgType('family', 'an integer', family);
  const bytes = bytesArg(packedIp, 'packedIp');
  const len = packedLength(family);
  if (len < 0) throw invalidArgValue('family', `is not AF_INET or AF_INET6 (unknown address family ${family})`, family);
  if (bytes.byteLength !== len) throw invalidArgValue('packedIp', `must be ${len} bytes long (invalid length of packed IP address string)`, bytes);
  const sys = libc();
  const text = sys.inet_ntop(family, bytes, Buffer.alloc(64), 64);
  if (text === null) throw fail(sys, 'inetNtop', undefined);
  return text;
}

/**
 * The 4 packed bytes of an IPv4 address in any form inet_aton(3) accepts
 * (`'127.1'`, `'0x7f.1'`, `'2130706433'`): Python's `inet_aton`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-string.
 * @throws {SyscallError} `EINVAL` (strerror "illegal IP address string passed to inet_aton"; Python's OSError).
 */
export function inetAton(ipString: string): Buffer {
  const out = Buffer.alloc(4);
  if (libc().inet_aton(textArg(ipString, 'ipString'), out) === 0) throw osError(EINVAL, 'inetAton', 'illegal IP address string passed to inet_aton');
  return out;
}

/**
 * The dotted quad of 4 packed bytes (Python's `inet_ntoa`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for non-bytes.
 * @throws {SyscallError} `EINVAL` (strerror "packed IP wrong length for inet_ntoa"; Python's OSError) unless 4 bytes.
 */
export function inetNtoa(packedIp: Uint8Array): string {
  const b = bytesArg(packedIp, 'packedIp');
  if (b.byteLength !== 4) throw osError(EINVAL, 'inetNtoa', 'packed IP wrong length for inet_ntoa');
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function uintArg(x: unknown, name: string, max: number, bits: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw invalidArgType(name, 'an integer', x);
  // Python: OverflowError for negative or too large values.
  if (x < 0 || x > max) throw outOfRange(name, `an integer >= 0 and <= ${max} (a C ${bits}-bit unsigned integer)`, x);
  return x;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * A 16-bit integer from host to network byte order (Python's `htons`; a
 * byte swap on the little-endian machines this runs on).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` outside 0..65535 (Python: OverflowError).
 */
export function htons(x: number): number {
  return swap16(uintArg(x, 'x', 0xffff, 16));
}

/**
 * A 16-bit integer from network to host byte order (Python's `ntohs`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` outside 0..65535 (Python: OverflowError).
 */
export function ntohs(x: number): number {
  return swap16(uintArg(x, 'x', 0xffff, 16));
}

/**
 * A 32-bit integer from host to network byte order (Python's `htonl`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` outside 0..2**32-1 (Python: OverflowError).
 */
export function htonl(x: number): number {
  return swap32(uintArg(x, 'x', 0xffffffff, 32));
}

/**
 * A 32-bit integer from network to host byte order (Python's `ntohl`).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-integer.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` outside 0..2**32-1 (Python: OverflowError).
 */
export function ntohl(x: number): number {
  return swap32(uintArg(x, 'x', 0xffffffff, 32));
}

/**
 * This host's name (Python's `gethostname`).
 * @throws {SyscallError} from gethostname(2) (practically never).
 */
export function gethostname(): string {
  const sys = libc();
  const buf = Buffer.alloc(1025);
  check(sys, sys.gethostname(buf, buf.length - 1), 'gethostname');
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/**
 * Python's `setipaddr`: the address a host name stands for, in `family`
 * (AF_UNSPEC: the first of either): `''` the any address, `'<broadcast>'`
 * the broadcast address, numeric literals without DNS, names through
 * getaddrinfo.
 */
function hostAddress(sys: Libc, name: string, family: number): { family: number; bytes: Buffer } {
  if (name === '') {
    const [first] = gaiRaw(sys, null, '0', family, SOCK_DGRAM, 0, AI_PASSIVE);
    return addressBytes(sys, first.sockaddr, name);
  }
  if ((name === '<broadcast>' || name === '255.255.255.255') && family !== AF_INET6) {
    return { family: AF_INET, bytes: Buffer.from([255, 255, 255, 255]) };
  }
  const b = Buffer.alloc(16);
  if (family !== AF_INET6 && sys.inet_pton(AF_INET, name, b) === 1) return { family: AF_INET, bytes: b.subarray(0, 4) };
  if (family !== AF_INET && sys.inet_pton(AF_INET6, name, b) === 1) return { family: AF_INET6, bytes: b };
  const list = gaiRaw(sys, name, null, family, 0, 0, 0);
  if (list.length === 0) throw gaiNotFound(sys, name);
  return addressBytes(sys, list[0].sockaddr, name);
}

function addressBytes(sys: Libc, sa: Buffer, name: string): { family: number; bytes: Buffer } {
  const family = sa.length >= 2 ? sa.readUInt16LE(0) : AF_UNSPEC;
  if (family === AF_INET) return { family, bytes: sa.subarray(SIN_ADDR_OFFSET, SIN_ADDR_OFFSET + 4) };
  if (family === AF_INET6) return { family, bytes: sa.subarray(SIN6_ADDR_OFFSET, SIN6_ADDR_OFFSET + 16) };
  throw gaiNotFound(sys, name);
}

/**
 * The IPv4 address of `hostname` as a dotted quad (Python's
 * `gethostbyname`): numeric literals as they are, `''` → `'0.0.0.0'`,
 * names through getaddrinfo (the first AF_INET answer).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-string.
 * @throws {SyscallError} `ENOTFOUND` or an `EAI_*` code (Python's gaierror).
 */
export function gethostbyname(hostname: string): string {
  const { bytes } = hostAddress(libc(), textArg(hostname, 'hostname'), AF_INET);
  return inetNtoa(bytes);
}

// h_errno values of <netdb.h>.
const HOST_NOT_FOUND = 1;
const TRY_AGAIN = 2;
const ERANGE = 34;

function readPointers(sys: Libc, array: bigint): bigint[] {
  const out: bigint[] = [];
  if (array === 0n) return out;
  for (let p = array; ; p += 8n) {
    const ptr = sys.peek(p, 8).readBigUInt64LE(0);
    if (ptr === 0n) return out;
    out.push(ptr);
  }
}

/**
 * The host name, aliases and addresses of `ipAddress` (an address or a
 * host name, resolved first) through the reverse lookup of the system
 * resolver (`/etc/hosts`, DNS): Python's `gethostbyaddr` →
 * `[hostname, aliases, addresses]`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-string.
 * @throws {SyscallError} `ENOTFOUND` (Python's herror "Unknown host") when the address has no name,
 *   `EAI_AGAIN` when the resolver should be asked again later, `EAI_FAIL` otherwise; `ENOTFOUND`/`EAI_*`
 *   when a host name given does not resolve.
 */
export function gethostbyaddr(ipAddress: string): [hostname: string, aliases: string[], addresses: string[]] {
  const sys = libc();
  const name = textArg(ipAddress, 'ipAddress');
  const { family, bytes } = hostAddress(sys, name, AF_UNSPEC);
  const ret = Buffer.alloc(HOSTENT_SIZE);
  const result = new BigUint64Array(1);
  const herrno = new Int32Array(1);
  let buf = Buffer.alloc(16 * 1024);
  let rc: number;
  while ((rc = sys.gethostbyaddr_r(bytes, bytes.length, family, ret, buf, buf.length, result, herrno)) === ERANGE) {
    buf = Buffer.alloc(buf.length * 2);
  }
  if (rc !== 0 || result[0] === 0n) {
    const h = herrno[0];
    const code = h === HOST_NOT_FOUND || h === 4 ? 'ENOTFOUND' : h === TRY_AGAIN ? 'EAI_AGAIN' : 'EAI_FAIL';
    throw new SyscallError(h, 'gethostbyaddr', { hostname: name }, code, h === HOST_NOT_FOUND ? 'Unknown host' : 'Host name lookup failure');
  }
  const addrtype = ret.readInt32LE(H_ADDRTYPE_OFFSET);
  const length = ret.readInt32LE(H_LENGTH_OFFSET);
  const hostname = sys.peekString(ret.readBigUInt64LE(H_NAME_OFFSET));
  const aliases = readPointers(sys, ret.readBigUInt64LE(H_ALIASES_OFFSET)).map((p) => sys.peekString(p));
  const addresses = readPointers(sys, ret.readBigUInt64LE(H_ADDR_LIST_OFFSET)).map((p) => inetNtop(addrtype, sys.peek(p, length)));
  return [hostname, aliases, addresses];
}

/**
 * A fully qualified name for `name` (Python's `getfqdn`): `''`,
 * `'0.0.0.0'` and `'::'` mean this host; the reverse lookup's host name,
 * or the first of its aliases that has a dot; `name` itself when the
 * lookup fails.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a non-string.
 */
export function getfqdn(name = ''): string {
  let n = textArg(name, 'name').trim();
  if (n === '' || n === '0.0.0.0' || n === '::') n = gethostname();
  try {
    const [hostname, aliases] = gethostbyaddr(n);
    return [hostname, ...aliases].find((a) => a.includes('.')) ?? hostname;
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    return n;
  }
}

/**
 * The host and port names of a numeric socket address (Python's
 * `getnameinfo`): `sockaddr` is `[host, port]` or `[host, port, flowinfo,
 * scopeId]` with a numeric host; `flags` are NI_* (NI_NUMERICHOST,
 * NI_NUMERICSERV, NI_NAMEREQD, NI_DGRAM, ...). Returns `[host, port]`, the
 * port as a string (a service name unless NI_NUMERICSERV).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a sockaddr that is not such an array.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a port outside int32 or a flowinfo outside 0..0xfffff.
 * @throws {SyscallError} `ENOTFOUND`/`EAI_*` (Python's gaierror): a host that is not numeric
 *   (`EAI_NONAME`), a name required and not found, ...; `EINVAL` for an IPv4 sockaddr with more than 2
 *   items (Python's OSError "IPv4 sockaddr must be 2 tuple").
 */
export function getnameinfo(sockaddr: readonly [string, number, number?, number?], flags: number): [host: string, port: string] {
  if (!Array.isArray(sockaddr) || sockaddr.length < 2 || sockaddr.length > 4) {
    throw invalidArgType('sockaddr', 'a [host, port, flowinfo?, scopeId?] array', sockaddr);
  }
  const host = textArg(sockaddr[0], 'sockaddr[0]');
  const port = sockaddr[1];
  // As Python: any C int, handed to getaddrinfo as a service string (which wraps it to 16 bits).
  if (typeof port !== 'number' || !Number.isInteger(port)) throw invalidArgType('sockaddr[1]', 'an integer port', port);
  if ((port | 0) !== port) throw outOfRange('sockaddr[1]', 'a 32-bit integer', port);
  const flowinfo = sockaddr[2] === undefined ? 0 : uintArg(sockaddr[2], 'sockaddr[2]', 0xfffff, 20);
  const scopeId = sockaddr[3] === undefined ? 0 : uintArg(sockaddr[3], 'sockaddr[3]', 0xffffffff, 32);
  if (typeof flags !== 'number' || (flags | 0) !== flags) throw invalidArgType('flags', 'an integer', flags);
  const sys = libc();
  const list = gaiRaw(sys, host, String(port), AF_UNSPEC, SOCK_DGRAM, 0, AI_NUMERICHOST);
  if (list.length !== 1) throw osError(EINVAL, 'getnameinfo', 'sockaddr resolved to multiple addresses');
  const sa = Buffer.from(list[0].sockaddr);
  const decoded = decodeAddress(sa, sa.length);
  if (Array.isArray(decoded) && decoded.length === 2 && sockaddr.length !== 2) {
    throw osError(EINVAL, 'getnameinfo', 'IPv4 sockaddr must be 2 tuple');
  }
  if (sa.readUInt16LE(0) === AF_INET6) {
    sa.writeUInt32BE(flowinfo, 4);
    sa.writeUInt32LE(scopeId, 24);
  }
  const hbuf = Buffer.alloc(NI_MAXHOST);
  const sbuf = Buffer.alloc(NI_MAXSERV);
  const rc = sys.getnameinfo(sa, sa.length, hbuf, hbuf.length, sbuf, sbuf.length, flags);
  if (rc !== 0) throw gaiFailure(sys, rc, 'getnameinfo', host);
  const text = (b: Buffer): string => b.toString('utf8', 0, Math.max(0, b.indexOf(0)));
  return [text(hbuf), text(sbuf)];
}
