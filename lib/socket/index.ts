/**
 * Python's module `socket` for Linux: the {@link Socket} class, the
 * functions that make sockets (`socketpair`, `createConnection`,
 * `createServer`, `fromfd`), fd passing (`sendFds`, `recvFds`,
 * `CMSG_LEN`/`CMSG_SPACE`), name resolution and address conversion
 * (`getaddrinfo`, `getnameinfo`, `gethostbyname`, `inetPton`, ...), byte
 * order, network interfaces, the default timeout, the errors a socket call
 * throws, and the module's constants.
 * The package exports this module as the subpath `node-selectors/socket`.
 */

export {
  Socket,
  socketpair,
  createConnection,
  createServer,
  getdefaulttimeout,
  setdefaulttimeout,
} from './socket.js';
export type { SocketOptions, CreateServerOptions, SendData, SendallError, AsyncOptions } from './socket.js';
export {
  IOBase, BinaryIO, Buffered, SocketIO, BufferedReader, BufferedWriter, BufferedRWPair, DEFAULT_BUFFER_SIZE,
} from './socket-io.js';
export type { BlockingWriteError } from './socket-io.js';
export { TextIOWrapper } from './text-io.js';
export type { MakefileOptions, BinaryFile } from './text-io.js';
export type { SendfileSource } from './sendfile.js';
export { getaddrinfo, getaddrinfoAsync, formatAddress, familyOf } from './address.js';
export { toNetSocket } from './net-interop.js';
export {
  fromfd, close, hasDualstackIpv6, ifNametoindex, ifIndextoname, ifNameindex, inetPton, inetNtop, inetAton,
  inetNtoa, htons, ntohs, htonl, ntohl, gethostname, gethostbyname, gethostbyaddr, getfqdn, getnameinfo,
} from './functions.js';
export { CMSG_LEN, CMSG_SPACE, sendFds, recvFds } from './msg.js';
export type { AncData, AncDataIn, RecvmsgResult, RecvmsgIntoResult } from './msg.js';
export type { Address, SocketAddress, IPv4Address, IPv6Address, RawAddress, AddrInfo } from './address.js';
export { SocketTimeoutError, SyscallError } from '../errors.js';
export * from './constants.js';
