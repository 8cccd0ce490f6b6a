/**
 * `node-selectors/uring`: the io_uring completion engine. `Proactor` is
 * the callback API (accept, receive, send, close, completed by the
 * kernel); `Ring` and `BufferRing` are the layer below it, for programs
 * that build their own; `uringSupport()` says whether this machine allows
 * io_uring, and if not, why.
 */

export {
  Ring, uringSupport, NO_URING_ENV, DEFAULT_SETUP_FLAGS,
  type RingOptions, type RingStats, type CompletionHandler, type UringSupport,
} from './ring.js';
export { BufferRing, bufferId } from './buffer-ring.js';
export {
  Proactor, Connection, type ProactorOptions, type ProactorStats, type ProactorBackend, type ProactorConstructorOptions,
  type ListenHandle, type AttachOptions, type AcceptErrorHandler,
} from './proactor.js';
