/**
 * Python's module `select` for Linux: `select()`, `poll()` objects,
 * `epoll` objects and their constants, plus the raw, allocation-free waits
 * the selectors layer is built on (`selectFds`, `Poll.wait`, `Epoll.wait`).
 * The package exports this module as the subpath `node-selectors/select`,
 * and as the namespace `select` from the root.
 */

export { select, selectFds } from './select.js';
export { Poll, poll, POLL_DEFAULT_EVENTMASK } from './poll.js';
export { Epoll, epoll, EPOLL_DEFAULT_EVENTMASK, EPOLL_DEFAULT_MAXEVENTS } from './epoll.js';
export * from './constants.js';
