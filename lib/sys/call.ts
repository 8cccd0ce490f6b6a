/**
 * The one path from a libc call to its result or its error: the project's
 * `syscall!` (mio) and `sock_call_ex` (CPython). Every call that can fail
 * goes through a function here, and nothing outside lib/sys/ reads errno or
 * the keyboard-interrupt flag:
 *
 * - {@link check} (check.ts): a call that either works or throws (bind, listen, ...);
 * - {@link errnoOf}: a call whose errno is an answer, not an error (close);
 * - {@link sockCall}: a socket call with Python's three modes (blocking,
 *   non-blocking: would-block is `-1`, timeout: wait with poll() until the
 *   deadline, then `SocketTimeoutError`), EINTR retried (PEP 475);
 * - {@link connectCall}: connect(2) with CPython's waiting rules;
 * - {@link kernelWait}: one epoll_wait/poll/select wait, EINTR retried with
 *   the time that is left (libuv's `uv__io_poll`).
 *
 * Blocking calls check first for a keyboard interrupt that arrived while
 * JavaScript ran (see interrupt.ts), and an EINTR caused by one throws.
 */

import { SocketTimeoutError, SyscallError } from '../errors.js';
import { monotonicMs, remainingMs } from '../timeout.js';
import { EAGAIN, EINPROGRESS, EINTR, POLLOUT, SOL_SOCKET, SO_ERROR } from './constants.js';
import { checkInterrupts, interrupted, interruptsArmed } from './interrupt.js';
import { check, errnoOf, fail, type TargetOf } from './check.js';
import type { Libc } from './libc.js';
import { POLLFD_SIZE, writePollfd } from './structs.js';

/** What {@link sockCall} returns when a non-blocking call would block (Python's BlockingIOError). */
export const WOULD_BLOCK = -1;

export { check, errnoOf };

// One pollfd for the readiness waits of timeout mode (the calls are synchronous).
const POLLFD = Buffer.alloc(POLLFD_SIZE);
// getsockopt(SO_ERROR) scratch for connect.
const INT = Buffer.alloc(4);
const INTLEN = new Uint32Array(1);

/**
 * Wait with poll() until `fd` is ready for `events` (any revents, errors
 * included: the call that follows reports them), or until `deadline`
 * (monotonic ms; negative: no deadline) passes.
 * @throws {SocketTimeoutError} `ETIMEDOUT` once the deadline has passed.
 * @throws {SyscallError} the errno of poll(2) other than EINTR.
 */
export function waitReady(sys: Libc, fd: number, events: number, deadline: number, syscall: string): void {
  const wait = (ms: number): number => {
    writePollfd(POLLFD, 0, fd, events);
    return sys.poll(POLLFD, 1, ms);
  };
  for (;;) {
    if (kernelWait(sys, syscall, deadline < 0 ? -1 : remainingMs(deadline), 1, wait) > 0) return;
    // A timeout longer than poll()'s int of ms was clamped: wait again.
    if (remainingMs(deadline) <= 0) throw new SocketTimeoutError(syscall);
  }
}

/**
 * A socket data call for {@link sockCall}: the libc call with the fd and
 * the buffer, length and flags it is given, returning the call's result.
 * Written without captured variables (module-level constants), so that the
 * hot path allocates nothing per call.
 */
export type DataCall = (sys: Libc, fd: number, buf: Uint8Array, len: number, flags: number) => number;

/**
 * Make a socket call the way CPython's `sock_call_ex` does, in the mode
 * that `timeoutMs` gives: negative blocks; 0 never waits (would-block →
 * {@link WOULD_BLOCK}); positive is timeout mode: wait with poll() for
 * `waitFor` (POLLIN/POLLOUT) before each try, until `deadline` (default:
 * now + timeoutMs), then throw. EINTR is retried; a keyboard interrupt
 * throws. `call(sys, fd, buf, len, flags)` makes the libc call.
 * @returns the call's result (>= 0), or WOULD_BLOCK.
 * @throws {SyscallError} the call's errno, with `syscall` and the target.
 * @throws {SocketTimeoutError} `ETIMEDOUT` when timeout mode ran out of time.
 */
export function sockCall(
  sys: Libc, fd: number, timeoutMs: number, waitFor: number, syscall: string,
  call: DataCall, buf: Uint8Array, len: number, flags: number, target?: TargetOf, deadline = -1,
): number {
  if (timeoutMs > 0) {
    return timedCall(sys, fd, waitFor, syscall, call, buf, len, flags, target, deadline >= 0 ? deadline : monotonicMs() + timeoutMs);
  }
  if (timeoutMs < 0 && interruptsArmed) checkInterrupts(syscall);
  const r = call(sys, fd, buf, len, flags);
  if (r >= 0) return r;
  const errno = sys.errno();
  if (errno === EAGAIN && timeoutMs === 0) return WOULD_BLOCK;
  return retryCall(sys, fd, timeoutMs, syscall, call, buf, len, flags, target, errno);
}

