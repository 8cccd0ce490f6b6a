/**
 * An io_uring instance: the submission and completion rings mapped into
 * this process and read through typed-array views, with `Atomics` on the
 * head and tail words the kernel shares with us.
 *
 * The shape of one loop turn: take SQE slots and fill them (`prep*`), then
 * one `io_uring_enter` submits them all and, if asked, waits; completions
 * are read straight from the mapped CQ ring (`reap`), with no system call
 * when they are already there. With `IORING_SETUP_DEFER_TASKRUN` (the
 * default here) the kernel posts completions only when this thread enters
 * with `IORING_ENTER_GETEVENTS`, which `submit()` always passes.
 *
 * User data is a JavaScript integer below 2^53, written as two 32-bit
 * halves (no BigInt on the hot path).
 */

import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { CodedError, SyscallError, errnoName } from '../errors.js';
import { EAGAIN, EINTR, EINVAL, EPERM } from '../sys/constants.js';
import {
  EBUSY, ENOSYS, ETIME, IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_FD, IORING_ACCEPT_MULTISHOT,
  IORING_ENTER_EXT_ARG, IORING_ENTER_GETEVENTS, IORING_ENTER_REGISTERED_RING, IORING_FEAT_EXT_ARG, IORING_FEAT_MIN_TIMEOUT, IORING_FEAT_NODROP, IORING_FEAT_SINGLE_MMAP,
  IORING_OFF_CQ_RING, IORING_OFF_SQES, IORING_OFF_SQ_RING, IORING_OP_ACCEPT, IORING_OP_ASYNC_CANCEL, IORING_OP_CLOSE,
  IORING_OP_NOP, IORING_OP_POLL_ADD, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_SHUTDOWN, IORING_OP_TIMEOUT,
  IORING_POLL_ADD_MULTI, IORING_RECV_MULTISHOT, IORING_REGISTER_EVENTFD, IORING_REGISTER_PROBE, IORING_REGISTER_RING_FDS, IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_NO_MMAP, IORING_SETUP_SINGLE_ISSUER, IORING_UNREGISTER_EVENTFD, IORING_UNREGISTER_RING_FDS, IOSQE_BUFFER_SELECT,
  IOSQE_IO_HARDLINK, IOSQE_IO_LINK, IO_URING_OP_SUPPORTED, MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
  PROT_READ, PROT_WRITE,
} from '../sys/uring-constants.js';
import { checkInterrupts, interrupted, interruptsArmed } from '../sys/interrupt.js';
import {
  CQOFF_CQES, CQOFF_HEAD, CQOFF_OVERFLOW, CQOFF_RING_MASK, CQOFF_TAIL, GETEVENTS_ARG_TS_OFFSET, IO_URING_CQE_SIZE,
  IO_URING_GETEVENTS_ARG_SIZE, IO_URING_PARAMS_SIZE, IO_URING_PROBE_OP_SIZE, IO_URING_PROBE_SIZE, IO_URING_SQE_SIZE,
  PARAMS_CQ_ENTRIES_OFFSET, PARAMS_CQ_OFF_OFFSET, PARAMS_FEATURES_OFFSET, PARAMS_FLAGS_OFFSET, PARAMS_SQ_ENTRIES_OFFSET,
  PARAMS_SQ_OFF_OFFSET, PROBE_OP_FLAGS_OFFSET, SQOFF_ARRAY, SQOFF_HEAD, SQOFF_RING_MASK,
  SQOFF_TAIL, SQOFF_USER_ADDR, CQOFF_USER_ADDR,
} from '../sys/structs.js';
import { MAP_FAILED, PAGE, mapOrThrow, pageRound, uringSys, type UringSys } from '../sys/uring.js';
import { isMainThread } from 'node:worker_threads';
import { closeAtThreadExit, keepAtThreadExit } from '../sys/libc.js';
import { check, errnoOf } from '../sys/check.js';

/** The environment variable that forces the readiness (epoll) fallback. */
export const NO_URING_ENV = 'NODE_SELECTORS_NO_URING';

/** The setup flags used unless told otherwise: one submitter thread, completions run when it asks. */
export const DEFAULT_SETUP_FLAGS = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;

/** Opcodes the completion engine submits; a kernel that lacks one cannot run it. */
const REQUIRED_OPS: Array<[number, string]> = [
  [IORING_OP_NOP, 'NOP'], [IORING_OP_ACCEPT, 'ACCEPT'], [IORING_OP_RECV, 'RECV'], [IORING_OP_SEND, 'SEND'],
  [IORING_OP_ASYNC_CANCEL, 'ASYNC_CANCEL'], [IORING_OP_CLOSE, 'CLOSE'], [IORING_OP_SHUTDOWN, 'SHUTDOWN'],
];

