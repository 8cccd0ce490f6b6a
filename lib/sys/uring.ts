/**
 * The io_uring system calls and the memory calls a ring needs, through
 * koffi. A table of its own beside libc.ts (loaded only when a ring is
 * first opened), with the same conventions: C names, C semantics (-1 and
 * errno), pointer arguments as Buffers / typed arrays or raw addresses.
 *
 * glibc has no wrappers for io_uring, so the three calls go through
 * `syscall(2)`. It is variadic; like fcntl in libc.ts it is declared here
 * with fixed arities, which the x86-64 and arm64 (Linux) calling conventions
 * pass exactly as the variadic call for integer and pointer arguments.
 */

import { createRequire } from 'node:module';
import { fail } from './check.js';
import { libc } from './libc.js';
import { SYS_io_uring_enter, SYS_io_uring_register, SYS_io_uring_setup } from './uring-constants.js';

/** The calls a ring makes. */
export interface UringSys {
  /** errno of the last failing call; read it before any other call. */
  errno(): number;
  /** io_uring_setup(2): a ring fd, or -1. `params` is a struct io_uring_params (120 bytes), read and written. */
  io_uring_setup(entries: number, params: Uint8Array): number;
  /**
   * io_uring_enter(2) with a raw address for `arg` (0 for none): the
   * number of SQEs consumed, or -1.
   */
  io_uring_enter(fd: number, toSubmit: number, minComplete: number, flags: number, arg: bigint | number, argsz: number): number;
  /** io_uring_register(2) with a struct in `arg` (copied by the kernel during the call). */
  io_uring_register(fd: number, opcode: number, arg: ArrayBufferView | null, nrArgs: number): number;
  /** mmap(2) with addr NULL: the address, or `MAP_FAILED` (`0xffffffffffffffffn`). */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): bigint;
  munmap(addr: bigint, length: number): number;
  /** An ArrayBuffer over `length` bytes of native memory at `addr` (no copy). */
  view(addr: bigint, length: number): ArrayBuffer;
  close(fd: number): number;
}

/** The page size mmap(2) rounds lengths to (4 KiB on the machines we support). */
export const PAGE = 4096;

/** `n` bytes rounded up to whole pages: the length to mmap or munmap. */
export const pageRound = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** What mmap(2) returns on failure. */
export const MAP_FAILED = 0xffffffffffffffffn;

/**
 * mmap(2) with addr NULL that either maps or throws.
 * @throws {SyscallError} `mmap` with the errno (ENOMEM, EINVAL, ...).
 */
export function mapOrThrow(sys: UringSys, length: number, prot: number, flags: number, fd: number, offset: number): bigint {
  const addr = sys.mmap(length, prot, flags, fd, offset);
  if (addr === MAP_FAILED) throw fail(sys, 'mmap', undefined);
  return addr;
}

interface KoffiFn {
  (...args: unknown[]): any;
}
interface KoffiModule {
  load(path: string): { func(decl: string): KoffiFn };
  errno(): number;
  view(ptr: bigint, len: number): ArrayBuffer;
}

function load(): UringSys {
  // libc() first: it checks the platform and pins koffi's binary in workers.
  const c = libc();
  const koffi = createRequire(import.meta.url)('koffi') as KoffiModule;
  const lib = koffi.load('libc.so.6');
  const f = (decl: string): KoffiFn => lib.func(decl);
  const setup = f('long syscall(long nr, uint32_t entries, void *params)');
  const enter = f('long syscall(long nr, int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags, uint64_t arg, size_t argsz)');
  const register = f('long syscall(long nr, int fd, uint32_t opcode, void *arg, uint32_t nr_args)');
  const mmap = f('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  return {
    errno: () => koffi.errno(),
    io_uring_setup: (entries, params) => Number(setup(SYS_io_uring_setup, entries, params)),
    io_uring_enter: (fd, toSubmit, minComplete, flags, arg, argsz) =>
      Number(enter(SYS_io_uring_enter, fd, toSubmit, minComplete, flags, arg, argsz)),
    io_uring_register: (fd, opcode, arg, nrArgs) => Number(register(SYS_io_uring_register, fd, opcode, arg, nrArgs)),
    mmap: (length, prot, flags, fd, offset) => {
      const addr: unknown = mmap(null, length, prot, flags, fd, offset);
      // koffi gives pointers as BigInt (and NULL as null, which mmap never returns).
      return typeof addr === 'bigint' ? addr : BigInt(addr as number);
    },
    munmap: f('int munmap(uint64_t addr, size_t length)'),
    view: (addr, length) => koffi.view(addr, length),
    close: (fd) => c.close(fd),
  };
}

let cached: UringSys | undefined;

/**
 * The process-wide io_uring binding table, loaded on first call.
 * @throws {CodedError} `ERR_UNSUPPORTED_PLATFORM` anywhere but Linux x86-64/arm64.
 */
export function uringSys(): UringSys {
  return cached ?? (cached = load());
}
