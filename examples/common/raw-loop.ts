/**
 * Helpers shared by the programs that drive the `select` module directly
 * (the epoll howto of seed 000 and the select/poll/epoll servers of seed
 * 003): `[host] [port]` arguments, the "listening on" line, and `--trace` lines that name the raw event bits
 * (EPOLLIN|EPOLLHUP, POLLIN, READ/WRITE/EXCEPTIONAL) instead of a
 * selector's EVENT_READ/EVENT_WRITE; and what every server loop does at
 * the limits: pause accepting when fds run out ({@link AcceptPause},
 * {@link acceptBlocking}) and refuse a connection select() cannot watch
 * ({@link refuseUnselectable}).
 */

import {
  EPOLLERR,
  FD_SETSIZE,
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
  SyscallError,
  formatAddress,
  select,
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

/**
 * accept() errors that mean the process (EMFILE), the system (ENFILE) or
 * the kernel's memory (ENOBUFS, ENOMEM) is out of what a new connection
 * needs. The connection stays in the listen backlog, so the listening
 * socket stays readable: a loop that goes on watching it would be woken
 * at once, fail again, and spin at 100% CPU.
 */
export const OUT_OF_FDS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/** How long the first pause lasts, and the longest one (it doubles while accept() keeps failing). */
const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 1000;
/** The "out of file descriptors" line is printed at most this often. */
const REPORT_EVERY_MS = 10_000;

/**
 * What a server loop does when accept() fails for lack of fds: stop
 * watching the listening socket for a while, instead of being woken for
 * the same pending connection again and again. The loop asks
 * {@link AcceptPause.failed} whether an accept() error is such a failure
 * (if so, it unregisters the listening socket, or leaves it out of its
 * select() lists); it caps its wait with {@link AcceptPause.timeout}; and
 * when {@link AcceptPause.due} says so, it watches the socket again and
 * retries. The pause starts at 100 ms and doubles up to 1 s while the
 * retries keep failing; a connection that closes frees an fd, so
 * {@link AcceptPause.fdFreed} ends the pause at once. One line is printed
 * when it starts (then at most one every 10 s), not one per attempt.
 */
export class AcceptPause {
  #until = 0;
  #nextMs = FIRST_PAUSE_MS;
  #lastReport = -Infinity;

  /**
   * accept() threw `err`: if it is EMFILE & co, start a pause (print
   * one line) and return true: the loop must stop watching the listening
   * socket now. Any other error gives false.
   */
  failed(err: { code?: unknown; message: string }): boolean {
    if (typeof err.code !== 'string' || !OUT_OF_FDS.has(err.code)) return false;
    const now = performance.now();
    const ms = this.#nextMs;
    this.#until = now + ms;
    this.#nextMs = Math.min(LONGEST_PAUSE_MS, ms * 2);
    if (now - this.#lastReport >= REPORT_EVERY_MS) {
      this.#lastReport = now;
      console.log(`out of file descriptors (${err.code}): pausing accept for ${ms} ms, retrying up to every ${LONGEST_PAUSE_MS} ms`);
    }
    return true;
  }

  /** accept() gave a connection: the next shortage starts with a short pause again. */
  accepted(): void {
    this.#nextMs = FIRST_PAUSE_MS;
  }

  /** Whether accepting is paused (the listening socket is not watched). */
  get paused(): boolean {
    return this.#until !== 0;
  }

  /** A connection was closed: an fd is free, so end the pause at the next {@link AcceptPause.due}. */
  fdFreed(): void {
    if (this.#until !== 0) this.#until = 1;
  }

  /**
   * Whether the pause is over: true once, when the loop should watch the
   * listening socket again (and accept).
   */
  due(): boolean {
    if (this.#until === 0 || performance.now() < this.#until) return false;
    this.#until = 0;
    return true;
  }

  /**
   * How long the loop may wait, in seconds: `wanted` (null = no limit)
   * capped by the time left in the pause.
   */
  timeout(wanted: number | null): number | null {
    if (this.#until === 0) return wanted;
    const left = Math.max(0, (this.#until - performance.now()) / 1000);
    return wanted === null ? left : Math.min(wanted, left);
  }
}

/**
 * select() watches fds below FD_SETSIZE (1024) only. A connection that got
 * a higher fd cannot be put in its lists (select.select would throw): close
 * it with one line and return true, so that the loop skips it and serves
 * everyone else.
 */
export function refuseUnselectable(conn: Socket, addr: SocketAddress): boolean {
  const fd = conn.fileno();
  if (fd < FD_SETSIZE) return false;
  console.log(`refusing ${formatAddress(addr)}: fd ${fd} is too high for select() (FD_SETSIZE ${FD_SETSIZE})`);
  conn.close();
  return true;
}

/**
 * A blocking accept() that survives running out of fds: on EMFILE & co it
 * sleeps for the pause (in a select() with no fds, so that Ctrl-C still
 * interrupts it; one line is printed) and tries again, instead of dying or
 * retrying in a tight loop. For the servers that serve one client at a
 * time or hand each to a thread or process.
 * @throws {SyscallError} accept() failures other than running out of fds.
 */
export function acceptBlocking(sock: Socket, pause: AcceptPause): [Socket, SocketAddress] {
  for (;;) {
    try {
      const accepted = sock.accept();
      if (accepted !== null) {
        pause.accepted();
        return accepted;
      }
    } catch (err) {
      if (!(err instanceof SyscallError && pause.failed(err))) throw err;
      select.select([], [], [], pause.timeout(null));
      pause.due();
    }
  }
}
