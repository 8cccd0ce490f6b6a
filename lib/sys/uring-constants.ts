/**
 * Kernel constants of io_uring (include/uapi/linux/io_uring.h) and the
 * few mmap(2) flags and errno values the ring needs. Kept apart from
 * constants.ts on purpose: the package root re-exports every constant of
 * that file, and these are the engine's own (lib/uring), not public API.
 * Pure: loads without libc.
 */
// Syscall numbers: x86-64 and arm64 both take these from the generic table.
export const SYS_io_uring_setup = 425;
export const SYS_io_uring_enter = 426;
export const SYS_io_uring_register = 427;

/** mmap offsets that select which io_uring region to map. */
export const IORING_OFF_SQ_RING = 0;
export const IORING_OFF_CQ_RING = 0x8000000;
export const IORING_OFF_SQES = 0x10000000;

// io_uring_setup flags.
export const IORING_SETUP_IOPOLL = 1 << 0;
export const IORING_SETUP_SQPOLL = 1 << 1;
export const IORING_SETUP_CQSIZE = 1 << 3;
export const IORING_SETUP_CLAMP = 1 << 4;
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_TASKRUN_FLAG = 1 << 9;
/** Only the creating thread submits (lets the kernel skip locking; 6.0). */
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
/** Completion work runs only when the issuer enters with GETEVENTS (6.1). */
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
/**
 * The rings live in memory the application provides (its addresses in
 * `sq_off.user_addr` / `cq_off.user_addr`), not in mappings of the ring's
 * fd (6.5; some kernels take only memory in one huge page there).
 */
export const IORING_SETUP_NO_MMAP = 1 << 14;

// io_uring_params.features.
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
export const IORING_FEAT_NODROP = 1 << 1;
export const IORING_FEAT_SUBMIT_STABLE = 1 << 2;
export const IORING_FEAT_FAST_POLL = 1 << 5;
export const IORING_FEAT_EXT_ARG = 1 << 8;
export const IORING_FEAT_NATIVE_WORKERS = 1 << 9;
export const IORING_FEAT_CQE_SKIP = 1 << 11;
/** 6.12: io_uring_getevents_arg.min_wait_usec (wait for a batch, but at most this long once one is there). */
export const IORING_FEAT_MIN_TIMEOUT = 1 << 15;

// io_uring_enter flags.
export const IORING_ENTER_GETEVENTS = 1 << 0;
export const IORING_ENTER_SQ_WAKEUP = 1 << 1;
export const IORING_ENTER_SQ_WAIT = 1 << 2;
export const IORING_ENTER_EXT_ARG = 1 << 3;
export const IORING_ENTER_REGISTERED_RING = 1 << 4;

// SQ ring flags (read by the application).
export const IORING_SQ_NEED_WAKEUP = 1 << 0;
export const IORING_SQ_CQ_OVERFLOW = 1 << 1;
export const IORING_SQ_TASKRUN = 1 << 2;
// CQ ring flags (written by the application).
export const IORING_CQ_EVENTFD_DISABLED = 1 << 0;

// Opcodes (enum io_uring_op).
export const IORING_OP_NOP = 0;
export const IORING_OP_READV = 1;
export const IORING_OP_WRITEV = 2;
export const IORING_OP_POLL_ADD = 6;
export const IORING_OP_POLL_REMOVE = 7;
export const IORING_OP_SENDMSG = 9;
export const IORING_OP_RECVMSG = 10;
export const IORING_OP_TIMEOUT = 11;
export const IORING_OP_TIMEOUT_REMOVE = 12;
export const IORING_OP_ACCEPT = 13;
export const IORING_OP_ASYNC_CANCEL = 14;
export const IORING_OP_LINK_TIMEOUT = 15;
export const IORING_OP_CONNECT = 16;
export const IORING_OP_CLOSE = 19;
export const IORING_OP_READ = 22;
export const IORING_OP_WRITE = 23;
export const IORING_OP_SEND = 26;
export const IORING_OP_RECV = 27;
export const IORING_OP_PROVIDE_BUFFERS = 31;
export const IORING_OP_REMOVE_BUFFERS = 32;
export const IORING_OP_SHUTDOWN = 34;
export const IORING_OP_MSG_RING = 40;
export const IORING_OP_SOCKET = 45;
export const IORING_OP_SEND_ZC = 47;

// io_uring_sqe.flags.
export const IOSQE_FIXED_FILE = 1 << 0;
export const IOSQE_IO_DRAIN = 1 << 1;
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_IO_HARDLINK = 1 << 3;
export const IOSQE_ASYNC = 1 << 4;
export const IOSQE_BUFFER_SELECT = 1 << 5;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

// io_uring_cqe.flags.
export const IORING_CQE_F_BUFFER = 1 << 0;
/** More completions will follow for this (multishot) request. */
export const IORING_CQE_F_MORE = 1 << 1;
export const IORING_CQE_F_SOCK_NONEMPTY = 1 << 2;
export const IORING_CQE_F_NOTIF = 1 << 3;
/** The buffer id sits in the upper 16 bits of cqe.flags. */
export const IORING_CQE_BUFFER_SHIFT = 16;

// sqe.ioprio bits for SEND/RECV.
export const IORING_RECVSEND_POLL_FIRST = 1 << 0;
export const IORING_RECV_MULTISHOT = 1 << 1;
export const IORING_RECVSEND_FIXED_BUF = 1 << 2;
// sqe.ioprio bits for ACCEPT.
export const IORING_ACCEPT_MULTISHOT = 1 << 0;

// sqe.len bits for POLL_ADD.
export const IORING_POLL_ADD_MULTI = 1 << 0;
export const IORING_POLL_UPDATE_EVENTS = 1 << 1;
export const IORING_POLL_UPDATE_USER_DATA = 1 << 2;

// sqe.cancel_flags for ASYNC_CANCEL.
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
export const IORING_ASYNC_CANCEL_FD = 1 << 1;
export const IORING_ASYNC_CANCEL_ANY = 1 << 2;
export const IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3;

// io_uring_register opcodes.
export const IORING_REGISTER_BUFFERS = 0;
export const IORING_UNREGISTER_BUFFERS = 1;
export const IORING_REGISTER_FILES = 2;
export const IORING_UNREGISTER_FILES = 3;
export const IORING_REGISTER_EVENTFD = 4;
export const IORING_UNREGISTER_EVENTFD = 5;
export const IORING_REGISTER_EVENTFD_ASYNC = 7;
export const IORING_REGISTER_PROBE = 8;
export const IORING_REGISTER_RING_FDS = 20;
export const IORING_UNREGISTER_RING_FDS = 21;
/** Register a provided-buffer ring (5.19). */
export const IORING_REGISTER_PBUF_RING = 22;
export const IORING_UNREGISTER_PBUF_RING = 23;

/** io_uring_probe_op.flags: the opcode is supported. */
export const IO_URING_OP_SUPPORTED = 1 << 0;

// mmap(2).
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_POPULATE = 0x8000;
export const ECANCELED = 125;
export const ENOSYS = 38;
export const EBUSY = 16;
export const ETIME = 62;
