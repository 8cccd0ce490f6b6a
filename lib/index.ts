/**
 * node-selectors: Python's `socket`, `select` and `selectors` modules for
 * Node.js on Linux, and the Real Python tutorial's protocols on top.
 *
 * ```ts
 * import { DefaultSelector, EVENT_READ, Socket, select } from 'node-selectors';
 * ```
 *
 * Python's three modules are also subpaths of their own:
 * `node-selectors/socket`, `node-selectors/select` (where `select` is the
 * function) and `node-selectors/selectors`.
 */

// Errors (one table: ERROR_CODES; docs/errors.md).
export {
  CodedError,
  ERROR_CODES,
  KeyError,
  ProtocolError,
  SocketTimeoutError,
  SyscallError,
} from './errors.js';
export type { ErrorCode, ErrorCodeInfo } from './errors.js';

// Kernel constants with their kernel names (AF_INET, SOCK_STREAM, EPOLLIN, ...).
export * from './sys/constants.js';
export { platformSupported } from './sys/libc.js';
export type { FileObject, HasFileno } from './fileobj.js';

// Python's `socket` module: Socket and friends (also the subpath node-selectors/socket).
export * from './socket/index.js';

// Python's KeyboardInterrupt for blocking programs.
export { enableKeyboardInterrupt, keyboardInterruptEnabled, KeyboardInterrupt } from './interrupt.js';
export type { InterruptSignal, KeyboardInterruptHandle, KeyboardInterruptOptions } from './interrupt.js';

// Python's `select` module (also the subpath node-selectors/select), as a namespace: select.select(), select.poll(), select.epoll().
export * as select from './select/index.js';

// Python's `selectors` module (also the subpath node-selectors/selectors), at the root and as a namespace.
export * from '../selectors/index.js';
export * as selectors from '../selectors/index.js';

// The pure frame codec, then the Message layer that drives sockets with it.
export * from './protocol/index.js';
export * from './message/index.js';