const TWO_32 = 4294967296;
// Where prepTimeout's struct __kernel_timespec lives in the scratch page
// (after the EXT_ARG argument and its timespec).
const TIMER_TS_OFFSET = 64;
const FOREVER_MS = 1e12;

/** Whether io_uring can be used, and if not, why. */
export type UringSupport =
  | { ok: true; kernel: string; features: number }
  | { ok: false; kernel: string; reason: string };

let support: UringSupport | undefined;

/**
 * Find out once per process whether the completion engine can run here:
 * the forcing variable, `kernel.io_uring_disabled`, a test ring with the
 * default flags (EPERM: seccomp or the sysctl; ENOSYS: no io_uring;
 * EINVAL: a kernel older than 6.1 lacks DEFER_TASKRUN), the opcodes used
 * (IORING_REGISTER_PROBE), and the kernel version for multishot recv and
 * buffer rings (6.0).
 */
export function uringSupport(sys?: UringSys): UringSupport {
  if (sys === undefined && support !== undefined && process.env[NO_URING_ENV] !== '1') return support;
  const kernel = release();
  const no = (reason: string): UringSupport => ({ ok: false, kernel, reason });
  if (process.env[NO_URING_ENV] === '1') return no(`${NO_URING_ENV}=1 is set`);
  let result: UringSupport;
  try {
    result = detect(sys ?? uringSys(), kernel);
  } catch (err) {
    result = no(`io_uring could not be probed: ${(err as Error).message}`);
  }
  if (sys === undefined) support = result;
  return result;
}

function detect(sys: UringSys, kernel: string): UringSupport {
  const no = (reason: string): UringSupport => ({ ok: false, kernel, reason });
  const disabled = readDisabled();
  if (disabled === '2') return no('kernel.io_uring_disabled=2: io_uring is disabled for every process');
  const [major, minor] = kernel.split('.').map((part) => parseInt(part, 10));
  if (!(major > 6 || (major === 6 && minor >= 1))) {
    return no(`kernel ${kernel} is older than 6.1 (multishot recv, buffer rings and DEFER_TASKRUN are needed)`);
  }
  const params = new Uint8Array(IO_URING_PARAMS_SIZE);
  new DataView(params.buffer).setUint32(PARAMS_FLAGS_OFFSET, DEFAULT_SETUP_FLAGS, true);
  const fd = sys.io_uring_setup(2, params);
  if (fd < 0) return no(setupFailure(errnoOf(sys, fd), disabled));
  try {
    const features = new DataView(params.buffer).getUint32(PARAMS_FEATURES_OFFSET, true);
    for (const [bit, name] of [[IORING_FEAT_NODROP, 'NODROP'], [IORING_FEAT_EXT_ARG, 'EXT_ARG']] as const) {
      if ((features & bit) === 0) return no(`the kernel lacks IORING_FEAT_${name}`);
    }
    const nops = 64;
    const probe = new Uint8Array(IO_URING_PROBE_SIZE + nops * IO_URING_PROBE_OP_SIZE);
    const probed = sys.io_uring_register(fd, IORING_REGISTER_PROBE, probe, nops);
    if (probed < 0) return no(`IORING_REGISTER_PROBE: ${errnoName(errnoOf(sys, probed))}`);
    const opsLen = probe[1];
    for (const [op, name] of REQUIRED_OPS) {
      const flags = op < opsLen ? probe[IO_URING_PROBE_SIZE + op * IO_URING_PROBE_OP_SIZE + PROBE_OP_FLAGS_OFFSET] : 0;
      if ((flags & IO_URING_OP_SUPPORTED) === 0) return no(`the kernel lacks IORING_OP_${name}`);
    }
    return { ok: true, kernel, features };
  } finally {
    sys.close(fd);
  }
}

function readDisabled(): string {
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'latin1').trim();
  } catch {
    // Kernels before 6.6 have no such sysctl.
    return '0';
  }
}

/** Why io_uring_setup failed with `errno`, in words. */
function setupFailure(errno: number, disabled: string): string {
  if (errno === EPERM) {
    return disabled === '1'
      ? 'io_uring_setup: EPERM (kernel.io_uring_disabled=1 and this process is not in kernel.io_uring_group)'
      : 'io_uring_setup: EPERM (blocked by kernel.io_uring_disabled, a seccomp filter or a security module)';
  }
  if (errno === ENOSYS) return 'io_uring_setup: ENOSYS (kernel built without io_uring, or blocked by seccomp)';
  if (errno === EINVAL) return 'io_uring_setup: EINVAL (the kernel lacks IORING_SETUP_SINGLE_ISSUER or DEFER_TASKRUN)';
  return `io_uring_setup: ${errnoName(errno)}`;
}

