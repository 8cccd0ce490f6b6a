/**
 * The libc layer: bindings, constants, struct layouts, errors.
 */
export * from './constants.js';
export * from './structs.js';
export { libc, platformSupported, unsupportedPlatform } from './libc.js';
export type { Libc, FdWatcher, WatchEvents, AsyncCallback } from './libc.js';
export { check, errnoError } from './check.js';
