/**
 * Struct layouts, in one place, for the architectures we run on (Linux
 * x86-64 and arm64, both little-endian, LP64). The library reads and writes
 * these structs in plain Buffers / typed arrays at the offsets below, which
 * is cheaper than letting koffi marshal objects on every call; test/sys
 * checks every size and offset against koffi's own sizeof/offsetof.
 * Pure: loads without libc.
 */

import { AF_INET, AF_INET6, AF_UNIX, FD_SETSIZE } from './constants.js';

/** True on x86-64, where `struct epoll_event` is declared packed. */
export const IS_X64 = process.arch === 'x64';

// struct epoll_event { uint32_t events; epoll_data_t data; }
// glibc marks it __attribute__((packed)) on x86-64 only (EPOLL_PACKED), so
// the 8-byte data union sits at offset 4 there and at offset 8 on arm64.
/** sizeof(struct epoll_event): 12 on x86-64 (packed), 16 on arm64. */
export const EPOLL_EVENT_SIZE = IS_X64 ? 12 : 16;
/** offsetof(struct epoll_event, events). */
export const EPOLL_EVENT_EVENTS_OFFSET = 0;
/** offsetof(struct epoll_event, data). */
export const EPOLL_EVENT_DATA_OFFSET = IS_X64 ? 4 : 8;
/** The struct's stride in 32-bit words (events at word 0, data.fd at {@link EPOLL_EVENT_FD_WORD}). */
export const EPOLL_EVENT_WORDS = EPOLL_EVENT_SIZE / 4;
/** Index, in 32-bit words, of `data.fd` inside one epoll_event. */
export const EPOLL_EVENT_FD_WORD = EPOLL_EVENT_DATA_OFFSET / 4;

// struct pollfd { int fd; short events; short revents; }
/** sizeof(struct pollfd). */
export const POLLFD_SIZE = 8;
export const POLLFD_FD_OFFSET = 0;
export const POLLFD_EVENTS_OFFSET = 4;
export const POLLFD_REVENTS_OFFSET = 6;

/** sizeof(fd_set): FD_SETSIZE bits. */
export const FD_SET_SIZE = FD_SETSIZE / 8;

// struct timeval { time_t tv_sec; suseconds_t tv_usec; } (both 64-bit on LP64)
export const TIMEVAL_SIZE = 16;
export const TIMEVAL_SEC_OFFSET = 0;
export const TIMEVAL_USEC_OFFSET = 8;

// struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; }
export const RLIMIT_SIZE = 16;
export const RLIMIT_CUR_OFFSET = 0;
export const RLIMIT_MAX_OFFSET = 8;

// struct linger { int l_onoff; int l_linger; }
export const LINGER_SIZE = 8;

// struct sockaddr_in { sa_family_t sin_family; in_port_t sin_port; struct in_addr sin_addr; char sin_zero[8]; }
export const SOCKADDR_IN_SIZE = 16;
export const SIN_FAMILY_OFFSET = 0;
export const SIN_PORT_OFFSET = 2;
export const SIN_ADDR_OFFSET = 4;

// struct sockaddr_in6 { sa_family_t; in_port_t; uint32_t sin6_flowinfo; struct in6_addr; uint32_t sin6_scope_id; }
export const SOCKADDR_IN6_SIZE = 28;
export const SIN6_FAMILY_OFFSET = 0;
export const SIN6_PORT_OFFSET = 2;
export const SIN6_FLOWINFO_OFFSET = 4;
export const SIN6_ADDR_OFFSET = 8;
export const SIN6_SCOPE_ID_OFFSET = 24;

// struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }
export const SOCKADDR_UN_SIZE = 110;
export const SUN_PATH_OFFSET = 2;
/** Bytes in sun_path. */
export const UNIX_PATH_MAX = 108;

/** sizeof(struct sockaddr_storage): room for any address. */
export const SOCKADDR_STORAGE_SIZE = 128;

// struct addrinfo on LP64.
export const ADDRINFO_SIZE = 48;
export const AI_FLAGS_OFFSET = 0;
export const AI_FAMILY_OFFSET = 4;
export const AI_SOCKTYPE_OFFSET = 8;
export const AI_PROTOCOL_OFFSET = 12;
export const AI_ADDRLEN_OFFSET = 16;
export const AI_ADDR_OFFSET = 24;
export const AI_CANONNAME_OFFSET = 32;
export const AI_NEXT_OFFSET = 40;

