/**
 * The live, read-only view returned by `getMap()`.
 * Pure: loads without libc.
 */

import type { SelectorKey } from './selector-key.js';
import type { FileObject } from '../lib/fileobj.js';

/**
 * A live read-only map from fd to {@link SelectorKey} (Python's
 * `_SelectorMapping`). Like Python's, `get`/`has` also accept a file
 * object (an object with `fileno()`, even one whose fd is closed: it is
 * then found by identity).
 */
export class SelectorMapping<T = unknown> implements ReadonlyMap<number, SelectorKey<T>> {
  readonly #keys: Map<number, SelectorKey<T>>;
  readonly #lookup: (fileobj: FileObject) => number | undefined;

  /** @internal Built by the selector; not for user code. */
  constructor(keys: Map<number, SelectorKey<T>>, lookup: (fileobj: FileObject) => number | undefined) {
    this.#keys = keys;
    this.#lookup = lookup;
  }

  /** Number of registrations. */
  get size(): number {
    return this.#keys.size;
  }

  /** The key of an fd (or file object), or `undefined`. */
  get(key: number | FileObject): SelectorKey<T> | undefined {
    if (typeof key === 'number') return this.#keys.get(key);
    const fd = this.#lookup(key);
    return fd === undefined ? undefined : this.#keys.get(fd);
  }

  /** Whether an fd (or file object) is registered. */
  has(key: number | FileObject): boolean {
    return this.get(key) !== undefined;
  }

  /** The registered fds. */
  keys(): MapIterator<number> {
    return this.#keys.keys();
  }

  /** The registrations. */
  values(): MapIterator<SelectorKey<T>> {
    return this.#keys.values();
  }

  /** `[fd, key]` pairs. */
  entries(): MapIterator<[number, SelectorKey<T>]> {
    return this.#keys.entries();
  }

  /** Call `fn` for every registration. */
  forEach(fn: (value: SelectorKey<T>, key: number, map: ReadonlyMap<number, SelectorKey<T>>) => void, thisArg?: unknown): void {
    for (const [fd, key] of this.#keys) fn.call(thisArg, key, fd, this);
  }

  /** `[fd, key]` pairs. */
  [Symbol.iterator](): MapIterator<[number, SelectorKey<T>]> {
    return this.#keys.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'SelectorMapping';
  }
}
