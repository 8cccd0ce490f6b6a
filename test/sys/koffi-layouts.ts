/**
 * The struct layouts of structs.ts as koffi computes them for this
 * architecture, so that layouts.test.ts can compare the two (a test helper:
 * the library itself lays structs out by hand and never asks koffi).
 */

import { createRequire } from 'node:module';

/** Size and field offsets of one struct, as koffi lays it out. */
export interface KoffiLayout {
  size: number;
  offsets: Record<string, number>;
}

interface KoffiTypes {
  struct(name: string, def: Record<string, unknown>): unknown;
  pack(name: string, def: Record<string, unknown>): unknown;
  array(type: string, len: number): unknown;
  sizeof(type: unknown): number;
  offsetof(type: unknown, member: string): number;
}

let memo: Record<string, KoffiLayout> | undefined;

/** koffi's sizeof/offsetof for every struct the library lays out by hand (computed once: koffi type names are global). */
export function koffiLayouts(): Record<string, KoffiLayout> {
  return memo ?? (memo = computeLayouts());
}

function computeLayouts(): Record<string, KoffiLayout> {
  const koffi = createRequire(import.meta.url)('koffi') as KoffiTypes;
  const layout = (type: unknown, fields: string[]): KoffiLayout => ({
    size: koffi.sizeof(type),
    offsets: Object.fromEntries(fields.map((name) => [name, koffi.offsetof(type, name)])),
  });
  const epollData = { events: 'uint32_t', data: 'uint64_t' };
  // glibc declares epoll_event packed on x86-64 only.
  const epollEvent = process.arch === 'x64'
    ? koffi.pack('ns_epoll_event', epollData)
    : koffi.struct('ns_epoll_event', epollData);
  return {
    epoll_event: layout(epollEvent, ['events', 'data']),
    pollfd: layout(koffi.struct('ns_pollfd', { fd: 'int', events: 'short', revents: 'short' }), ['fd', 'events', 'revents']),
    fd_set: layout(koffi.struct('ns_fd_set', { fds_bits: koffi.array('long', 1024 / 64) }), ['fds_bits']),
    timeval: layout(koffi.struct('ns_timeval', { tv_sec: 'long', tv_usec: 'long' }), ['tv_sec', 'tv_usec']),
    rlimit: layout(koffi.struct('ns_rlimit', { rlim_cur: 'unsigned long', rlim_max: 'unsigned long' }), ['rlim_cur', 'rlim_max']),
    linger: layout(koffi.struct('ns_linger', { l_onoff: 'int', l_linger: 'int' }), ['l_onoff', 'l_linger']),
    sockaddr_in: layout(koffi.struct('ns_sockaddr_in', {
      sin_family: 'uint16_t', sin_port: 'uint16_t', sin_addr: 'uint32_t', sin_zero: koffi.array('uint8_t', 8),
    }), ['sin_family', 'sin_port', 'sin_addr']),
    sockaddr_in6: layout(koffi.struct('ns_sockaddr_in6', {
      sin6_family: 'uint16_t', sin6_port: 'uint16_t', sin6_flowinfo: 'uint32_t',
      sin6_addr: koffi.array('uint8_t', 16), sin6_scope_id: 'uint32_t',
    }), ['sin6_family', 'sin6_port', 'sin6_flowinfo', 'sin6_addr', 'sin6_scope_id']),
    sockaddr_un: layout(koffi.struct('ns_sockaddr_un', {
      sun_family: 'uint16_t', sun_path: koffi.array('char', 108),
    }), ['sun_family', 'sun_path']),
    sigaction: layout(koffi.struct('ns_sigaction', {
      sa_handler: 'void *', sa_mask: koffi.array('unsigned long', 16), sa_flags: 'int', sa_restorer: 'void *',
    }), ['sa_handler', 'sa_mask', 'sa_flags', 'sa_restorer']),
    addrinfo: layout(koffi.struct('ns_addrinfo', {
      ai_flags: 'int', ai_family: 'int', ai_socktype: 'int', ai_protocol: 'int', ai_addrlen: 'uint32_t',
      ai_addr: 'void *', ai_canonname: 'char *', ai_next: 'void *',
    }), ['ai_flags', 'ai_family', 'ai_socktype', 'ai_protocol', 'ai_addrlen', 'ai_addr', 'ai_canonname', 'ai_next']),
    iovec: layout(koffi.struct('ns_iovec', { iov_base: 'void *', iov_len: 'size_t' }), ['iov_base', 'iov_len']),
    msghdr: layout(koffi.struct('ns_msghdr', {
      msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: 'void *', msg_iovlen: 'size_t',
      msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int',
    }), ['msg_name', 'msg_namelen', 'msg_iov', 'msg_iovlen', 'msg_control', 'msg_controllen', 'msg_flags']),
    cmsghdr: layout(koffi.struct('ns_cmsghdr', { cmsg_len: 'size_t', cmsg_level: 'int', cmsg_type: 'int' }), ['cmsg_len', 'cmsg_level', 'cmsg_type']),
    ucred: layout(koffi.struct('ns_ucred', { pid: 'int', uid: 'uint32_t', gid: 'uint32_t' }), ['pid', 'uid', 'gid']),
    if_nameindex: layout(koffi.struct('ns_if_nameindex', { if_index: 'unsigned int', if_name: 'char *' }), ['if_index', 'if_name']),
    hostent: layout(koffi.struct('ns_hostent', {
      h_name: 'char *', h_aliases: 'void *', h_addrtype: 'int', h_length: 'int', h_addr_list: 'void *',
    }), ['h_name', 'h_aliases', 'h_addrtype', 'h_length', 'h_addr_list']),
    io_sqring_offsets: layout(koffi.struct('ns_io_sqring_offsets', {
      head: 'uint32_t', tail: 'uint32_t', ring_mask: 'uint32_t', ring_entries: 'uint32_t',
      flags: 'uint32_t', dropped: 'uint32_t', array: 'uint32_t', resv1: 'uint32_t', user_addr: 'uint64_t',
    }), ['head', 'tail', 'ring_mask', 'ring_entries', 'flags', 'dropped', 'array']),
    io_cqring_offsets: layout(koffi.struct('ns_io_cqring_offsets', {
      head: 'uint32_t', tail: 'uint32_t', ring_mask: 'uint32_t', ring_entries: 'uint32_t',
      overflow: 'uint32_t', cqes: 'uint32_t', flags: 'uint32_t', resv1: 'uint32_t', user_addr: 'uint64_t',
    }), ['head', 'tail', 'ring_mask', 'ring_entries', 'overflow', 'cqes', 'flags']),
    io_uring_params: layout(koffi.struct('ns_io_uring_params', {
      sq_entries: 'uint32_t', cq_entries: 'uint32_t', flags: 'uint32_t', sq_thread_cpu: 'uint32_t',
      sq_thread_idle: 'uint32_t', features: 'uint32_t', wq_fd: 'uint32_t', resv: koffi.array('uint32_t', 3),
      sq_off: koffi.array('uint8_t', 40), cq_off: koffi.array('uint8_t', 40),
    }), ['sq_entries', 'cq_entries', 'flags', 'sq_thread_cpu', 'sq_thread_idle', 'features', 'wq_fd', 'sq_off', 'cq_off']),
    // The unions are named by their first member.
    io_uring_sqe: layout(koffi.struct('ns_io_uring_sqe', {
      opcode: 'uint8_t', flags: 'uint8_t', ioprio: 'uint16_t', fd: 'int32_t', off: 'uint64_t', addr: 'uint64_t',
      len: 'uint32_t', rw_flags: 'uint32_t', user_data: 'uint64_t', buf_index: 'uint16_t', personality: 'uint16_t',
      splice_fd_in: 'int32_t', addr3: 'uint64_t', pad2: 'uint64_t',
    }), ['opcode', 'flags', 'ioprio', 'fd', 'off', 'addr', 'len', 'rw_flags', 'user_data', 'buf_index', 'personality', 'splice_fd_in', 'addr3']),
    io_uring_cqe: layout(koffi.struct('ns_io_uring_cqe', { user_data: 'uint64_t', res: 'int32_t', flags: 'uint32_t' }), ['user_data', 'res', 'flags']),
    io_uring_buf: layout(koffi.struct('ns_io_uring_buf', { addr: 'uint64_t', len: 'uint32_t', bid: 'uint16_t', resv: 'uint16_t' }), ['addr', 'len', 'bid', 'resv']),
    io_uring_buf_reg: layout(koffi.struct('ns_io_uring_buf_reg', {
      ring_addr: 'uint64_t', ring_entries: 'uint32_t', bgid: 'uint16_t', flags: 'uint16_t', resv: koffi.array('uint64_t', 3),
    }), ['ring_addr', 'ring_entries', 'bgid', 'flags']),
    io_uring_getevents_arg: layout(koffi.struct('ns_io_uring_getevents_arg', {
      sigmask: 'uint64_t', sigmask_sz: 'uint32_t', min_wait_usec: 'uint32_t', ts: 'uint64_t',
    }), ['sigmask', 'sigmask_sz', 'ts']),
    io_uring_probe: layout(koffi.struct('ns_io_uring_probe', {
      last_op: 'uint8_t', ops_len: 'uint8_t', resv: 'uint16_t', resv2: koffi.array('uint32_t', 3),
    }), ['last_op', 'ops_len']),
    io_uring_probe_op: layout(koffi.struct('ns_io_uring_probe_op', { op: 'uint8_t', resv: 'uint8_t', flags: 'uint16_t', resv2: 'uint32_t' }), ['op', 'flags']),
  };
}
