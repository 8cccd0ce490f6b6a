/**
 * Socket addresses as Python writes them, and name resolution.
 *
 * Addresses are Python's tuples as arrays: `['127.0.0.1', 8080]` for
 * AF_INET, `['::1', 8080, flowinfo, scopeId]` for AF_INET6, a path for
 * AF_UNIX. This module turns them into `struct sockaddr_*` bytes (numeric
 * literals without DNS, host names through libc's getaddrinfo), turns
 * kernel sockaddrs back into them, and prints them as Python's repr.
 */

import { AF_INET, AF_INET6, AF_UNIX } from '../sys/constants.js';
import {
  SIN6_ADDR_OFFSET, SIN6_FLOWINFO_OFFSET, SIN6_PORT_OFFSET, SIN6_SCOPE_ID_OFFSET, SIN_ADDR_OFFSET,
  SIN_PORT_OFFSET, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE, SUN_PATH_OFFSET, UNIX_PATH_MAX,
  writeSockaddrIn, writeSockaddrIn6, writeSockaddrUn,
} from '../sys/structs.js';
import { libc, type Libc } from '../sys/libc.js';
import { gaiRaw, gaiRawAsync, gaiNotFound, type RawAddrInfo } from '../sys/getaddrinfo.js';
import {
  SyscallError, invalidArgType, invalidArgValue, outOfRange, type ErrorTarget,
} from '../errors.js';

/** An AF_INET address: Python's `(host, port)`. */
export type IPv4Address = [host: string, port: number];

/** An AF_INET6 address as the kernel reports it: Python's `(host, port, flowinfo, scope_id)`. */
export type IPv6Address = [host: string, port: number, flowinfo: number, scopeId: number];

/** An address of a family this module does not decode: Python's `(family, bytes)`. */
export type RawAddress = [family: number, data: Buffer];

/**
 * An address as returned by `getsockname()`, `accept()`, `recvfrom()` and
 * {@link getaddrinfo}: an {@link IPv4Address}, an {@link IPv6Address}, a
 * string AF_UNIX path (`''` for an unnamed socket), a Buffer for a Linux
 * abstract AF_UNIX name (it starts with a NUL byte, as Python returns bytes
 * for those), or a {@link RawAddress}.
 */
export type SocketAddress = IPv4Address | IPv6Address | string | Buffer | RawAddress;

/**
 * An address as `bind()`, `connect()` and `sendto()` take it:
 * `[host, port]` for AF_INET, `[host, port, flowinfo?, scopeId?]` for
 * AF_INET6, a path (string or bytes) for AF_UNIX. `host` is a numeric
 * literal, a host name (resolved with getaddrinfo), `''` for the any
 * address or `'<broadcast>'` (AF_INET only).
 */
export type Address =
  | readonly [host: string, port: number]
  | readonly [host: string, port: number, flowinfo?: number, scopeId?: number]
  | string
  | Uint8Array;

/** One getaddrinfo result: Python's `(family, type, proto, canonname, sockaddr)`. */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: SocketAddress];

function checkInt(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'an integer', value);
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw outOfRange(name, 'a 32-bit integer', value);
  return value;
}

/**
 * getaddrinfo through a given libc table (for tests with a scripted libc);
 * see {@link getaddrinfo}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a host that is not a string/null or a port that is not an integer/string/null.
 * @throws {SyscallError} `ENOTFOUND` or an `EAI_*` code when resolution fails.
 */
export function getaddrinfoWith(
  sys: Libc, host: string | null | undefined, port: number | string | null | undefined,
  family = 0, type = 0, proto = 0, flags = 0,
): AddrInfo[] {
  return gaiRaw(sys, ...gaiArgs(host, port, family, type, proto, flags)).map(toAddrInfo);
}

/** The checked arguments of a getaddrinfo call: host, service, family, type, proto, flags. */
function gaiArgs(
  host: unknown, port: unknown, family: unknown, type: unknown, proto: unknown, flags: unknown,
): [string | null, string | null, number, number, number, number] {
  if (host !== null && host !== undefined && typeof host !== 'string') throw invalidArgType('host', 'a string or null', host);
  let service: string | null = null;
  if (typeof port === 'number') {
    if (!Number.isInteger(port)) throw invalidArgType('port', 'an integer, a string or null', port);
    service = String(port);
  } else if (typeof port === 'string') {
    service = port;
  } else if (port !== null && port !== undefined) {
    throw invalidArgType('port', 'an integer, a string or null', port);
  }
  return [(host as string | null | undefined) ?? null, service, checkInt(family, 'family'), checkInt(type, 'type'), checkInt(proto, 'proto'), checkInt(flags, 'flags')];
}