/** Options of {@link Ring.open}. */
export interface RingOptions {
  /** SQ size (rounded up to a power of two by the kernel); default 256. */
  entries?: number;
  /** CQ size; default 4 × entries (multishot requests post many completions each). */
  cqEntries?: number;
  /** io_uring_setup flags; default {@link DEFAULT_SETUP_FLAGS} (| CQSIZE). */
  flags?: number;
  /**
   * Put the rings in memory of ours (IORING_SETUP_NO_MMAP) where the kernel
   * takes it (default true; `flags` then shows it). false: the kernel's
   * mappings of the ring fd, as before 6.5.
   */
  ownMemory?: boolean;
  /** The binding table (tests may script failures). */
  sys?: UringSys;
}

/** Counters kept by a ring (read them to count syscalls per message). */
export interface RingStats {
  /** io_uring_enter calls. */
  enters: number;
  /** SQEs the kernel consumed. */
  submitted: number;
  /** CQEs reaped. */
  completions: number;
}

/** Called once per completion by {@link Ring.reap}. */
export type CompletionHandler = (userData: number, res: number, flags: number) => void;

/** Memory of ours for the rings (IORING_SETUP_NO_MMAP): the two rings' block and the SQE array. */
interface OwnRingMemory {
  rings: bigint;
  ringsLength: number;
  sqes: bigint;
  sqesLength: number;
}

const nextPowerOfTwo = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * Anonymous memory for a ring of `entries` SQEs and `cqEntries` CQEs (the
 * kernel rounds both up to powers of two). The rings' block holds the
 * kernel's header (head/tail words, each on its own cache line: a few
 * hundred bytes, given a page), the CQE array and the SQ index array.
 */
