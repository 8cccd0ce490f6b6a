/**
 * What PollSelector and EpollSelector share (Python's `_PollLikeSelector`):
 * a kernel object with register/modify/unregister and a wait whose results
 * are read back by index.
 */

import { SyscallError } from '../lib/errors.js';
import { BaseSelector, type ReadyList } from './base-selector.js';
import { EVENT_READ, EVENT_WRITE } from './events.js';
import type { SelectorKey } from './selector-key.js';

/** The raw interface of `select.poll()` and `select.epoll()` objects used here. */
export interface Poller {
  register(fd: number, eventmask: number): void;
  modify(fd: number, eventmask: number): void;
  unregister(fd: number): void;
  wait(timeoutMs: number, maxevents?: number): number;
  readyFd(i: number): number;
  readyEvents(i: number): number;
}

/**
 * Base of the poll(2)- and epoll(7)-backed selectors.
 * @typeParam T - the type of registration data.
 */
export abstract class PollLikeSelector<T = unknown> extends BaseSelector<T> {
  /** The kernel object. */
  protected abstract readonly poller: Poller;
  /** The backend's "readable" bit (POLLIN / EPOLLIN). */
  protected readonly readBit: number;
  /** The backend's "writable" bit (POLLOUT / EPOLLOUT). */
  protected readonly writeBit: number;

  /**
   * @param readBit the backend's "readable" bit (POLLIN / EPOLLIN).
   * @param writeBit the backend's "writable" bit (POLLOUT / EPOLLOUT).
   */
  constructor(readBit: number, writeBit: number) {
    super();
    this.readBit = readBit;
    this.writeBit = writeBit;
  }

  /** Backend bits for selector events. */
  protected kernelMask(events: number): number {
    return ((events & EVENT_READ) !== 0 ? this.readBit : 0) | ((events & EVENT_WRITE) !== 0 ? this.writeBit : 0);
  }

  protected override backendRegister(key: SelectorKey<T>): void {
    this.poller.register(key.fd, this.kernelMask(key.events));
  }

  protected override backendUnregister(key: SelectorKey<T>): void {
    try {
      this.poller.unregister(key.fd);
    } catch (err) {
      // The fd may have been closed (EBADF) or its number reused (ENOENT)
      // since it was registered; the kernel already forgot it.
      if (!(err instanceof SyscallError)) throw err;
    }
  }

  protected override backendModify(key: SelectorKey<T>, events: number): void {
    this.poller.modify(key.fd, this.kernelMask(events));
  }

  protected override backendSelect(timeoutMs: number, ready: ReadyList<T>): void {
    const poller = this.poller;
    // maxevents follows the registrations (at least 1, so an empty selector
    // still sleeps for the timeout); one fd is one entry with all its bits.
    const n = poller.wait(timeoutMs, this.keyCount > 0 ? this.keyCount : 1);
    const readBit = this.readBit;
    const writeBit = this.writeBit;
    for (let i = 0; i < n; i++) {
      const key = this.keyForFd(poller.readyFd(i));
      // Unregistered meanwhile: dropped.
      if (key === undefined) continue;
      const ev = poller.readyEvents(i);
      // Anything but "readable" (OUT, ERR, HUP) wakes writers; anything but
      // "writable" wakes readers, then the key's own mask applies.
      const events = (((ev & ~readBit) !== 0 ? EVENT_WRITE : 0) | ((ev & ~writeBit) !== 0 ? EVENT_READ : 0)) & key.events;
      if (events !== 0) ready.push([key, events]);
    }
  }
}
