/**
 * A provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): a pool of
 * equal-sized receive buffers the kernel picks from when a RECV asks for
 * buffer selection, so a multishot recv needs no buffer per connection.
 *
 * Both the ring of `struct io_uring_buf` entries and the buffers live in
 * anonymous mmap memory: the kernel writes into them long after the SQE was
 * submitted, so they must never move (V8 may move small typed arrays).
 * JavaScript reads them through views, without copying.
 *
 * Ownership: a buffer belongs to the kernel until a CQE names it (flag
 * IORING_CQE_F_BUFFER, id in the upper 16 bits); then to us until
 * {@link BufferRing.recycle} gives it back.
 *
 * Cache-hot reuse: the kernel takes buffers in ring order, so with every
 * buffer in the ring each receive would land in the buffer used longest
 * ago — a cold page (a TLB miss, costly in a VM) and a cold cache line,
 * message after message. So only a *window* of buffers is kept in the
 * ring; recycled buffers go onto a stack and the most recently used are
 * put back first. When a receive finds the ring empty the window doubles
 * ({@link BufferRing.starved}), up to every buffer; after a long calm
 * (CALM recycles without starving) it halves again, down to its start.
 */

import { SyscallError } from '../errors.js';
import {
  IORING_CQE_BUFFER_SHIFT, IORING_REGISTER_PBUF_RING, IORING_UNREGISTER_PBUF_RING, MAP_ANONYMOUS, MAP_PRIVATE,
  PROT_READ, PROT_WRITE,
} from '../sys/uring-constants.js';
import {
  BUF_REG_BGID_OFFSET, BUF_REG_RING_ADDR_OFFSET, BUF_REG_RING_ENTRIES_OFFSET, BUF_RING_TAIL_OFFSET,
  IO_URING_BUF_REG_SIZE, IO_URING_BUF_SIZE,
} from '../sys/structs.js';
import { mapOrThrow, pageRound } from '../sys/uring.js';
import { outOfRange } from '../errors.js';
import type { Ring } from './ring.js';

const TWO_32 = 4294967296;
/** Recycles without a starved receive after which the window halves. */
const CALM = 16384;

/** The buffer id a completion carries in its flags. */
export function bufferId(cqeFlags: number): number {
  return cqeFlags >>> IORING_CQE_BUFFER_SHIFT;
}

/** A registered buffer group of `count` buffers of `size` bytes. */
export class BufferRing {
  /** The buffer group id (sqe.buf_group). */
  readonly bgid: number;
  readonly count: number;
  readonly size: number;
  /** All buffers, back to back: buffer `bid` is bytes [bid × size, (bid + 1) × size). */
  readonly bytes: Buffer;

  readonly #ring: Ring;
  readonly #entries32: Uint32Array;
  readonly #entries16: Uint16Array;
  readonly #tailIndex: number;
  readonly #mask: number;
  readonly #ringAddr: bigint;
  readonly #ringLen: number;
  readonly #bufAddr: bigint;
  readonly #bufBase: number;
  readonly #bufLen: number;
  #tail = 0;
  // Buffers handed to us and not yet recycled; buffers put in the ring
  // whose consumption no completion has reported yet (at least as many as
  // the ring really holds); the window; recycled buffers not in the ring.
  #held = 0;
  #inRing = 0;
  #window: number;
  readonly #minWindow: number;
  #calm = CALM;
  readonly #spare: number[] = [];
  #closed = false;

