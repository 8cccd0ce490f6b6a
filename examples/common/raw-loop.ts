/**
 * Helpers shared by the programs that drive the `select` module directly
 * (the epoll howto of seed 000 and the select/poll/epoll servers of seed
 * 003): `[host] [port]` arguments, the "listening on" line, and `--trace` lines that name the raw event bits
 * (EPOLLIN|EPOLLHUP, POLLIN, READ/WRITE/EXCEPTIONAL) instead of a
 * selector's EVENT_READ/EVENT_WRITE.
 */

import {
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDHUP,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  formatAddress,
  type Socket,
  type SocketAddress,
} from '../../lib/index.js';
import type { ProgramContext } from './program.js';

/** `[host] [port]` with defaults: returns the host and the checked port. */
export function hostAndPort(ctx: ProgramContext, defaultHost: string, defaultPort: number): [string, number] {
  const [host = defaultHost, portText] = ctx.args;
  return [host, portText === undefined ? defaultPort : ctx.port(portText)];
}

/**
 * Print `listening on ('127.0.0.1', 8080)` with the port the kernel really
 * chose (port 0 asks for a free one: tests rely on this line).
 */
export function printListening(sock: Socket, host: string): void {
  const port = sock.getsockname()[1] as number;
  console.log('listening on', formatAddress([host, port]));
}

const EPOLL_NAMES: Array<[number, string]> = [
  [EPOLLIN, 'EPOLLIN'],
  [EPOLLPRI, 'EPOLLPRI'],
  [EPOLLOUT, 'EPOLLOUT'],
  [EPOLLERR, 'EPOLLERR'],
  [EPOLLHUP, 'EPOLLHUP'],
  [EPOLLRDHUP, 'EPOLLRDHUP'],
  [EPOLLONESHOT, 'EPOLLONESHOT'],
  [EPOLLET, 'EPOLLET'],
];

const POLL_NAMES: Array<[number, string]> = [
  [POLLIN, 'POLLIN'],
  [POLLPRI, 'POLLPRI'],
  [POLLOUT, 'POLLOUT'],
  [POLLERR, 'POLLERR'],
  [POLLHUP, 'POLLHUP'],
  [POLLNVAL, 'POLLNVAL'],
];

function names(mask: number, table: Array<[number, string]>): string {
  const out = table.filter(([bit]) => (mask & bit) >>> 0 === bit >>> 0).map(([, name]) => name);
  return out.length === 0 ? '0' : out.join('|');
}

/** `EPOLLIN|EPOLLHUP` for an epoll event mask. */
export function epollEventNames(mask: number): string {
  return names(mask, EPOLL_NAMES);
}

/** `POLLIN|POLLHUP` for a poll event mask. */
export function pollEventNames(mask: number): string {
  return names(mask, POLL_NAMES);
}

/**
 * `--trace`: print one readiness event as the loop dispatches it, in the
 * format of the selector programs (`trace: fd 7 ('127.0.0.1', 50312)
 * EPOLLIN`), with the raw event names.
 */
export function traceEvent(ctx: ProgramContext, fd: number, peer: SocketAddress | string | undefined, events: string): void {
  if (ctx.flags.trace !== true) return;
  const who = peer === undefined ? '' : ` ${typeof peer === 'string' ? peer : formatAddress(peer)}`;
  console.log(`trace: fd ${fd}${who} ${events}`);
}
