/**
 * `SelectorKey`: what a selector remembers about one registration.
 * Pure: loads without libc.
 */

import { inspect } from 'node:util';
import type { FileObject } from '../lib/fileobj.js';

/**
 * One registration (Python's `SelectorKey` namedtuple): the file object as
 * given, its fd, the events it is watched for, and the caller's data.
 * Immutable; `modify` returns a new key. Destructures like the tuple:
 * `const [fileobj, fd, events, data] = key`.
 */
export class SelectorKey<T = unknown> {
  /** The object passed to `register` (an fd or an object with `fileno()`). */
  readonly fileobj: FileObject;
  /** Its file descriptor at registration time. */
  readonly fd: number;
  /** EVENT_READ, EVENT_WRITE or both. */
  readonly events: number;
  /** Whatever the caller attached (Python's `data`), `undefined` by default. */
  readonly data: T;

  constructor(fileobj: FileObject, fd: number, events: number, data: T) {
    this.fileobj = fileobj;
    this.fd = fd;
    this.events = events;
    this.data = data;
    Object.freeze(this);
  }

  /** Iterate like the Python namedtuple: fileobj, fd, events, data. */
  *[Symbol.iterator](): IterableIterator<unknown> {
    yield this.fileobj;
    yield this.fd;
    yield this.events;
    yield this.data;
  }

  /** `SelectorKey(fileobj=..., fd=5, events=1, data=...)`, as Python prints it. */
  [inspect.custom](_depth: number, options: object): string {
    const show = (v: unknown): string => inspect(v, { ...options, depth: 1 });
    return `SelectorKey(fileobj=${show(this.fileobj)}, fd=${this.fd}, events=${this.events}, data=${show(this.data)})`;
  }
}