function ownRingMemory(sys: UringSys, entries: number, cqEntries: number): OwnRingMemory | null {
  if (!Number.isInteger(entries) || !Number.isInteger(cqEntries) || entries < 1 || cqEntries < 1) return null;
  const sq = nextPowerOfTwo(entries);
  const cq = nextPowerOfTwo(cqEntries);
  const ringsLength = pageRound(PAGE + cq * IO_URING_CQE_SIZE + sq * 4);
  const sqesLength = pageRound(sq * IO_URING_SQE_SIZE);
  // Without it, the kernel's mappings (which fail the same way if memory is short).
  const rings = sys.mmap(ringsLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (rings === MAP_FAILED) return null;
  const sqes = sys.mmap(sqesLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sqes === MAP_FAILED) {
    sys.munmap(rings, ringsLength);
    return null;
  }
  return { rings, ringsLength, sqes, sqesLength };
}

/** The [address, length] of each block of `own`, for munmap. */
const ownBlocks = (own: OwnRingMemory): Array<[bigint, number]> => [[own.rings, own.ringsLength], [own.sqes, own.sqesLength]];

/** io_uring_setup with these parameters (and our memory's addresses): the fd (or -errno / -1) and the parameters the kernel filled in. */
function setup(sys: UringSys, entries: number, cqEntries: number, flags: number, own: OwnRingMemory | null): [number, DataView] {
  const params = new Uint8Array(IO_URING_PARAMS_SIZE);
  const view = new DataView(params.buffer);
  view.setUint32(PARAMS_FLAGS_OFFSET, flags, true);
  view.setUint32(PARAMS_CQ_ENTRIES_OFFSET, cqEntries, true);
  if (own !== null) {
    view.setBigUint64(PARAMS_SQ_OFF_OFFSET + SQOFF_USER_ADDR, own.sqes, true);
    view.setBigUint64(PARAMS_CQ_OFF_OFFSET + CQOFF_USER_ADDR, own.rings, true);
  }
  return [sys.io_uring_setup(entries, params), view];
}

/**
 * One io_uring instance. Not thread-safe: with SINGLE_ISSUER only the
 * thread that opened it may submit.
 */
export class Ring {
  /** The ring's fd. */
  readonly fd: number;
  /** The setup flags in effect. */
  readonly flags: number;
  /** IORING_FEAT_* bits the kernel reported. */
  readonly features: number;
  /** SQ and CQ sizes the kernel chose. */
  readonly sqEntries: number;
  readonly cqEntries: number;
  /** Counters (see {@link RingStats}). */
  readonly stats: RingStats = { enters: 0, submitted: 0, completions: 0 };

  readonly #sys: UringSys;
  readonly #maps: Array<[bigint, number]> = [];
  #closed = false;
  // What io_uring_enter is given: the ring's index among this thread's
  // registered rings (IORING_REGISTER_RING_FDS: the kernel then skips the
  // fd lookup and its reference count on every enter), or the fd itself.
  #enterFd: number;
  #enterFlags = 0;

  // SQ ring: 32-bit words shared with the kernel.
  readonly #sq: Uint32Array;
  readonly #sqHead: number;
  readonly #sqTailWord: number;
  readonly #sqMask: number;
  #sqTail = 0;
  // The SQE array, as bytes, 16-bit and 32-bit words (one SQE = 16 words).
  readonly #sqe8: Uint8Array;
  readonly #sqe16: Uint16Array;
  readonly #sqe32: Uint32Array;
  readonly #sqeI32: Int32Array;
  // The same memory as 64-bit words: an SQE is zeroed with 8 stores.
  readonly #sqe64: Float64Array;

  // CQ ring.
  readonly #cq: Uint32Array;
  readonly #cqI32: Int32Array;
  readonly #cqHeadWord: number;
  readonly #cqTailWord: number;
  readonly #cqMask: number;
  readonly #cqes: number;
  readonly #cqOverflowWord: number;
  // The CQ head as reaped so far; the shared word is written once per
  // reap and before each enter (the kernel reads it to count the
  // completions still waiting), not once per completion.
  #cqHead = 0;

  // Scratch native memory for io_uring_enter's EXT_ARG (arg + timespec).
  readonly #scratch: bigint;
  readonly #scratchView: DataView;
  readonly #scratchAddr: number;
  #argTimeout = -1;
  #argMinWait = 0;

  private constructor(sys: UringSys, fd: number, params: DataView, flags: number, own: OwnRingMemory | null) {
    this.#sys = sys;
    this.fd = fd;
    this.flags = flags;
    this.features = params.getUint32(PARAMS_FEATURES_OFFSET, true);
    this.sqEntries = params.getUint32(PARAMS_SQ_ENTRIES_OFFSET, true);
    this.cqEntries = params.getUint32(PARAMS_CQ_ENTRIES_OFFSET, true);
    const sqOff = (field: number): number => params.getUint32(PARAMS_SQ_OFF_OFFSET + field, true);
    const cqOff = (field: number): number => params.getUint32(PARAMS_CQ_OFF_OFFSET + field, true);
    const sqSize = sqOff(SQOFF_ARRAY) + this.sqEntries * 4;
    const cqSize = cqOff(CQOFF_CQES) + this.cqEntries * IO_URING_CQE_SIZE;
    let sqBuf: ArrayBuffer;
    let cqBuf: ArrayBuffer;
    let sqeBuf: ArrayBuffer;
    if (own !== null) {
      // Our memory (NO_MMAP): both rings in one block, the SQEs in another.
      this.#maps.push(...ownBlocks(own));
      sqBuf = cqBuf = sys.view(own.rings, own.ringsLength);
      sqeBuf = sys.view(own.sqes, own.sqesLength);
    } else {
      // Since 5.4 (FEAT_SINGLE_MMAP) both rings live in one mapping.
      const single = (this.features & IORING_FEAT_SINGLE_MMAP) !== 0;
      const sqLen = single ? Math.max(sqSize, cqSize) : sqSize;
      sqBuf = this.#map(sqLen, IORING_OFF_SQ_RING);
      cqBuf = single ? sqBuf : this.#map(cqSize, IORING_OFF_CQ_RING);
      sqeBuf = this.#map(this.sqEntries * IO_URING_SQE_SIZE, IORING_OFF_SQES);
    }
    const scratchLen = PAGE;
    this.#scratch = this.#mapAnon(scratchLen);
    this.#scratchView = new DataView(sys.view(this.#scratch, scratchLen));
    this.#scratchAddr = Number(this.#scratch);

    this.#sq = new Uint32Array(sqBuf);
    this.#sqHead = sqOff(SQOFF_HEAD) >> 2;
    this.#sqTailWord = sqOff(SQOFF_TAIL) >> 2;
    this.#sqMask = this.#sq[sqOff(SQOFF_RING_MASK) >> 2];
    this.#sqTail = Atomics.load(this.#sq, this.#sqTailWord);
    // The indirection array maps ring slots to SQE indexes: keep it the identity.
    const array = sqOff(SQOFF_ARRAY) >> 2;
    for (let i = 0; i < this.sqEntries; i++) this.#sq[array + i] = i;

    this.#sqe8 = new Uint8Array(sqeBuf);
    this.#sqe16 = new Uint16Array(sqeBuf);
    this.#sqe32 = new Uint32Array(sqeBuf);
    this.#sqeI32 = new Int32Array(sqeBuf);
    this.#sqe64 = new Float64Array(sqeBuf);

    this.#cq = new Uint32Array(cqBuf);
    this.#cqI32 = new Int32Array(cqBuf);
    this.#cqHeadWord = cqOff(CQOFF_HEAD) >> 2;
    this.#cqTailWord = cqOff(CQOFF_TAIL) >> 2;
    this.#cqMask = this.#cq[cqOff(CQOFF_RING_MASK) >> 2];
    this.#cqes = cqOff(CQOFF_CQES) >> 2;
    this.#cqOverflowWord = cqOff(CQOFF_OVERFLOW) >> 2;
    this.#cqHead = Atomics.load(this.#cq, this.#cqHeadWord);
    this.#enterFd = fd;
    this.#registerRingFd();
  }

  // Register the ring fd with this thread (5.18). Optional: without it
  // every enter passes the plain fd.
  #registerRingFd(): void {
    // Not in a worker thread: a worker that ends without close() (exit,
    // terminate) would leave the registration holding the ring — and the
    // requests it has in flight, a listening socket's ACCEPT among them —
    // until the thread is gone, while its fds are already closed.
    if (!isMainThread) return;
    const update = new Uint32Array(4);
    update[0] = 0xffffffff; // any free slot
    update[2] = this.fd;
    if (this.#sys.io_uring_register(this.fd, IORING_REGISTER_RING_FDS, update, 1) === 1) {
      this.#enterFd = update[0];
      this.#enterFlags = IORING_ENTER_REGISTERED_RING;
    }
  }

  /**
   * Create a ring and map it.
   * @throws {CodedError} `ERR_URING_UNAVAILABLE` when io_uring cannot be used here (the message says why).
   * @throws {SyscallError} when io_uring_setup or mmap fails otherwise (ENOMEM, EMFILE, ...).
   */
  static open(options: RingOptions = {}): Ring {
    if (process.env[NO_URING_ENV] === '1') {
      throw new CodedError('ERR_URING_UNAVAILABLE', `io_uring unavailable: ${NO_URING_ENV}=1 is set`);
    }
    const sys = options.sys ?? uringSys();
    const entries = options.entries ?? 256;
    const cqEntries = options.cqEntries ?? entries * 4;
    const flags = (options.flags ?? DEFAULT_SETUP_FLAGS) | IORING_SETUP_CQSIZE;
    // First with the rings in our own memory (IORING_SETUP_NO_MMAP): then
    // nothing but the fd holds the ring, so when a worker thread ends
    // without close() and its fds are closed, the ring goes, and with it
    // every request it had in flight and the sockets they held. With the
    // kernel's mappings instead, the mappings (which outlive the thread)
    // would keep it all alive until the process ends. A kernel that
    // refuses it (EINVAL: before 6.5, or one that takes only a huge page)
    // gets the mappings; so does any other failure of this first try,
    // whose cause the second one then reports.
    const own = options.ownMemory === false ? null : ownRingMemory(sys, entries, cqEntries);
    if (own !== null) {
      const [fd, view] = setup(sys, entries, cqEntries, flags | IORING_SETUP_NO_MMAP, own);
      if (fd >= 0) return Ring.#opened(sys, fd, view, flags | IORING_SETUP_NO_MMAP, own);
      for (const [addr, len] of ownBlocks(own)) sys.munmap(addr, len);
    }
    const [fd, view] = setup(sys, entries, cqEntries, flags, null);
    if (fd < 0) Ring.#failed(sys, fd, options);
    return Ring.#opened(sys, fd, view, flags, null);
  }

  static #failed(sys: UringSys, fd: number, options: RingOptions): never {
    const errno = errnoOf(sys, fd);
    if (errno === EPERM || errno === ENOSYS || (errno === EINVAL && options.flags === undefined)) {
      throw new CodedError('ERR_URING_UNAVAILABLE', `io_uring unavailable: ${setupFailure(errno, readDisabled())}`);
    }
    throw new SyscallError(errno, 'io_uring_setup');
  }

  static #opened(sys: UringSys, fd: number, view: DataView, flags: number, own: OwnRingMemory | null): Ring {
    try {
      const ring = new Ring(sys, fd, view, flags, own);
      // In a worker: closed when the thread ends, even on terminate(); the
      // kernel then cancels what the ring still had in flight.
      closeAtThreadExit(fd);
      return ring;
    } catch (err) {
      // The constructor has unmapped what it mapped, `own` included (its
      // blocks are in #maps from the start): unmapping again could hit a
      // range another thread has mapped since.
      sys.close(fd);
      throw err;
    }
  }

  #map(length: number, offset: number): ArrayBuffer {
    const len = pageRound(length);
    return this.#sys.view(this.#mapped(len, MAP_SHARED | MAP_POPULATE, this.fd, offset), len);
  }

  #mapAnon(length: number): bigint {
    return this.#mapped(length, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }

  /** One more mapping of this ring's, kept for close(); a failure unmaps the ones made so far. */
  #mapped(length: number, flags: number, fd: number, offset: number): bigint {
    let addr: bigint;
    try {
      addr = mapOrThrow(this.#sys, length, PROT_READ | PROT_WRITE, flags, fd, offset);
    } catch (err) {
      this.#unmapAll();
      throw err;
    }
    this.#maps.push([addr, length]);
    return addr;
  }

  #unmapAll(): void {
    for (const [addr, len] of this.#maps) this.#sys.munmap(addr, len);
    this.#maps.length = 0;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The binding table this ring uses (for the buffer rings registered on it). */
  get sys(): UringSys {
    return this.#sys;
  }

  /** SQEs filled but not yet submitted. */
  get pending(): number {
    return (this.#sqTail - Atomics.load(this.#sq, this.#sqHead)) >>> 0;
  }

  /** Completions waiting in the CQ ring (no system call). */
  get ready(): number {
    return (Atomics.load(this.#cq, this.#cqTailWord) - this.#cqHead) >>> 0;
  }

  /** Completions the kernel could not post because the CQ was full (only without FEAT_NODROP). */
  get overflow(): number {
    return this.#cq[this.#cqOverflowWord];
  }

  /**
   * A zeroed SQE slot (its index); when the SQ is full the pending SQEs are
   * submitted first.
   * @throws {CodedError} `ERR_URING_CLOSED` after close.
   */
  sqe(): number {
    if (this.#closed) throw uringClosedError();
    if (this.pending >= this.sqEntries) this.submit();
    const index = this.#sqTail & this.#sqMask;
    this.#sqTail = (this.#sqTail + 1) >>> 0;
    const w = index * 8;
    const q = this.#sqe64;
    q[w] = 0; q[w + 1] = 0; q[w + 2] = 0; q[w + 3] = 0;
    q[w + 4] = 0; q[w + 5] = 0; q[w + 6] = 0; q[w + 7] = 0;
    return index;
  }

  #fill(opcode: number, fd: number, userData: number): number {
    const i = this.sqe();
    this.#sqe8[i * 64] = opcode;
    this.#sqeI32[i * 16 + 1] = fd;
    this.#sqe32[i * 16 + 8] = userData >>> 0;
    this.#sqe32[i * 16 + 9] = (userData / TWO_32) >>> 0;
    return i;
  }

  #addr(i: number, wordOffset: number, addr: number): void {
    this.#sqe32[i * 16 + wordOffset] = addr >>> 0;
    this.#sqe32[i * 16 + wordOffset + 1] = (addr / TWO_32) >>> 0;
  }

  /** Mark SQE `i` as linked to the next one (`hard`: the next runs even if this one fails). */
  link(i: number, hard = false): void {
    this.#sqe8[i * 64 + 1] |= hard ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK;
  }

  /** Set IOSQE_* flags on SQE `i`. */
  setFlags(i: number, flags: number): void {
    this.#sqe8[i * 64 + 1] |= flags;
  }

  /** A NOP: completes with res 0. */
  prepNop(userData: number): number {
    return this.#fill(IORING_OP_NOP, -1, userData);
  }

  /**
   * accept4 on a listening socket; `multishot` keeps it armed (one CQE per
   * connection, `IORING_CQE_F_MORE` while it stays armed). New fds get
   * `flags` (SOCK_CLOEXEC, SOCK_NONBLOCK).
   */
  prepAccept(fd: number, userData: number, flags: number, multishot: boolean): number {
    const i = this.#fill(IORING_OP_ACCEPT, fd, userData);
    this.#sqe32[i * 16 + 7] = flags;
    if (multishot) this.#sqe16[i * 32 + 1] = IORING_ACCEPT_MULTISHOT;
    return i;
  }

  /**
   * recv into a buffer picked by the kernel from buffer group `bgid`;
   * `multishot` keeps it armed (one CQE per arrival).
   */
  prepRecvSelect(fd: number, bgid: number, userData: number, multishot: boolean): number {
    const i = this.#fill(IORING_OP_RECV, fd, userData);
    this.#sqe8[i * 64 + 1] = IOSQE_BUFFER_SELECT;
    this.#sqe16[i * 32 + 20] = bgid;
    if (multishot) this.#sqe16[i * 32 + 1] = IORING_RECV_MULTISHOT;
    return i;
  }

  /** recv into native memory at `addr` (it must not move: mmap or koffi memory). */
  prepRecv(fd: number, addr: number, len: number, flags: number, userData: number): number {
    const i = this.#fill(IORING_OP_RECV, fd, userData);
    this.#addr(i, 4, addr);
    this.#sqe32[i * 16 + 6] = len;
    this.#sqe32[i * 16 + 7] = flags;
    return i;
  }

  /** send from native memory at `addr` (it must stay untouched until the completion). */
  prepSend(fd: number, addr: number, len: number, flags: number, userData: number): number {
    const i = this.#fill(IORING_OP_SEND, fd, userData);
    this.#addr(i, 4, addr);
    this.#sqe32[i * 16 + 6] = len;
    this.#sqe32[i * 16 + 7] = flags;
    return i;
  }

  /** poll(2)-style readiness on `fd`; `multishot` keeps it armed. */
  prepPollAdd(fd: number, events: number, userData: number, multishot: boolean): number {
    const i = this.#fill(IORING_OP_POLL_ADD, fd, userData);
    this.#sqe32[i * 16 + 7] = events;
    if (multishot) this.#sqe32[i * 16 + 6] = IORING_POLL_ADD_MULTI;
    return i;
  }

  /**
   * A timer: completes with -ETIME after `ms` milliseconds (the kernel
   * copies the timespec when the SQE is submitted, so one scratch slot
   * serves every timer).
   */
  prepTimeout(ms: number, userData: number): number {
    const v = this.#scratchView;
    v.setBigInt64(TIMER_TS_OFFSET, BigInt(Math.floor(ms / 1000)), true);
    v.setBigInt64(TIMER_TS_OFFSET + 8, BigInt(Math.round((ms % 1000) * 1e6)), true);
    const i = this.#fill(IORING_OP_TIMEOUT, -1, userData);
    this.#addr(i, 4, this.#scratchAddr + TIMER_TS_OFFSET);
    this.#sqe32[i * 16 + 6] = 1;
    return i;
  }

  /** shutdown(2). */
  prepShutdown(fd: number, how: number, userData: number): number {
    const i = this.#fill(IORING_OP_SHUTDOWN, fd, userData);
    this.#sqe32[i * 16 + 6] = how;
    return i;
  }

  /** close(2) done by the kernel, in order with linked requests. */
  prepClose(fd: number, userData: number): number {
    return this.#fill(IORING_OP_CLOSE, fd, userData);
  }

  /** Cancel every request on `fd` (res: how many were found). */
  prepCancelFd(fd: number, userData: number): number {
    const i = this.#fill(IORING_OP_ASYNC_CANCEL, fd, userData);
    this.#sqe32[i * 16 + 7] = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    return i;
  }

  /** Cancel the request submitted with user data `target` (res 0, or -ENOENT / -EALREADY). */
  prepCancel(target: number, userData: number): number {
    const i = this.#fill(IORING_OP_ASYNC_CANCEL, -1, userData);
    this.#addr(i, 4, target);
    return i;
  }

  /** Whether {@link submit} can take `minWaitUs` (IORING_FEAT_MIN_TIMEOUT, 6.12). */
  get minWait(): boolean {
    return (this.features & IORING_FEAT_MIN_TIMEOUT) !== 0;
  }

  /**
   * Submit the pending SQEs and wait for at least `waitFor` completions
   * (one io_uring_enter; with DEFER_TASKRUN it also runs the completion
   * work, so call it with 0 to collect what finished). `timeoutMs` bounds
   * the wait (EXT_ARG); a wait cut short by a signal returns early (and
   * throws the keyboard interrupt when armed). With `minWaitUs` (where
   * {@link minWait}), a wait for a batch (`waitFor` > 1) returns once that
   * many microseconds have passed and at least one completion is there,
   * and otherwise at the first one: fewer wake-ups, at most `minWaitUs`
   * more latency.
   * @returns the number of SQEs the kernel consumed.
   * @throws {SyscallError} for errors other than EINTR, ETIME and EBUSY.
   */
  submit(waitFor = 0, timeoutMs = -1, minWaitUs = 0): number {
    if (this.#closed) throw uringClosedError();
    // A signal that cut short an earlier enter which had submitted SQEs
    // left no EINTR (the enter returned the count): act on it before waiting.
    if (waitFor > 0 && interruptsArmed) checkInterrupts('io_uring_enter');
    const toSubmit = this.pending;
    // Publish the filled SQEs: the kernel reads up to this tail; and the
    // completions reaped, or a wait would count them as still there.
    Atomics.store(this.#sq, this.#sqTailWord, this.#sqTail);
    Atomics.store(this.#cq, this.#cqHeadWord, this.#cqHead);
    let flags = IORING_ENTER_GETEVENTS | this.#enterFlags;
    let arg = 0;
    let argsz = 0;
    if (waitFor > 1 && minWaitUs > 0 && this.minWait) {
      if (timeoutMs !== this.#argTimeout || minWaitUs !== this.#argMinWait) this.#writeTimeout(timeoutMs, minWaitUs);
      flags |= IORING_ENTER_EXT_ARG;
      arg = this.#scratchAddr;
      argsz = IO_URING_GETEVENTS_ARG_SIZE;
    } else if (waitFor > 0 && timeoutMs >= 0) {
      if (timeoutMs !== this.#argTimeout || this.#argMinWait !== 0) this.#writeTimeout(timeoutMs, 0);
      flags |= IORING_ENTER_EXT_ARG;
      arg = this.#scratchAddr;
      argsz = IO_URING_GETEVENTS_ARG_SIZE;
    }
    this.stats.enters++;
    const n = this.#sys.io_uring_enter(this.#enterFd, toSubmit, waitFor, flags, arg, argsz);
    if (n < 0) {
      const errno = errnoOf(this.#sys, n);
      // ETIME: the timeout passed; EBUSY/EAGAIN: CQ overflow backlog, reap first.
      if (errno === EINTR) interrupted('io_uring_enter');
      else if (errno !== ETIME && errno !== EBUSY && errno !== EAGAIN) throw new SyscallError(errno, 'io_uring_enter');
      const consumed = toSubmit - this.pending;
      this.stats.submitted += consumed;
      return consumed;
    }
    this.stats.submitted += n;
    return n;
  }

  // The EXT_ARG of a timed wait: struct io_uring_getevents_arg at 0 (its
  // min_wait_usec at 12), the struct __kernel_timespec it points to right
  // after it (rewritten only when the timeout changes).
  #writeTimeout(timeoutMs: number, minWaitUs: number): void {
    const v = this.#scratchView;
    v.setBigUint64(0, 0n, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, minWaitUs, true);
    // Without a limit the kernel would end a batch wait at min_wait_usec
    // even with nothing there: a limit of ~30 years stands for none.
    const ms = timeoutMs < 0 ? FOREVER_MS : timeoutMs;
    v.setBigUint64(GETEVENTS_ARG_TS_OFFSET, this.#scratch + BigInt(IO_URING_GETEVENTS_ARG_SIZE), true);
    v.setBigInt64(IO_URING_GETEVENTS_ARG_SIZE, BigInt(Math.floor(ms / 1000)), true);
    v.setBigInt64(IO_URING_GETEVENTS_ARG_SIZE + 8, BigInt(Math.round((ms % 1000) * 1e6)), true);
    this.#argTimeout = timeoutMs;
    this.#argMinWait = minWaitUs;
  }

  /**
   * Hand each completion in the CQ ring to `handler` (no system call),
   * at most `max`. The head advances before each call, so a handler may
   * submit and enter again (a nested turn reaps from where this one is);
   * the kernel sees the new head at the end and before each enter.
   * @returns how many were handled.
   */
  reap(handler: CompletionHandler, max = Infinity): number {
    const cq = this.#cq;
    const cqI32 = this.#cqI32;
    const mask = this.#cqMask;
    const base = this.#cqes;
    let tail = Atomics.load(cq, this.#cqTailWord);
    let n = 0;
    try {
      while (n < max) {
        // The head is read again each time: a handler may have reaped too (a nested turn).
        const head = this.#cqHead;
        if (head === tail) {
          tail = Atomics.load(cq, this.#cqTailWord);
          if (head === tail) break;
        }
        const w = base + ((head & mask) << 2);
        const userData = cq[w] + cq[w + 1] * TWO_32;
        const res = cqI32[w + 2];
        const flags = cq[w + 3];
        this.#cqHead = (head + 1) >>> 0;
        n++;
        handler(userData, res, flags);
        // After close() the views point at unmapped memory.
        if (this.#closed) break;
      }
    } finally {
      if (!this.#closed) Atomics.store(cq, this.#cqHeadWord, this.#cqHead);
      this.stats.completions += n;
    }
    return n;
  }

  /**
   * io_uring_register(2) with a struct argument.
   * @throws {SyscallError} `io_uring_register` on failure.
   */
  register(opcode: number, arg: ArrayBufferView | null, nrArgs: number): number {
    if (this.#closed) throw uringClosedError();
    return check(this.#sys, this.#sys.io_uring_register(this.fd, opcode, arg, nrArgs), 'io_uring_register');
  }

  /** Have the kernel signal eventfd `efd` when completions are posted (IORING_REGISTER_EVENTFD). */
  registerEventfd(efd: number): void {
    this.register(IORING_REGISTER_EVENTFD, Int32Array.of(efd), 1);
  }

  /** Stop signalling the registered eventfd. */
  unregisterEventfd(): void {
    this.register(IORING_UNREGISTER_EVENTFD, null, 0);
  }

  /**
   * Unmap the rings and close the ring fd (the kernel cancels what is in
   * flight). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unmapAll();
    if (this.#enterFlags !== 0) {
      // The thread's registration holds a reference to the ring: drop it, or closing the fd would not free the ring.
      const update = new Uint32Array(4);
      update[0] = this.#enterFd;
      this.#sys.io_uring_register(this.fd, IORING_UNREGISTER_RING_FDS, update, 1);
    }
    keepAtThreadExit(this.fd);
    this.#sys.close(this.fd);
  }
}

/** The error of a call on a closed ring. */
export function uringClosedError(): CodedError {
  return new CodedError('ERR_URING_CLOSED', 'the io_uring ring is closed');
}