// glibc's sigset_t (1024 bits) and struct sigaction { handler; sa_mask;
// int sa_flags; void (*sa_restorer)(void); }, the same on x86-64 and arm64.
/** sizeof(sigset_t) in glibc. */
export const SIGSET_SIZE = 128;
/** sizeof(struct sigaction) in glibc. */
export const SIGACTION_SIZE = 152;
export const SA_HANDLER_OFFSET = 0;
export const SA_MASK_OFFSET = 8;
export const SA_FLAGS_OFFSET = 136;

/** The sockaddr size to pass for an address family (0 if unknown). */
export function sockaddrSize(family: number): number {
  switch (family) {
    case AF_INET: return SOCKADDR_IN_SIZE;
    case AF_INET6: return SOCKADDR_IN6_SIZE;
    case AF_UNIX: return SOCKADDR_UN_SIZE;
    default: return 0;
  }
}

/** Set bit `fd` in an fd_set held in a Buffer (FD_SET). */
export function fdSet(set: Uint8Array, fd: number): void {
  // fds_bits is an array of longs; on little-endian machines bit fd of the
  // set is bit fd%8 of byte fd/8, so byte-wise access matches FD_SET.
  set[fd >> 3] |= 1 << (fd & 7);
}

/** Clear bit `fd` in an fd_set (FD_CLR). */
export function fdClr(set: Uint8Array, fd: number): void {
  set[fd >> 3] &= ~(1 << (fd & 7));
}

/** Test bit `fd` in an fd_set (FD_ISSET). */
export function fdIsSet(set: Uint8Array, fd: number): boolean {
  return (set[fd >> 3] & (1 << (fd & 7))) !== 0;
}

/**
 * Write entry `index` of a `struct pollfd` array: `fd`, `events`, and
 * `revents` cleared (the two shorts share one little-endian word).
 */
export function writePollfd(buf: Buffer, index: number, fd: number, events: number): void {
  const off = index * POLLFD_SIZE;
  buf.writeInt32LE(fd, off + POLLFD_FD_OFFSET);
  buf.writeUInt32LE(events & 0xffff, off + POLLFD_EVENTS_OFFSET);
}

/** `revents` of entry `index` of a `struct pollfd` array. */
export function pollfdRevents(buf: Buffer, index: number): number {
  return buf.readUInt16LE(index * POLLFD_SIZE + POLLFD_REVENTS_OFFSET);
}

/** Write a `struct timeval` of `us` microseconds (>= 0; a fraction is rounded up) into `buf`. */
export function writeTimeval(buf: Buffer, us: number): void {
  const whole = Math.ceil(us);
  const sec = Math.floor(whole / 1e6);
  // Two 32-bit halves per 64-bit field, little-endian: no BigInt on the hot path.
  buf.writeUInt32LE(sec % 0x100000000, TIMEVAL_SEC_OFFSET);
  buf.writeUInt32LE(Math.floor(sec / 0x100000000), TIMEVAL_SEC_OFFSET + 4);
  buf.writeUInt32LE(whole - sec * 1e6, TIMEVAL_USEC_OFFSET);
  buf.writeUInt32LE(0, TIMEVAL_USEC_OFFSET + 4);
}

/** Write a `struct sockaddr_in` for `ip` (a host-order uint32) and `port`; returns its size. */
export function writeSockaddrIn(out: Buffer, ip: number, port: number): number {
  out.fill(0, 0, SOCKADDR_IN_SIZE);
  out.writeUInt16LE(AF_INET, SIN_FAMILY_OFFSET);
  out.writeUInt16BE(port, SIN_PORT_OFFSET);
  out.writeUInt32BE(ip, SIN_ADDR_OFFSET);
  return SOCKADDR_IN_SIZE;
}

/**
 * Write a `struct sockaddr_in6`: `addr` the 16 address bytes (null: the
 * any address), port and flowinfo in network order, the scope id in host
 * order (as the kernel keeps it); returns its size.
 */
export function writeSockaddrIn6(out: Buffer, addr: Uint8Array | null, port: number, flowinfo: number, scopeId: number): number {
  out.fill(0, 0, SOCKADDR_IN6_SIZE);
  out.writeUInt16LE(AF_INET6, SIN6_FAMILY_OFFSET);
  out.writeUInt16BE(port, SIN6_PORT_OFFSET);
  out.writeUInt32BE(flowinfo, SIN6_FLOWINFO_OFFSET);
  if (addr !== null) out.set(addr.subarray(0, 16), SIN6_ADDR_OFFSET);
  out.writeUInt32LE(scopeId, SIN6_SCOPE_ID_OFFSET);
  return SOCKADDR_IN6_SIZE;
}

