/**
 * `DefaultSelector`: the best selector available, chosen once at load.
 */

import { invalidArgValue } from '../lib/errors.js';
import { EpollSelector } from './epoll-selector.js';
import { PollSelector } from './poll-selector.js';
import { SelectSelector } from './select-selector.js';
import type { SelectorOptions } from './epoll-selector.js';

/** Backends by the names `NODE_SELECTORS_BACKEND` accepts. */
export const BACKENDS = { epoll: EpollSelector, poll: PollSelector, select: SelectSelector } as const;

/** A backend name. */
export type BackendName = keyof typeof BACKENDS;

/**
 * The selector class for a backend name, or the best one (epoll > poll >
 * select; on Linux epoll is always there) when `name` is empty.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an unknown name.
 */
export function selectorClass(name: string | undefined): typeof EpollSelector | typeof PollSelector | typeof SelectSelector {
  if (name === undefined || name === '') return EpollSelector;
  const cls = (BACKENDS as Record<string, typeof EpollSelector | typeof PollSelector | typeof SelectSelector>)[name.toLowerCase()];
  if (cls === undefined) throw invalidArgValue('name', 'must be a selector backend: epoll, poll or select', name);
  return cls;
}

function chooseDefault(): typeof EpollSelector | typeof PollSelector | typeof SelectSelector {
  const name = process.env.NODE_SELECTORS_BACKEND;
  try {
    return selectorClass(name);
  } catch (err) {
    // A typo in the environment must not break `import`: say so once and
    // use the best backend.
    process.emitWarning(`NODE_SELECTORS_BACKEND=${name}: ${(err as Error).message}; using epoll`, { code: 'ERR_INVALID_ARG_VALUE' });
    return EpollSelector;
  }
}

/**
 * The best selector for this platform (Python's `selectors.DefaultSelector`):
 * `EpollSelector` on Linux, unless `NODE_SELECTORS_BACKEND=poll|select|epoll`
 * forces one (read once, when the module loads).
 */
export const DefaultSelector: DefaultSelectorConstructor = chooseDefault();
/** Instance type of {@link DefaultSelector}. */
export type DefaultSelector<T = unknown> = EpollSelector<T> | PollSelector<T> | SelectSelector<T>;

/** The constructor type of {@link DefaultSelector}. */
export interface DefaultSelectorConstructor {
  new <T = unknown>(options?: SelectorOptions): DefaultSelector<T>;
  readonly name: string;
}
