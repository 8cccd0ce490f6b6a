/**
 * Every error the library raises, in one place.
 *
 * Syscall failures are {@link SyscallError}s whose `code` is the kernel's
 * errno name (`ECONNREFUSED`, `EPIPE`, ...). Everything else carries one of
 * the library codes listed in {@link ERROR_CODES}; docs/errors.md is the
 * same table for readers.
 *
 * This module is a leaf: it imports nothing from the library and loads
 * without libc.
 */

import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** What kind of object an error code comes on, and what it means. */
export interface ErrorCodeInfo {
  /** The class of the thrown object (`TypeError`, `KeyError`, ...). */
  readonly className: string;
  /** The Python exception this stands in for, if any. */
  readonly python: string;
  /** One line: when it is raised. */
  readonly description: string;
}

/**
 * The library's own error codes (kernel errno names such as `EBADF` are not
 * listed one by one: every `SyscallError` carries the errno name the kernel
 * returned).
 */
export const ERROR_CODES = {
  ERR_UNSUPPORTED_PLATFORM: {
    className: 'Error',
    python: '-',
    description: 'libc was first needed on a platform other than Linux x86-64/arm64.',
  },
  ERR_INVALID_ARG_TYPE: {
    className: 'TypeError',
    python: 'TypeError',
    description: 'An argument has the wrong type (address shape, file object, buffer, callback).',
  },
  ERR_INVALID_ARG_VALUE: {
    className: 'TypeError',
    python: 'ValueError',
    description: 'An argument has the right type but a value the call cannot use (unknown family, malformed IP address).',
  },
  ERR_OUT_OF_RANGE: {
    className: 'RangeError',
    python: 'ValueError / OverflowError',
    description: 'A number is outside its range: port, size, negative fd, negative timeout, unknown event bits.',
  },
  ERR_FD_OUT_OF_RANGE: {
    className: 'RangeError',
    python: 'ValueError("filedescriptor out of range in select()")',
    description: 'select() / SelectSelector was given an fd >= FD_SETSIZE (1024); nothing was touched.',
  },
  ERR_EPOLL_CLOSED: {
    className: 'Error',
    python: 'ValueError("I/O operation on closed epoll object")',
    description: 'A method of a closed select.epoll object was called.',
  },
  ERR_FD_ALREADY_REGISTERED: {
    className: 'KeyError',
    python: 'KeyError',
    description: 'register() of a file descriptor that is already registered (even through another object).',
  },
  ERR_FD_NOT_REGISTERED: {
    className: 'KeyError',
    python: 'KeyError',
    description: 'unregister()/modify()/getKey() of a file object that is not registered; poll.unregister() of an unknown fd.',
  },
  ERR_SELECTOR_CLOSED: {
    className: 'Error',
    python: "RuntimeError('Selector is closed')",
    description: 'A selector was used after close().',
  },
  ERR_SELECTOR_BUSY: {
    className: 'Error',
    python: '- (asyncio-style addition)',
    description: 'selectAsync() was called while another selectAsync() on the same selector is pending.',
  },
  ABORT_ERR: {
    className: 'Error',
    python: '- (Node convention)',
    description: "selectAsync() was aborted through its AbortSignal (Node's own AbortError shape).",
  },
  ERR_KEYBOARD_INTERRUPT: {
    className: 'KeyboardInterrupt',
    python: 'KeyboardInterrupt',
    description: 'SIGINT/SIGTERM ended a blocking call while enableKeyboardInterrupt() was on.',
  },
  ERR_LISTENER_THREW: {
    className: 'Warning',
    python: '-',
    description: "A Message's 'error' or 'close' listener threw: reported with process.emitWarning, the other listeners still ran.",
  },
  ERR_IDLE_TIMEOUT: {
    className: 'Error',
    python: '-',
    description: "A Message was closed because no byte moved in either direction for its server's idleTimeout.",
  },
  ERR_REQUEST_TIMEOUT: {
    className: 'Error',
    python: '-',
    description: "A Message was closed because a request it had begun to receive was not complete within its server's requestTimeout.",
  },
  ERR_TOO_MANY_CONNECTIONS: {
    className: 'Error',
    python: '-',
    description: 'A MessageServer at maxConnections accepted a connection and closed it at once.',
  },
  ERR_SERVER_SHUTDOWN: {
    className: 'Error',
    python: '-',
    description: "MessageServer.shutdown()'s deadline passed: the connections still open were closed.",
  },
  ERR_WORKER_EXITED: {
    className: 'Error',
    python: '-',
    description: 'A worker thread of MessageServerWorkers ended without being asked to (it exited or failed to start) — the others keep serving.',
  },
  ERR_NO_CURRENT_REQUEST: {
    className: 'Error',
    python: '-',
    description: 'ServerMessage.defer() was called outside a responder call.',
  },
  ETIMEDOUT: {
    className: 'SocketTimeoutError',
    python: 'TimeoutError / socket.timeout',
    description: 'A socket operation did not complete within the timeout set by settimeout() (a SocketTimeoutError is a SyscallError, as TimeoutError is an OSError).',
  },
  ENOTFOUND: {
    className: 'SyscallError',
    python: 'socket.gaierror (EAI_NONAME)',
    description: 'getaddrinfo could not resolve the host name (other EAI_* failures keep their EAI_ name as code).',
  },
  ERR_PROTOCOL_INVALID_HEADER: {
    className: 'ProtocolError',
    python: 'json.JSONDecodeError / ValueError',
    description: 'The JSON header is empty, not valid UTF-8 JSON, or not a JSON object; or byteorder is not "little"/"big", or content-type/content-encoding is not a string.',
  },
  ERR_PROTOCOL_MISSING_HEADER: {
    className: 'ProtocolError',
    python: "ValueError('Missing required header ...')",
    description: 'A required header (byteorder, content-length, content-type, content-encoding) is absent.',
  },
  ERR_PROTOCOL_INVALID_LENGTH: {
    className: 'ProtocolError',
    python: '- (Python accepts it)',
    description: 'content-length is not a non-negative safe integer.',
  },
  ERR_PROTOCOL_TOO_LARGE: {
    className: 'ProtocolError',
    python: '-',
    description: 'The header or the content is larger than the configured limit (when sending: a JSON header over 65535 bytes).',
  },
  ERR_PROTOCOL_UNKNOWN_ENCODING: {
    className: 'ProtocolError',
    python: 'LookupError',
    description: 'content-encoding names an encoding the library does not know (checked for text/json frames, and for text to send).',
  },
  ERR_PROTOCOL_INVALID_CONTENT: {
    className: 'ProtocolError',
    python: 'UnicodeDecodeError / json.JSONDecodeError',
    description: 'text/json content is not valid text in its encoding, or not valid JSON; when sending, text that cannot be encoded in its encoding; an app request that is not a JSON object, or searches for an array/object.',
  },
  ERR_PROTOCOL_TRUNCATED: {
    className: 'ProtocolError',
    python: '-',
    description: 'The peer closed the connection in the middle of a frame.',
  },
  ERR_FILE_CLOSED: {
    className: 'Error',
    python: 'ValueError("I/O operation on closed file")',
    description: 'A method of a file object from makefile() was called after its close().',
  },
  ERR_UNSUPPORTED_OPERATION: {
    className: 'Error',
    python: 'io.UnsupportedOperation',
    description: 'A file object from makefile() was asked to read when opened for writing only, or to write when opened for reading only.',
  },
  ERR_SOCKETIO_TIMED_OUT: {
    className: 'Error',
    python: 'OSError("cannot read from timed out object")',
    description: 'A read from a makefile() file object whose socket read timed out before (the stream may have lost bytes).',
  },
  ERR_UNICODE_DECODE: {
    className: 'TypeError',
    python: 'UnicodeDecodeError',
    description: 'A text-mode makefile() file received bytes that are not valid in its encoding (errors "strict").',
  },
  ERR_UNICODE_ENCODE: {
    className: 'TypeError',
    python: 'UnicodeEncodeError',
    description: 'A text-mode makefile() file was given text its encoding cannot represent (errors "strict").',
  },
  ERR_SENDFILE_UNSUPPORTED: {
    className: 'Error',
    python: 'ValueError("non-blocking sockets are not supported")',
    description: 'sendfile() on a socket that is not SOCK_STREAM, or on a non-blocking socket from a file that cannot seek.',
  },
  ERR_SOCKET_BLOCKING: {
    className: 'Error',
    python: 'ValueError("the socket must be non-blocking") (asyncio)',
    description: 'A *Async socket method (recvAsync, acceptAsync, ...) was called on a socket that is not non-blocking.',
  },
  ERR_SOCKET_BUSY: {
    className: 'Error',
    python: '-',
    description: 'A *Async socket method was called while another call on the same socket waits for the same direction (two reads or two writes at once).',
  },
  ERR_SOCKET_CLOSED: {
    className: 'Error',
    python: '-',
    description: 'The socket was closed (or detached) while a *Async method of it was waiting; the wait is rejected.',
  },
  ERR_SOCKET_UNCLOSED: {
    className: 'ResourceWarning',
    python: "ResourceWarning('unclosed <socket.socket ...>')",
    description: 'A warning, not a throw: a Socket was garbage-collected without close(); its fd was closed then.',
  },
  ERR_URING_UNAVAILABLE: {
    className: 'Error',
    python: '-',
    description: 'io_uring cannot be used here (NODE_SELECTORS_NO_URING, kernel.io_uring_disabled, seccomp, EPERM/ENOSYS, or a kernel without a feature the engine needs); the message says which.',
  },
  ERR_URING_CLOSED: {
    className: 'Error',
    python: '-',
    description: 'A method of a closed io_uring Ring, BufferRing or Proactor (or of a closed Proactor connection) was called.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A library error code (see {@link ERROR_CODES}). */
export type ErrorCode = keyof typeof ERROR_CODES;

const systemErrors = getSystemErrorMap();
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // EAGAIN/EWOULDBLOCK and EDEADLK/EDEADLOCK share values: keep the first.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The kernel name of an errno value (`111` → `'ECONNREFUSED'`), or `'E<n>'`. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The human text of an errno value (`111` → `'connection refused'`). */
export function errnoText(errno: number): string {
  const entry = systemErrors.get(-errno);
  return entry === undefined ? `unknown error ${errno}` : entry[1];
}

/** Where a failing call was pointed at, to put in the message and on the error. */
export interface ErrorTarget {
  address?: string;
  port?: number;
  path?: string;
  hostname?: string;
}

/**
 * A failed system call, shaped like Node's own: `code` is the errno name,
 * `errno` the positive kernel number (as in Python's `OSError.errno` and
 * `os.constants.errno`), `syscall` the call, message `connect ECONNREFUSED
 * 127.0.0.1:9`. Python raises `OSError` (or a subclass such as
 * `ConnectionRefusedError`) in the same places.
 */
export class SyscallError extends Error {
  /** errno name, e.g. `'ECONNREFUSED'` (or `'ENOTFOUND'`/`'EAI_*'` for getaddrinfo). */
  readonly code: string;
  /** Positive errno value (for getaddrinfo failures: the negative EAI_* value). */
  readonly errno: number;
  /** The system call that failed. */
  readonly syscall: string;
  /** The kernel's description, like Python's `OSError.strerror`. */
  readonly strerror: string;
  /** IP address the call was about, when there was one. */
  declare address?: string;
  /** Port the call was about, when there was one. */
  declare port?: number;
  /** AF_UNIX path the call was about, when there was one. */
  declare path?: string;
  /** Host name being resolved (getaddrinfo). */
  declare hostname?: string;

  constructor(errno: number, syscall: string, target?: ErrorTarget, code?: string, strerror?: string) {
    const name = code ?? errnoName(errno);
    let where = '';
    if (target !== undefined) {
      if (target.hostname !== undefined) where = ` ${target.hostname}`;
      else if (target.path !== undefined) where = ` ${target.path}`;
      else if (target.address !== undefined) {
        where = target.port === undefined ? ` ${target.address}` : ` ${target.address}:${target.port}`;
      }
    }
    super(`${syscall} ${name}${where}`);
    this.name = 'SyscallError';
    this.code = name;
    this.errno = errno;
    this.syscall = syscall;
    this.strerror = strerror ?? errnoText(errno);
    if (target !== undefined) {
      if (target.address !== undefined) this.address = target.address;
      if (target.port !== undefined) this.port = target.port;
      if (target.path !== undefined) this.path = target.path;
      if (target.hostname !== undefined) this.hostname = target.hostname;
    }
  }
}

/**
 * Python's `KeyError`: a file object or fd is (or is not) registered.
 * `code` is `ERR_FD_ALREADY_REGISTERED` or `ERR_FD_NOT_REGISTERED`.
 */
export class KeyError extends Error {
  readonly code: 'ERR_FD_ALREADY_REGISTERED' | 'ERR_FD_NOT_REGISTERED';
  /** The file object (or fd) the lookup was about. */
  readonly key: unknown;

  constructor(code: 'ERR_FD_ALREADY_REGISTERED' | 'ERR_FD_NOT_REGISTERED', message: string, key: unknown) {
    super(message);
    this.name = 'KeyError';
    this.code = code;
    this.key = key;
  }
}

/**
 * Python's `TimeoutError` (`socket.timeout`): a socket operation in timeout
 * mode ran out of time. As Python's is a subclass of `OSError`, this is a
 * {@link SyscallError}: `code` `ETIMEDOUT`, `errno` 110, `syscall` the
 * operation (`recv`, `connect`, ...), `strerror` and message `timed out`
 * (`recv timed out`); `name` is `TimeoutError`. A
 * `catch (e) { if (e instanceof SyscallError) ... }` sees timeouts too, as
 * Python's `except OSError:` does.
 */
export class SocketTimeoutError extends SyscallError {
  declare readonly code: 'ETIMEDOUT';

  constructor(syscall: string) {
    // ETIMEDOUT is 110 on every Linux architecture this library runs on.
    super(110, syscall, undefined, 'ETIMEDOUT', 'timed out');
    this.message = `${syscall} timed out`;
    this.name = 'TimeoutError';
  }
}

/** Malformed input on the wire: see the `ERR_PROTOCOL_*` rows of {@link ERROR_CODES}. */
export class ProtocolError extends Error {
  readonly code: Extract<ErrorCode, `ERR_PROTOCOL_${string}`>;

  constructor(code: Extract<ErrorCode, `ERR_PROTOCOL_${string}`>, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** An `Error` with a library `code` (used for the codes whose class is plain `Error`). */
export class CodedError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `type string (${JSON.stringify(value.length > 28 ? `${value.slice(0, 25)}...` : value)})`;
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  if (typeof value === 'function') return 'a function';
  return `type ${typeof value} (${String(value)})`;
}

/** A `TypeError` with code `ERR_INVALID_ARG_TYPE`, worded like Node's. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** A `TypeError` with code `ERR_INVALID_ARG_VALUE` (Python's `ValueError`). */
export function invalidArgValue(name: string, reason: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument ${reason}. Received ${describe(actual)}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** A `RangeError` with code `ERR_OUT_OF_RANGE` (or another range code), worded like Node's. */
export function outOfRange(name: string, range: string, actual: unknown, code: 'ERR_OUT_OF_RANGE' | 'ERR_FD_OUT_OF_RANGE' = 'ERR_OUT_OF_RANGE'): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`) as RangeError & { code: string };
  err.code = code;
  return err;
}