function toAddrInfo(r: RawAddrInfo): AddrInfo {
  return [r.family, r.type, r.proto, r.canonname, decodeAddress(r.sockaddr, r.sockaddr.length) ?? ''];
}

/**
 * Resolve `host`/`port` with libc's getaddrinfo (Python's
 * `socket.getaddrinfo`): a list of `[family, type, proto, canonname,
 * sockaddr]`, in the resolver's order. `host` null means the loopback (or,
 * with `AI_PASSIVE`, the any) address; `port` is a number, a service name
 * or null. The call is synchronous, as in Python; {@link getaddrinfoAsync}
 * does not block Node's loop.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a host that is not a string/null or a port that is not an integer/string/null.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` when family/type/proto/flags is not a 32-bit integer.
 * @throws {SyscallError} code `ENOTFOUND` (message `getaddrinfo ENOTFOUND <host>`, `hostname` set) when the
 *   name does not resolve (EAI_NONAME/EAI_NODATA); otherwise the `EAI_*` name as `code` (`EAI_AGAIN`,
 *   `EAI_SERVICE`, ...), the negative EAI value as `errno`, gai_strerror's text as `strerror`.
 */
export function getaddrinfo(
  host: string | null | undefined, port: number | string | null | undefined,
  family = 0, type = 0, proto = 0, flags = 0,
): AddrInfo[] {
  return getaddrinfoWith(libc(), host, port, family, type, proto, flags);
}

/**
 * {@link getaddrinfo} without blocking Node's loop (asyncio's
 * `loop.getaddrinfo`): the lookup runs on libuv's threadpool, as Node's own
 * `dns.lookup` does, and resolves with the same list.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` (rejected) for a bad host or port.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` (rejected) when family/type/proto/flags is not a 32-bit integer.
 * @throws {SyscallError} (rejected) `ENOTFOUND` or an `EAI_*` code, as {@link getaddrinfo}.
 */
export async function getaddrinfoAsync(
  host: string | null | undefined, port: number | string | null | undefined,
  family = 0, type = 0, proto = 0, flags = 0,
): Promise<AddrInfo[]> {
  return (await gaiRawAsync(libc(), ...gaiArgs(host, port, family, type, proto, flags))).map(toAddrInfo);
}