  /**
   * Map and register a buffer group; the first `window` buffers start in
   * the ring, the others wait on the stack.
   * @param count a power of two, 1..32768.
   * @param window buffers kept in the ring at first and at least (default all up to 16; it grows when receives starve).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad count or size.
   * @throws {SyscallError} `mmap` / `io_uring_register` (EINVAL on kernels without buffer rings, EEXIST for a used bgid).
   */
  constructor(ring: Ring, bgid: number, count: number, size: number, window = Math.min(count, 16)) {
    if (!Number.isInteger(count) || count < 1 || count > 32768 || (count & (count - 1)) !== 0) {
      throw outOfRange('count', 'a power of two from 1 to 32768', count);
    }
    if (!Number.isInteger(size) || size < 1 || size > 1 << 24) throw outOfRange('size', '1..16777216', size);
    if (!Number.isInteger(bgid) || bgid < 0 || bgid > 0xffff) throw outOfRange('bgid', '0..65535', bgid);
    if (!Number.isInteger(window) || window < 1 || window > count) throw outOfRange('window', `1..${count}`, window);
    const sys = ring.sys;
    this.#ring = ring;
    this.bgid = bgid;
    this.count = count;
    this.size = size;
    this.#mask = count - 1;
    this.#ringLen = pageRound(count * IO_URING_BUF_SIZE);
    this.#bufLen = pageRound(count * size);
    const map = (len: number): bigint => {
      return mapOrThrow(sys, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    };
    this.#ringAddr = map(this.#ringLen);
    try {
      this.#bufAddr = map(this.#bufLen);
    } catch (err) {
      sys.munmap(this.#ringAddr, this.#ringLen);
      throw err;
    }
    this.#bufBase = Number(this.#bufAddr);
    const entries = sys.view(this.#ringAddr, this.#ringLen);
    this.#entries32 = new Uint32Array(entries);
    this.#entries16 = new Uint16Array(entries);
    this.#tailIndex = BUF_RING_TAIL_OFFSET >> 1;
    this.bytes = Buffer.from(sys.view(this.#bufAddr, this.#bufLen), 0, count * size);

    const reg = new Uint8Array(IO_URING_BUF_REG_SIZE);
    const v = new DataView(reg.buffer);
    v.setBigUint64(BUF_REG_RING_ADDR_OFFSET, this.#ringAddr, true);
    v.setUint32(BUF_REG_RING_ENTRIES_OFFSET, count, true);
    v.setUint16(BUF_REG_BGID_OFFSET, bgid, true);
    try {
      ring.register(IORING_REGISTER_PBUF_RING, reg, 1);
    } catch (err) {
      sys.munmap(this.#ringAddr, this.#ringLen);
      sys.munmap(this.#bufAddr, this.#bufLen);
      throw err;
    }
    this.#window = window;
    this.#minWindow = window;
    for (let bid = count - 1; bid >= 0; bid--) this.#spare.push(bid);
    this.#refill();
  }

  /** Buffers free for receiving: in the ring, or on the stack to go back into it. */
  get available(): number {
    return this.count - this.#held;
  }

  /** Buffers kept in the ring (it grows with {@link starved}). */
  get window(): number {
    return this.#window;
  }

  /** The native address of buffer `bid` (for SQEs that name it). */
  address(bid: number): number {
    return this.#bufBase + bid * this.size;
  }

  /** A view (no copy) of the first `len` bytes of buffer `bid`; valid until it is recycled. */
  view(bid: number, len: number): Buffer {
    const start = bid * this.size;
    return this.bytes.subarray(start, start + len);
  }

  #put(bid: number): void {
    // Entry fields only: entry 0's last 16 bits are the ring's tail.
    const w = (this.#tail & this.#mask) * 4;
    const addr = this.#bufBase + bid * this.size;
    this.#entries32[w] = addr >>> 0;
    this.#entries32[w + 1] = (addr / TWO_32) >>> 0;
    this.#entries32[w + 2] = this.size;
    this.#entries16[w * 2 + 6] = bid;
    this.#tail = (this.#tail + 1) & 0xffff;
    this.#inRing++;
  }

  // Top the ring up to the window from the stack, most recently used first.
  #refill(): void {
    const spare = this.#spare;
    if (this.#inRing >= this.#window || spare.length === 0) return;
    do this.#put(spare.pop() as number);
    while (this.#inRing < this.#window && spare.length > 0);
    this.#publish();
  }

  #publish(): void {
    Atomics.store(this.#entries16, this.#tailIndex, this.#tail);
  }

  /** Give buffer `bid` back (to the ring, or to the stack while the ring holds its window). */
  recycle(bid: number): void {
    if (this.#closed) return;
    this.#held--;
    this.#spare.push(bid);
    if (--this.#calm === 0) {
      this.#calm = CALM;
      if (this.#window > this.#minWindow) this.#window >>= 1;
    }
    this.#refill();
  }

  /** Note that a completion handed buffer `bid` to us (for {@link available}). */
  taken(): void {
    this.#held++;
    if (this.#inRing > 0) this.#inRing--;
  }

  /**
   * Note that a receive found the ring empty (-ENOBUFS): the window
   * doubles (up to every buffer) and the ring is topped up.
   */
  starved(): void {
    this.#calm = CALM;
    if (this.#closed || this.#window >= this.count) return;
    this.#window = Math.min(this.count, this.#window * 2);
    this.#refill();
  }

  /** Unregister the group and unmap its memory. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const sys = this.#ring.sys;
    if (!this.#ring.closed) {
      const reg = new Uint8Array(IO_URING_BUF_REG_SIZE);
      new DataView(reg.buffer).setUint16(BUF_REG_BGID_OFFSET, this.bgid, true);
      try {
        this.#ring.register(IORING_UNREGISTER_PBUF_RING, reg, 1);
      } catch {
        // The ring is going away anyway; unmapping below is what matters.
      }
    }
    sys.munmap(this.#ringAddr, this.#ringLen);
    sys.munmap(this.#bufAddr, this.#bufLen);
  }
}
