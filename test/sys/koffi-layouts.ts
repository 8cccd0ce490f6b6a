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

/** koffi's sizeof/offsetof for every struct the library lays out by hand. */
export function koffiLayouts(): Record<string, KoffiLayout> {
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
  };
}
