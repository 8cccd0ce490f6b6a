/**
 * Python's `selectors` module.
 */
export { EVENT_READ, EVENT_WRITE } from './events.js';
export { SelectorKey } from './selector-key.js';
export { SelectorMapping } from './selector-mapping.js';
export { BaseSelector } from './base-selector.js';
export type { ReadyList, SelectAsyncOptions, RunOptions, EventHandler } from './base-selector.js';
export type { LoopWaiter } from './node-loop-wait.js';
export { PollLikeSelector } from './poll-like-selector.js';
export type { Poller } from './poll-like-selector.js';
export { EpollSelector } from './epoll-selector.js';
export type { SelectorOptions } from './epoll-selector.js';
export { PollSelector } from './poll-selector.js';
export { SelectSelector } from './select-selector.js';
export { DefaultSelector, selectorClass, BACKENDS } from './default-selector.js';
export type { BackendName } from './default-selector.js';
export { KeyError } from '../lib/errors.js';
