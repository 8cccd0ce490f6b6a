// Raw fds for the selector suites: socketpairs, pipes and a fake file
// object, all closed by the test that made them.
import type { Test } from 'tap';
import { libc } from '../../lib/sys/libc.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, MSG_NOSIGNAL } from '../../lib/sys/constants.js';
import { BaseSelector } from '../../selectors/base-selector.js';
import { EpollSelector } from '../../selectors/epoll-selector.js';
import { PollSelector } from '../../selectors/poll-selector.js';
import { SelectSelector } from '../../selectors/select-selector.js';
import { DefaultSelector } from '../../selectors/default-selector.js';
import type { Libc } from '../../lib/sys/libc.js';

/** An object with fileno() that reports -1 once closed, like a Socket. */
export class FileLike {
  #fd: number;
  constructor(fd: number) {
    this.#fd = fd;
  }
  fileno(): number {
    return this.#fd;
  }
  close(): void {
    if (this.#fd >= 0) libc().close(this.#fd);
    this.#fd = -1;
  }
}

const owned = new Set<number>();

/** A non-blocking AF_UNIX stream socketpair, closed at teardown unless {@link closeFd} closed it first. */
export function pair(t: Test): [number, number] {
  const sys = libc();
  const sv = new Int32Array(2);
  if (sys.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) !== 0) throw new Error(`socketpair errno ${sys.errno()}`);
  const fds: [number, number] = [sv[0], sv[1]];
  owned.add(fds[0]);
  owned.add(fds[1]);
  t.teardown(() => {
    for (const fd of fds) closeFd(fd);
  });
  return fds;
}

/** Close an fd from {@link pair} now (teardown then leaves its number alone). */
export function closeFd(fd: number): void {
  if (owned.delete(fd)) libc().close(fd);
}

/** Write bytes to an fd. */
export function put(fd: number, data: string | Buffer): number {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return libc().send(fd, buf, buf.length, MSG_NOSIGNAL);
}

/** Read what is there (up to 64 KiB) from a non-blocking fd. */
export function take(fd: number): Buffer {
  const buf = Buffer.alloc(65536);
  const n = libc().recv(fd, buf, buf.length, 0);
  return n > 0 ? buf.subarray(0, n) : Buffer.alloc(0);
}

export type Factory = (sys?: Libc) => BaseSelector<unknown>;

/** Every backend, by name, for suites that run against all of them. */
export const BACKENDS: Array<[string, Factory]> = [
  ['SelectSelector', (sys) => new SelectSelector({ sys })],
  ['PollSelector', (sys) => new PollSelector({ sys })],
  ['EpollSelector', (sys) => new EpollSelector({ sys })],
  ['DefaultSelector', (sys) => new DefaultSelector({ sys })],
];

/** A selector closed at teardown. */
export function make(t: Test, factory: Factory, sys?: Libc): BaseSelector<unknown> {
  const sel = factory(sys);
  t.teardown(() => sel.close());
  return sel;
}

/** Milliseconds since `start` (performance.now based). */
export function since(start: number): number {
  return performance.now() - start;
}