/** The errno path of {@link sockCall} in blocking and non-blocking modes. */
function retryCall(
  sys: Libc, fd: number, timeoutMs: number, syscall: string,
  call: DataCall, buf: Uint8Array, len: number, flags: number, target: TargetOf, errno: number,
): number {
  for (;;) {
    if (errno === EAGAIN && timeoutMs === 0) return WOULD_BLOCK;
    if (errno !== EINTR) throw fail(sys, syscall, target, errno);
    interrupted(syscall);
    const r = call(sys, fd, buf, len, flags);
    if (r >= 0) return r;
    errno = sys.errno();
  }
}

/** Timeout mode of {@link sockCall}. */
function timedCall(
  sys: Libc, fd: number, waitFor: number, syscall: string,
  call: DataCall, buf: Uint8Array, len: number, flags: number, target: TargetOf, deadline: number,
): number {
  for (;;) {
    waitReady(sys, fd, waitFor, deadline, syscall);
    const r = call(sys, fd, buf, len, flags);
    if (r >= 0) return r;
    const errno = sys.errno();
    // EAGAIN: the readiness was spurious (another reader won); wait again.
    if (errno === EINTR) interrupted(syscall);
    else if (errno !== EAGAIN) throw fail(sys, syscall, target, errno);
  }
}

/**
 * connect(2) with CPython's waiting rules, returning the errno (0 when
 * connected) rather than throwing it, for both `connect` and `connect_ex`.
 * Interrupted (EINTR), the connection goes on in the kernel; EINPROGRESS
 * on a non-blocking fd, it completes later. In blocking and timeout modes
 * both are waited for (writability, then SO_ERROR holds the result); a
 * non-blocking socket gets EINPROGRESS back at once.
 * @throws {SocketTimeoutError} `ETIMEDOUT` when timeout mode ran out of time.
 * @throws {SyscallError} from the wait itself (poll(2)).
 */
export function connectCall(sys: Libc, fd: number, timeoutMs: number, syscall: string, call: () => number): number {
  if (timeoutMs < 0 && interruptsArmed) checkInterrupts(syscall);
  if (call() === 0) return 0;
  const errno = sys.errno();
  if (errno === EINTR) interrupted(syscall);
  const wait = errno === EINTR ? timeoutMs !== 0 : errno === EINPROGRESS && timeoutMs > 0;
  if (!wait) return errno;
  waitReady(sys, fd, POLLOUT, timeoutMs > 0 ? monotonicMs() + timeoutMs : -1, syscall);
  INTLEN[0] = 4;
  if (sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, INT, INTLEN) < 0) return sys.errno();
  return INT.readInt32LE(0);
}

/**
 * One kernel wait (epoll_wait, poll, select): `wait(timeout)` makes the
 * call, in the caller's unit (`unitsPerMs` of them in a millisecond: 1 for
 * poll/epoll, 1000 for select's microseconds); a negative timeout blocks,
 * 0 polls. On EINTR the wait is retried with the time that is left,
 * rounded up (PEP 475); `beforeRetry` restores what the kernel may have
 * changed (select's fd sets). A wait that may block first acts on a
 * keyboard interrupt that came while JavaScript ran.
 * @returns the call's count, or 0 when an interruption left no time.
 * @throws {SyscallError} the call's errno other than EINTR.
 */
export function kernelWait(
  sys: Libc, syscall: string, timeout: number, unitsPerMs: number,
  wait: (timeout: number) => number, beforeRetry?: () => void,
): number {
  if (timeout !== 0 && interruptsArmed) checkInterrupts(syscall);
  // The clock is read only for a positive timeout: it costs as much as a
  // third of a zero-timeout poll(2).
  const deadline = timeout > 0 ? monotonicMs() + timeout / unitsPerMs : 0;
  const n = wait(timeout);
  return n >= 0 ? n : retryWait(sys, syscall, timeout, deadline, unitsPerMs, wait, beforeRetry);
}

/** The EINTR path of {@link kernelWait}. */
function retryWait(
  sys: Libc, syscall: string, timeout: number, deadline: number, unitsPerMs: number,
  wait: (timeout: number) => number, beforeRetry: (() => void) | undefined,
): number {
  let left = timeout;
  for (;;) {
    const errno = sys.errno();
    if (errno !== EINTR) throw new SyscallError(errno, syscall);
    interrupted(syscall);
    if (timeout >= 0) {
      // A zero timeout has no time left for a retry (CPython: the deadline has passed).
      const ms = timeout === 0 ? -1 : deadline - monotonicMs();
      if (ms < 0) return 0;
      left = Math.ceil(ms * unitsPerMs);
    }
    beforeRetry?.();
    const n = wait(left);
    if (n >= 0) return n;
  }
}
