/**
 * `SelectSelector`: selectors on select(2), the oldest and most portable
 * readiness call. It cannot watch an fd >= FD_SETSIZE (1024): such fds are
 * refused at register time, before any fd_set is written.
 */

import { outOfRange } from '../lib/errors.js';
import { FD_SETSIZE } from '../lib/sys/constants.js';
import { libc, type Libc } from '../lib/sys/libc.js';
import { FD_SET_SIZE, fdClr, fdSet } from '../lib/sys/structs.js';
import { selectFds } from '../lib/select/select.js';
import { BaseSelector, type ReadyList } from './base-selector.js';
import { EVENT_READ, EVENT_WRITE } from './events.js';
import type { SelectorKey } from './selector-key.js';
import type { SelectorOptions } from './epoll-selector.js';
import { DoorbellWait } from './doorbell-wait.js';

/**
 * Selector backed by select: fds 0..1023 only, O(highest fd) per wait.
 * @typeParam T - the type of registration data.
 */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  protected override readonly waiter: DoorbellWait;
  readonly #sys: Libc;
  // The registered sets, and working copies the kernel overwrites.
  readonly #readers = Buffer.alloc(FD_SET_SIZE);
  readonly #writers = Buffer.alloc(FD_SET_SIZE);
  readonly #r = Buffer.alloc(FD_SET_SIZE);
  readonly #w = Buffer.alloc(FD_SET_SIZE);
  readonly #r32 = new Uint32Array(this.#r.buffer, this.#r.byteOffset, FD_SET_SIZE / 4);
  readonly #w32 = new Uint32Array(this.#w.buffer, this.#w.byteOffset, FD_SET_SIZE / 4);
  #maxFd = -1;

  /** @throws {Error} `ERR_UNSUPPORTED_PLATFORM` off Linux x86-64/arm64. */
  constructor(options: SelectorOptions = {}) {
    super();
    this.#sys = options.sys ?? libc();
    this.waiter = new DoorbellWait(this.#sys, (fd) => this.keyForFd(fd), () => this.registrations());
  }

  protected override backendRegister(key: SelectorKey<T>): void {
    if (key.fd >= FD_SETSIZE) throw outOfRange('fd', `< FD_SETSIZE (${FD_SETSIZE}) for select()`, key.fd, 'ERR_FD_OUT_OF_RANGE');
    this.#setBits(key.fd, key.events);
    if (key.fd > this.#maxFd) this.#maxFd = key.fd;
  }

  protected override backendUnregister(key: SelectorKey<T>): void {
    this.#setBits(key.fd, 0);
    if (key.fd === this.#maxFd) {
      let max = -1;
      for (const k of this.registrations()) if (k.fd > max) max = k.fd;
      this.#maxFd = max;
    }
  }

  protected override backendModify(key: SelectorKey<T>, events: number): void {
    this.#setBits(key.fd, events);
  }

  protected override backendSelect(timeoutMs: number, ready: ReadyList<T>): void {
    this.#readers.copy(this.#r);
    this.#writers.copy(this.#w);
    const n = selectFds(this.#maxFd + 1, this.#r, this.#w, null, timeoutMs, this.#sys);
    if (n <= 0) return;
    const r32 = this.#r32;
    const w32 = this.#w32;
    const words = (this.#maxFd >> 5) + 1;
    for (let wi = 0; wi < words; wi++) {
      const rw = r32[wi];
      const ww = w32[wi];
      let bits = (rw | ww) >>> 0;
      while (bits !== 0) {
        const low = bits & -bits;
        const bit = 31 - Math.clz32(low);
        bits = (bits ^ low) >>> 0;
        const key = this.keyForFd((wi << 5) + bit);
        if (key === undefined) continue;
        const events = (((rw & low) !== 0 ? EVENT_READ : 0) | ((ww & low) !== 0 ? EVENT_WRITE : 0)) & key.events;
        if (events !== 0) ready.push([key, events]);
      }
    }
  }

  #setBits(fd: number, events: number): void {
    if ((events & EVENT_READ) !== 0) fdSet(this.#readers, fd);
    else fdClr(this.#readers, fd);
    if ((events & EVENT_WRITE) !== 0) fdSet(this.#writers, fd);
    else fdClr(this.#writers, fd);
  }
}
