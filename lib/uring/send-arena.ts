/**
 * Native memory for outgoing bytes: fixed-size chunks carved from
 * anonymous mmap slabs, handed out and taken back through a free list. A
 * SEND names its bytes by address and the kernel may read them after the
 * submitting call has returned, so they cannot live in V8's heap.
 */

import { SyscallError } from '../errors.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../sys/uring-constants.js';
import { mapOrThrow, pageRound, type UringSys } from '../sys/uring.js';

/** One chunk: its address and a view of its bytes. */
export interface SendChunk {
  readonly address: number;
  readonly bytes: Uint8Array;
}

/** A pool of equal chunks of native memory. */
export class SendArena {
  readonly chunkSize: number;
  readonly #sys: UringSys;
  readonly #perSlab: number;
  readonly #slabs: Array<[bigint, number]> = [];
  readonly #free: SendChunk[] = [];

  constructor(sys: UringSys, chunkSize: number, perSlab = 64) {
    this.#sys = sys;
    this.chunkSize = pageRound(chunkSize);
    this.#perSlab = perSlab;
  }

  /** Chunks currently handed out. */
  get inUse(): number {
    return this.#slabs.length * this.#perSlab - this.#free.length;
  }

  /**
   * A chunk (a new slab is mapped when none is free; pages are touched only when written).
   * @throws {SyscallError} `mmap` when memory runs out.
   */
  take(): SendChunk {
    const chunk = this.#free.pop();
    if (chunk !== undefined) return chunk;
    const len = this.chunkSize * this.#perSlab;
    const addr = mapOrThrow(this.#sys, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    this.#slabs.push([addr, len]);
    const buf = this.#sys.view(addr, len);
    const base = Number(addr);
    for (let i = this.#perSlab - 1; i >= 0; i--) {
      this.#free.push({ address: base + i * this.chunkSize, bytes: new Uint8Array(buf, i * this.chunkSize, this.chunkSize) });
    }
    return this.#free.pop() as SendChunk;
  }

  /** Take a chunk back (the kernel must be done with it). */
  give(chunk: SendChunk): void {
    this.#free.push(chunk);
  }

  /** Unmap every slab. */
  close(): void {
    for (const [addr, len] of this.#slabs) this.#sys.munmap(addr, len);
    this.#slabs.length = 0;
    this.#free.length = 0;
  }
}