/**
 * Write a `struct sockaddr_un` for `path` (at most {@link UNIX_PATH_MAX}
 * bytes; the caller checks). A filesystem path gets its terminating NUL
 * inside sun_path; an abstract name (leading NUL) or '' (autobind) is
 * exact, without one (unix(7)). Returns the address length to pass.
 */
export function writeSockaddrUn(out: Buffer, path: Uint8Array): number {
  out.writeUInt16LE(AF_UNIX, 0);
  out.set(path, SUN_PATH_OFFSET);
  if (path.length === 0 || path[0] === 0) return SUN_PATH_OFFSET + path.length;
  out[SUN_PATH_OFFSET + path.length] = 0;
  return SUN_PATH_OFFSET + path.length + 1;
}

/**
 * Write one `struct epoll_event` at 32-bit word `word` of `words`: the
 * event mask, and the fd as `data` (its upper 32 bits zero).
 */
export function writeEpollEvent(words: Int32Array | Uint32Array, word: number, events: number, fd: number): void {
  words[word] = events;
  words[word + EPOLL_EVENT_FD_WORD] = fd;
  words[word + EPOLL_EVENT_FD_WORD + 1] = 0;
}

// struct iovec { void *iov_base; size_t iov_len; }
/** sizeof(struct iovec). */
export const IOVEC_SIZE = 16;
/** offsetof(iov_base): the buffer's address. */
export const IOV_BASE_OFFSET = 0;
/** offsetof(iov_len): the buffer's length, a size_t. */
export const IOV_LEN_OFFSET = 8;

// struct msghdr { void *msg_name; socklen_t msg_namelen; struct iovec *msg_iov;
//   size_t msg_iovlen; void *msg_control; size_t msg_controllen; int msg_flags; }
/** sizeof(struct msghdr) on LP64. */
export const MSGHDR_SIZE = 56;
/** offsetof(msg_name): the peer's sockaddr (to send to, or filled on receipt). */
export const MSG_NAME_OFFSET = 0;
/** offsetof(msg_namelen): a socklen_t, then 4 bytes of padding. */
export const MSG_NAMELEN_OFFSET = 8;
/** offsetof(msg_iov): the iovec array. */
export const MSG_IOV_OFFSET = 16;
/** offsetof(msg_iovlen): a size_t count of iovecs. */
export const MSG_IOVLEN_OFFSET = 24;
/** offsetof(msg_control): the ancillary data buffer. */
export const MSG_CONTROL_OFFSET = 32;
/** offsetof(msg_controllen): a size_t; recvmsg sets it to the bytes of control data received. */
export const MSG_CONTROLLEN_OFFSET = 40;
/** offsetof(msg_flags): set by recvmsg (MSG_TRUNC, MSG_CTRUNC, ...). */
export const MSG_FLAGS_OFFSET = 48;

/** CMSG_ALIGN: control messages are aligned to sizeof(size_t). */
export function cmsgAlign(n: number): number {
  return (n + 7) & ~7;
}

// struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; unsigned char data[]; }
// The data starts right after the header, which is already aligned.
/** sizeof(struct cmsghdr), and the offset of the data. */
export const CMSGHDR_SIZE = 16;
/** offsetof(cmsg_len): a size_t, header included (CMSG_LEN of the data). */
export const CMSG_LEN_OFFSET = 0;
/** offsetof(cmsg_level): SOL_SOCKET, IPPROTO_IP, ... */
export const CMSG_LEVEL_OFFSET = 8;
/** offsetof(cmsg_type): SCM_RIGHTS, IP_PKTINFO, ... */
export const CMSG_TYPE_OFFSET = 12;

// struct ucred { pid_t pid; uid_t uid; gid_t gid; }
/** sizeof(struct ucred). */
export const UCRED_SIZE = 12;

// struct if_nameindex { unsigned int if_index; char *if_name; }
/** sizeof(struct if_nameindex): one entry of if_nameindex(3)'s array. */
export const IF_NAMEINDEX_SIZE = 16;
/** offsetof(if_index): 0 ends the array. */
export const IF_INDEX_OFFSET = 0;
/** offsetof(if_name): a pointer to the NUL-terminated name. */
export const IF_NAME_OFFSET = 8;

