/**
 * getaddrinfo(3) through libc: the hints written, the result list walked
 * and copied out of libc's memory (then freed), and a failure turned into
 * a Node-shaped error (`ENOTFOUND`, `EAI_*`, or errno for EAI_SYSTEM).
 */

import { EAI_NODATA, EAI_NONAME, EAI_SYSTEM } from './constants.js';
import {
  ADDRINFO_SIZE, AI_ADDR_OFFSET, AI_ADDRLEN_OFFSET, AI_CANONNAME_OFFSET, AI_FAMILY_OFFSET, AI_FLAGS_OFFSET,
  AI_NEXT_OFFSET, AI_PROTOCOL_OFFSET, AI_SOCKTYPE_OFFSET,
} from './structs.js';
import { fail } from './check.js';
import type { Libc } from './libc.js';
import { SyscallError, type ErrorTarget } from '../errors.js';

const EAI_NAMES: Record<number, string> = {
  [-1]: 'EAI_BADFLAGS', [-3]: 'EAI_AGAIN', [-4]: 'EAI_FAIL', [-6]: 'EAI_FAMILY', [-7]: 'EAI_SOCKTYPE',
  [-8]: 'EAI_SERVICE', [-9]: 'EAI_ADDRFAMILY', [-10]: 'EAI_MEMORY', [-12]: 'EAI_OVERFLOW',
};

// One getaddrinfo call at a time (the calls are synchronous), so the hints
// and the result pointer are reused.
const HINTS = Buffer.alloc(ADDRINFO_SIZE);
const RES = new BigUint64Array(1);

/** One entry of getaddrinfo's list, its sockaddr copied out of libc's memory. */
export interface RawAddrInfo {
  family: number;
  type: number;
  proto: number;
  canonname: string;
  sockaddr: Buffer;
}

/**
 * getaddrinfo through `sys`; each result's sockaddr is a copy of its bytes.
 * @throws {SyscallError} `ENOTFOUND` (EAI_NONAME/EAI_NODATA) or the `EAI_*` name.
 */
export function gaiRaw(sys: Libc, host: string | null, service: string | null, family: number, type: number, proto: number, flags: number): RawAddrInfo[] {
  writeHints(HINTS, family, type, proto, flags);
  RES[0] = 0n;
  const rc = sys.getaddrinfo(host, service, HINTS, RES);
  if (rc !== 0) throw gaiError(sys, rc, host);
  return walk(sys, RES[0]);
}

/**
 * {@link gaiRaw} on libuv's threadpool, as Node's `dns.lookup` runs: Node's
 * loop goes on meanwhile.
 * @throws {SyscallError} (rejected) `ENOTFOUND` or the `EAI_*` name, or errno for EAI_SYSTEM.
 */
export function gaiRawAsync(
  sys: Libc, host: string | null, service: string | null, family: number, type: number, proto: number, flags: number,
): Promise<RawAddrInfo[]> {
  // Per call: the worker thread reads and writes them until the callback.
  const hints = Buffer.alloc(ADDRINFO_SIZE);
  const res = new BigUint64Array(1);
  writeHints(hints, family, type, proto, flags);
  return new Promise((resolve, reject) => {
    sys.getaddrinfoAsync(host, service, hints, res, (err, rc, errno) => {
      if (err !== null) reject(err);
      else if (rc === EAI_SYSTEM) reject(new SyscallError(errno, 'getaddrinfo', host !== null ? { hostname: host } : undefined));
      else if (rc !== 0) reject(gaiError(sys, rc, host));
      else {
        try {
          resolve(walk(sys, res[0]));
        } catch (e) {
          reject(e as Error);
        }
      }
    });
  });
}

function writeHints(hints: Buffer, family: number, type: number, proto: number, flags: number): void {
  hints.fill(0);
  hints.writeInt32LE(flags, AI_FLAGS_OFFSET);
  hints.writeInt32LE(family, AI_FAMILY_OFFSET);
  hints.writeInt32LE(type, AI_SOCKTYPE_OFFSET);
  hints.writeInt32LE(proto, AI_PROTOCOL_OFFSET);
}

/** Copy out the list at `head` (then free it). */
function walk(sys: Libc, head: bigint): RawAddrInfo[] {
  const out: RawAddrInfo[] = [];
  try {
    for (let p = head; p !== 0n;) {
      const ai = sys.peek(p, ADDRINFO_SIZE);
      const addrlen = ai.readUInt32LE(AI_ADDRLEN_OFFSET);
      const addrPtr = ai.readBigUInt64LE(AI_ADDR_OFFSET);
      const canonPtr = ai.readBigUInt64LE(AI_CANONNAME_OFFSET);
      out.push({
        family: ai.readInt32LE(AI_FAMILY_OFFSET),
        type: ai.readInt32LE(AI_SOCKTYPE_OFFSET),
        proto: ai.readInt32LE(AI_PROTOCOL_OFFSET),
        canonname: canonPtr === 0n ? '' : sys.peekString(canonPtr),
        sockaddr: addrPtr === 0n || addrlen === 0 ? Buffer.alloc(0) : sys.peek(addrPtr, addrlen),
      });
      p = ai.readBigUInt64LE(AI_NEXT_OFFSET);
    }
  } finally {
    if (head !== 0n) sys.freeaddrinfo(head);
  }
  return out;
}

function gaiError(sys: Libc, rc: number, host: string | null): SyscallError {
  return gaiFailure(sys, rc, 'getaddrinfo', host);
}

/**
 * The error for a resolver call (getaddrinfo, getnameinfo) that returned
 * the EAI_* code `rc`: `ENOTFOUND` for EAI_NONAME/EAI_NODATA, errno for
 * EAI_SYSTEM (read first), the `EAI_*` name otherwise; `hostname` is `host`.
 */
export function gaiFailure(sys: Libc, rc: number, syscall: string, host: string | null): SyscallError {
  const target: ErrorTarget | undefined = host !== null ? { hostname: host } : undefined;
  // EAI_SYSTEM: the cause is in errno (read before any other call).
  if (rc === EAI_SYSTEM) return fail(sys, syscall, target);
  const code = rc === EAI_NONAME || rc === EAI_NODATA ? 'ENOTFOUND' : (EAI_NAMES[rc] ?? `EAI_${-rc}`);
  return new SyscallError(rc, syscall, target, code, sys.gai_strerror(rc));
}

/**
 * The error getaddrinfo gives for a name without an address of the
 * family asked for: `ENOTFOUND`, as for EAI_NONAME.
 */
export function gaiNotFound(sys: Libc, host: string): SyscallError {
  return new SyscallError(EAI_NONAME, 'getaddrinfo', { hostname: host }, 'ENOTFOUND', sys.gai_strerror(EAI_NONAME));
}