/** Parse a dotted-quad IPv4 literal to a uint32, or -1 (no allocation). */
function parseIPv4(s: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

// The last IPv6 literal that inet_pton parsed, so that a sendto() loop to
// the same peer makes one libc call per datagram, not two.
let lastIn6Text = '';
const lastIn6 = Buffer.alloc(16);
const in6Scratch = Buffer.alloc(16);

function checkPort(port: unknown, name: string): number {
  if (typeof port !== 'number') throw invalidArgType(name, 'an integer port number', port);
  // Python: OverflowError("port must be 0-65535.")
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw outOfRange(name, 'an integer >= 0 and <= 65535 (port must be 0-65535)', port);
  return port;
}

function checkHost(host: unknown, name: string): string {
  if (typeof host !== 'string') throw invalidArgType(name, 'a string (an IP address or a host name)', host);
  return host;
}

/** First address of `family` that getaddrinfo gives for `host`. */
function resolveFirst(sys: Libc, host: string, family: number): Buffer {
  const list = gaiRaw(sys, host, null, family, 0, 0, 0);
  for (const r of list) if (r.family === family && r.sockaddr.length >= (family === AF_INET ? SOCKADDR_IN_SIZE : SOCKADDR_IN6_SIZE)) return r.sockaddr;
  // getaddrinfo(AF_INET/AF_INET6) never answers with another family; this is belt and braces.
  throw gaiNotFound(sys, host);
}

function unixPathError(length: number, max: number, address: unknown): RangeError {
  const err = new RangeError(`AF_UNIX path too long: ${length} bytes, at most ${max} fit in sun_path. Received ${typeof address === 'string' ? JSON.stringify(address.length > 40 ? `${address.slice(0, 37)}...` : address) : 'a buffer'}`) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/**
 * Encode `address` for a socket of `family` as a `struct sockaddr_*` into
 * `out` (at least SOCKADDR_STORAGE_SIZE, 128, bytes) and return its
 * length. Numeric literals are parsed without DNS; host names resolve with
 * getaddrinfo for that family. Nothing else is touched when it throws.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a wrong shape (not a `[host, port]` array, not a path).
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a family without address support, or `'<broadcast>'` on AF_INET6.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a port outside 0..65535 or not an integer, a flowinfo outside
 *   0..0xfffff, a scope id outside uint32, or an AF_UNIX path too long for sun_path (Python: "AF_UNIX path too long").
 * @throws {SyscallError} `ENOTFOUND`/`EAI_*` when a host name does not resolve.
 */
export function encodeAddress(family: number, address: unknown, out: Buffer, sys: Libc, name = 'address'): number {
  if (family === AF_INET) {
    if (!Array.isArray(address) || address.length !== 2) throw invalidArgType(name, 'an AF_INET [host, port] array', address);
    const host = checkHost(address[0], `${name}[0]`);
    const port = checkPort(address[1], `${name}[1]`);
    let ip: number;
    if (host === '') ip = 0;
    else if (host === '<broadcast>') ip = 0xffffffff;
    else ip = parseIPv4(host);
    if (ip < 0) ip = resolveFirst(sys, host, AF_INET).readUInt32BE(SIN_ADDR_OFFSET);
    return writeSockaddrIn(out, ip, port);
  }
  if (family === AF_INET6) {
    if (!Array.isArray(address) || address.length < 2 || address.length > 4) {
      throw invalidArgType(name, 'an AF_INET6 [host, port, flowinfo?, scopeId?] array', address);
    }
    const host = checkHost(address[0], `${name}[0]`);
    const port = checkPort(address[1], `${name}[1]`);
    const flowinfo = address[2] ?? 0;
    if (typeof flowinfo !== 'number') throw invalidArgType(`${name}[2]`, 'an integer flowinfo', flowinfo);
    // Python: OverflowError("flowinfo must be 0-1048575.")
    if (!Number.isInteger(flowinfo) || flowinfo < 0 || flowinfo > 0xfffff) throw outOfRange(`${name}[2]`, 'an integer >= 0 and <= 1048575 (flowinfo)', flowinfo);
    const scope = address[3];
    if (scope !== undefined && typeof scope !== 'number') throw invalidArgType(`${name}[3]`, 'an integer scope id', scope);
    if (scope !== undefined && (!Number.isInteger(scope) || scope < 0 || scope > 0xffffffff)) throw outOfRange(`${name}[3]`, 'an integer >= 0 and <= 4294967295 (scope id)', scope);
    if (host === '<broadcast>') throw invalidArgValue(`${name}[0]`, "is IPv4-only ('<broadcast>' on an AF_INET6 socket: address family mismatched)", host);
    let scopeId = scope ?? 0;
    let ip: Uint8Array | null = null;
    if (host === '') {
      // in6addr_any: all zero.
    } else if (host === lastIn6Text) {
      ip = lastIn6;
    } else if (sys.inet_pton(AF_INET6, host, in6Scratch) === 1) {
      in6Scratch.copy(lastIn6);
      lastIn6Text = host;
      ip = lastIn6;
    } else {
      const sa = resolveFirst(sys, host, AF_INET6);
      ip = sa.subarray(SIN6_ADDR_OFFSET, SIN6_ADDR_OFFSET + 16);
      // A scoped name ('fe80::1%lo') brings its own scope id.
      if (scope === undefined) scopeId = sa.readUInt32LE(SIN6_SCOPE_ID_OFFSET);
    }
    return writeSockaddrIn6(out, ip, port, flowinfo, scopeId);
  }
  if (family === AF_UNIX) {
    let path: Uint8Array;
    if (typeof address === 'string') path = Buffer.from(address, 'utf8');
    else if (address instanceof Uint8Array) path = address;
    else throw invalidArgType(name, 'an AF_UNIX path (a string or a Buffer)', address);
    // An abstract name (leading NUL) or '' (autobind) may fill sun_path; a
    // filesystem path needs room for its NUL terminator.
    const max = path.length === 0 || path[0] === 0 ? UNIX_PATH_MAX : UNIX_PATH_MAX - 1;
    if (path.length > max) throw unixPathError(path.length, max, address);
    return writeSockaddrUn(out, path);
  }
  throw invalidArgValue('family', 'has no address support here (AF_INET, AF_INET6 and AF_UNIX do)', family);
}

// The last IPv4 address turned into text: a server accepting connection
// after connection mostly sees the same few peers, and the text costs four
// number-to-string conversions and a concatenation per accept.
let lastIpv4 = -1;
let lastIpv4Text = '';

/** IPv4 bytes at `off` as dotted quad. */
function ipv4Text(b: Uint8Array, off: number): string {
  const key = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  if (key !== lastIpv4) {
    lastIpv4 = key;
    lastIpv4Text = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  }
  return lastIpv4Text;
}

/**
 * The 16 bytes at `off` as IPv6 text, exactly as glibc's inet_ntop writes
 * it (and so Python): lowercase, the first longest run of two or more zero
 * groups compressed to `::`, `::ffff:a.b.c.d` and `::a.b.c.d` for
 * IPv4-mapped and -compatible addresses.
 */
export function ipv6Text(b: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1; } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      s += ipv4Text(b, off + 12);
      return s;
    }
    s += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

/**
 * Decode the first `len` bytes of a kernel sockaddr (Python's
 * `makesockaddr`): AF_INET → `[host, port]`, AF_INET6 → `[host, port,
 * flowinfo, scopeId]`, AF_UNIX → the path as a string (`''` when unnamed),
 * or a Buffer for an abstract name (leading NUL byte kept); any other
 * family → `[family, bytes]`. `len` 0 → null (no address, e.g. recvfrom on a
 * connected stream).
 */
export function decodeAddress(buf: Buffer, len: number): SocketAddress | null {
  if (len > buf.length) len = buf.length;
  if (len < 2) return null;
  const family = buf.readUInt16LE(0);
  if (family === AF_INET && len >= SOCKADDR_IN_SIZE) {
    return [ipv4Text(buf, SIN_ADDR_OFFSET), buf.readUInt16BE(SIN_PORT_OFFSET)];
  }
  if (family === AF_INET6 && len >= SOCKADDR_IN6_SIZE) {
    return [ipv6Text(buf, SIN6_ADDR_OFFSET), buf.readUInt16BE(SIN6_PORT_OFFSET),
      buf.readUInt32BE(SIN6_FLOWINFO_OFFSET), buf.readUInt32LE(SIN6_SCOPE_ID_OFFSET)];
  }
  if (family === AF_UNIX) {
    if (len === SUN_PATH_OFFSET) return '';
    if (buf[SUN_PATH_OFFSET] === 0) return Buffer.from(buf.subarray(SUN_PATH_OFFSET, len));
    let end = SUN_PATH_OFFSET;
    while (end < len && buf[end] !== 0) end++;
    return buf.toString('utf8', SUN_PATH_OFFSET, end);
  }
  return [family, Buffer.from(buf.subarray(2, len))];
}

/** The address/port (or path) of an encoded sockaddr, for an error message. */
export function sockaddrTarget(buf: Buffer, len: number): ErrorTarget | undefined {
  const addr = decodeAddress(buf, len);
  if (typeof addr === 'string') return { path: addr };
  if (Buffer.isBuffer(addr)) return { path: `@${addr.toString('utf8', 1)}` };
  if (addr === null || typeof addr[0] !== 'string') return undefined;
  return { address: addr[0], port: addr[1] as number };
}

function pyQuote(hasSingle: boolean, hasDouble: boolean): string {
  return hasSingle && !hasDouble ? '"' : "'";
}

/** Python's `repr()` of a str. */
function reprStr(s: string): string {
  const q = pyQuote(s.includes("'"), s.includes('"'));
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + q;
}

/** Python's `repr()` of bytes. */
function reprBytes(b: Uint8Array): string {
  const q = pyQuote(b.includes(0x27), b.includes(0x22));
  let out = `b${q}`;
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === q.charCodeAt(0)) out += `\\${q}`;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(c);
  }
  return out + q;
}

function reprValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return reprStr(v);
  if (v instanceof Uint8Array) return reprBytes(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return v.length === 1 ? `(${reprValue(v[0])},)` : `(${v.map(reprValue).join(', ')})`;
  return String(v);
}

/**
 * An address as Python prints it (its `repr`), for transcripts that match
 * the seeds': `('127.0.0.1', 8080)`, `('::1', 8080, 0, 0)`, `'/tmp/echo.sock'`,
 * `b'\x00name'` for an abstract AF_UNIX name, `None` for null.
 */
export function formatAddress(addr: SocketAddress | Address | null | undefined): string {
  return reprValue(addr);
}

/**
 * The address family an address is written for (the `family` of
 * `new Socket(family, ...)` and of `createServer()`): AF_UNIX for a path
 * (string or bytes), AF_INET6 for `[host, port]` whose host is an IPv6
 * literal (it has a `:`), AF_INET for any other `[host, port]` (host names
 * included).
 */
export function familyOf(address: Address): number {
  if (typeof address === 'string' || address instanceof Uint8Array) return AF_UNIX;
  return typeof address[0] === 'string' && address[0].includes(':') ? AF_INET6 : AF_INET;
}