// struct hostent { char *h_name; char **h_aliases; int h_addrtype; int h_length; char **h_addr_list; }
/** sizeof(struct hostent): what gethostbyaddr_r(3) fills. */
export const HOSTENT_SIZE = 32;
/** offsetof(h_name): the official name. */
export const H_NAME_OFFSET = 0;
/** offsetof(h_aliases): a NULL-terminated array of names. */
export const H_ALIASES_OFFSET = 8;
/** offsetof(h_addrtype): AF_INET or AF_INET6. */
export const H_ADDRTYPE_OFFSET = 16;
/** offsetof(h_length): bytes per address. */
export const H_LENGTH_OFFSET = 20;
/** offsetof(h_addr_list): a NULL-terminated array of packed addresses. */
export const H_ADDR_LIST_OFFSET = 24;

/** Write one `struct iovec` at entry `index` of an iovec array: a base address and a length. */
export function writeIovec(out: Buffer, index: number, base: bigint, len: number): void {
  const off = index * IOVEC_SIZE;
  out.writeBigUInt64LE(base, off + IOV_BASE_OFFSET);
  out.writeBigUInt64LE(BigInt(len), off + IOV_LEN_OFFSET);
}

/**
 * Write a `struct msghdr`: name (address and length; 0n/0 for none), the
 * iovec array and its count, the control buffer and its length; msg_flags
 * cleared.
 */
export function writeMsghdr(
  out: Buffer, name: bigint, namelen: number, iov: bigint, iovlen: number, control: bigint, controllen: number,
): void {
  out.fill(0, 0, MSGHDR_SIZE);
  out.writeBigUInt64LE(name, MSG_NAME_OFFSET);
  out.writeUInt32LE(namelen, MSG_NAMELEN_OFFSET);
  out.writeBigUInt64LE(iov, MSG_IOV_OFFSET);
  out.writeBigUInt64LE(BigInt(iovlen), MSG_IOVLEN_OFFSET);
  out.writeBigUInt64LE(control, MSG_CONTROL_OFFSET);
  out.writeBigUInt64LE(BigInt(controllen), MSG_CONTROLLEN_OFFSET);
}

/** Write a `struct cmsghdr` at `off` followed by `data`; returns the offset of the next one (CMSG_SPACE). */
export function writeCmsg(out: Buffer, off: number, level: number, type: number, data: Uint8Array): number {
  out.writeBigUInt64LE(BigInt(CMSGHDR_SIZE + data.byteLength), off + CMSG_LEN_OFFSET);
  out.writeInt32LE(level, off + CMSG_LEVEL_OFFSET);
  out.writeInt32LE(type, off + CMSG_TYPE_OFFSET);
  out.set(data, off + CMSGHDR_SIZE);
  return off + cmsgAlign(CMSGHDR_SIZE + data.byteLength);
}

/**
 * Decode the control messages in the first `controllen` bytes of `buf` as
 * `[level, type, data]`, each data a copy, clipped to the bytes that are
 * really there (the last one may be cut short when MSG_CTRUNC is set), as
 * CPython's recvmsg does.
 */
export function readCmsgs(buf: Buffer, controllen: number): [level: number, type: number, data: Buffer][] {
  const out: [number, number, Buffer][] = [];
  const end = Math.min(controllen, buf.length);
  let off = 0;
  while (off + CMSGHDR_SIZE <= end) {
    const len = Number(buf.readBigUInt64LE(off + CMSG_LEN_OFFSET));
    if (len < CMSGHDR_SIZE) break;
    const dataEnd = Math.min(off + len, end);
    out.push([buf.readInt32LE(off + CMSG_LEVEL_OFFSET), buf.readInt32LE(off + CMSG_TYPE_OFFSET),
      Buffer.from(buf.subarray(off + CMSGHDR_SIZE, dataEnd))]);
    off += cmsgAlign(len);
  }
  return out;
}

// ---- io_uring (include/uapi/linux/io_uring.h); same layout on x86-64 and arm64 ----

// struct io_sqring_offsets { u32 head, tail, ring_mask, ring_entries, flags, dropped, array, resv1; u64 user_addr; }
export const IO_SQRING_OFFSETS_SIZE = 40;
export const SQOFF_HEAD = 0;
export const SQOFF_TAIL = 4;
export const SQOFF_RING_MASK = 8;
export const SQOFF_RING_ENTRIES = 12;
export const SQOFF_FLAGS = 16;
export const SQOFF_DROPPED = 20;
export const SQOFF_ARRAY = 24;
export const SQOFF_USER_ADDR = 32;

// struct io_cqring_offsets { u32 head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1; u64 user_addr; }
export const IO_CQRING_OFFSETS_SIZE = 40;
export const CQOFF_HEAD = 0;
export const CQOFF_TAIL = 4;
export const CQOFF_RING_MASK = 8;
export const CQOFF_RING_ENTRIES = 12;
export const CQOFF_OVERFLOW = 16;
export const CQOFF_CQES = 20;
export const CQOFF_FLAGS = 24;
export const CQOFF_USER_ADDR = 32;

// struct io_uring_params { u32 sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3];
//   struct io_sqring_offsets sq_off; struct io_cqring_offsets cq_off; }
export const IO_URING_PARAMS_SIZE = 120;
export const PARAMS_SQ_ENTRIES_OFFSET = 0;
export const PARAMS_CQ_ENTRIES_OFFSET = 4;
export const PARAMS_FLAGS_OFFSET = 8;
export const PARAMS_SQ_THREAD_CPU_OFFSET = 12;
export const PARAMS_SQ_THREAD_IDLE_OFFSET = 16;
export const PARAMS_FEATURES_OFFSET = 20;
export const PARAMS_WQ_FD_OFFSET = 24;
export const PARAMS_SQ_OFF_OFFSET = 40;
export const PARAMS_CQ_OFF_OFFSET = 80;

// struct io_uring_sqe (64 bytes; the unions named by their first member).
export const IO_URING_SQE_SIZE = 64;
export const SQE_OPCODE_OFFSET = 0; // u8
export const SQE_FLAGS_OFFSET = 1; // u8
export const SQE_IOPRIO_OFFSET = 2; // u16
export const SQE_FD_OFFSET = 4; // s32
export const SQE_OFF_OFFSET = 8; // u64 off / addr2
export const SQE_ADDR_OFFSET = 16; // u64 addr
export const SQE_LEN_OFFSET = 24; // u32
export const SQE_OP_FLAGS_OFFSET = 28; // u32 msg_flags / accept_flags / cancel_flags / poll32_events
export const SQE_USER_DATA_OFFSET = 32; // u64
export const SQE_BUF_INDEX_OFFSET = 40; // u16 buf_index / buf_group
export const SQE_PERSONALITY_OFFSET = 42; // u16
export const SQE_FILE_INDEX_OFFSET = 44; // s32 splice_fd_in / file_index
export const SQE_ADDR3_OFFSET = 48; // u64

// struct io_uring_cqe { u64 user_data; s32 res; u32 flags; } (16 bytes without CQE32)
export const IO_URING_CQE_SIZE = 16;
export const CQE_USER_DATA_OFFSET = 0;
export const CQE_RES_OFFSET = 8;
export const CQE_FLAGS_OFFSET = 12;

// struct io_uring_buf { u64 addr; u32 len; u16 bid; u16 resv; }: one entry of a
// provided-buffer ring. The ring's u16 tail lives in entry 0's resv field.
export const IO_URING_BUF_SIZE = 16;
export const BUF_ADDR_OFFSET = 0;
export const BUF_LEN_OFFSET = 8;
export const BUF_BID_OFFSET = 12;
/** offsetof(struct io_uring_buf_ring, tail): entry 0's `resv`. */
export const BUF_RING_TAIL_OFFSET = 14;

// struct io_uring_buf_reg { u64 ring_addr; u32 ring_entries; u16 bgid; u16 flags; u64 resv[3]; }
export const IO_URING_BUF_REG_SIZE = 40;
export const BUF_REG_RING_ADDR_OFFSET = 0;
export const BUF_REG_RING_ENTRIES_OFFSET = 8;
export const BUF_REG_BGID_OFFSET = 12;
export const BUF_REG_FLAGS_OFFSET = 14;

// struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 min_wait_usec (pad before 6.12); u64 ts; }
export const IO_URING_GETEVENTS_ARG_SIZE = 24;
export const GETEVENTS_ARG_SIGMASK_OFFSET = 0;
export const GETEVENTS_ARG_SIGMASK_SZ_OFFSET = 8;
export const GETEVENTS_ARG_TS_OFFSET = 16;

// struct __kernel_timespec { s64 tv_sec; s64 tv_nsec; }
export const KERNEL_TIMESPEC_SIZE = 16;

// struct io_uring_probe { u8 last_op; u8 ops_len; u16 resv; u32 resv2[3]; struct io_uring_probe_op ops[]; }
// struct io_uring_probe_op { u8 op; u8 resv; u16 flags; u32 resv2; }
export const IO_URING_PROBE_SIZE = 16;
export const IO_URING_PROBE_OP_SIZE = 8;
export const PROBE_OP_FLAGS_OFFSET = 2;
