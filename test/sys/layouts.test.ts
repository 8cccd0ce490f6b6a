import t from 'tap';
import { koffiLayouts } from './koffi-layouts.js';
import * as S from '../../lib/sys/structs.js';

t.test('struct layouts match koffi on this arch', async (t) => {
  const k = koffiLayouts();
  t.equal(k.epoll_event.size, S.EPOLL_EVENT_SIZE, 'epoll_event size');
  t.equal(k.epoll_event.size, process.arch === 'x64' ? 12 : 16, 'epoll_event is packed on x86-64 only');
  t.equal(k.epoll_event.offsets.events, S.EPOLL_EVENT_EVENTS_OFFSET);
  t.equal(k.epoll_event.offsets.data, S.EPOLL_EVENT_DATA_OFFSET);
  t.equal(S.EPOLL_EVENT_WORDS * 4, S.EPOLL_EVENT_SIZE);
  t.equal(S.EPOLL_EVENT_FD_WORD * 4, S.EPOLL_EVENT_DATA_OFFSET);
  t.equal(k.pollfd.size, S.POLLFD_SIZE);
  t.equal(k.pollfd.offsets.fd, S.POLLFD_FD_OFFSET);
  t.equal(k.pollfd.offsets.events, S.POLLFD_EVENTS_OFFSET);
  t.equal(k.pollfd.offsets.revents, S.POLLFD_REVENTS_OFFSET);
  t.equal(k.fd_set.size, S.FD_SET_SIZE);
  t.equal(k.fd_set.size, 128);
  t.equal(k.timeval.size, S.TIMEVAL_SIZE);
  t.equal(k.timeval.offsets.tv_usec, S.TIMEVAL_USEC_OFFSET);
  t.equal(k.rlimit.size, S.RLIMIT_SIZE);
  t.equal(k.rlimit.offsets.rlim_max, S.RLIMIT_MAX_OFFSET);
  t.equal(k.linger.size, S.LINGER_SIZE);
  t.equal(k.sockaddr_in.size, S.SOCKADDR_IN_SIZE);
  t.equal(k.sockaddr_in.offsets.sin_port, S.SIN_PORT_OFFSET);
  t.equal(k.sockaddr_in.offsets.sin_addr, S.SIN_ADDR_OFFSET);
  t.equal(k.sockaddr_in6.size, S.SOCKADDR_IN6_SIZE);
  t.equal(k.sockaddr_in6.offsets.sin6_flowinfo, S.SIN6_FLOWINFO_OFFSET);
  t.equal(k.sockaddr_in6.offsets.sin6_addr, S.SIN6_ADDR_OFFSET);
  t.equal(k.sockaddr_in6.offsets.sin6_scope_id, S.SIN6_SCOPE_ID_OFFSET);
  t.equal(k.sockaddr_un.size, S.SOCKADDR_UN_SIZE);
  t.equal(k.sockaddr_un.offsets.sun_path, S.SUN_PATH_OFFSET);
  t.equal(k.sigaction.size, S.SIGACTION_SIZE);
  t.equal(k.sigaction.offsets.sa_mask, S.SA_MASK_OFFSET);
  t.equal(k.sigaction.offsets.sa_flags, S.SA_FLAGS_OFFSET);
  t.equal(S.SIGSET_SIZE, 16 * 8);
  t.equal(k.addrinfo.size, S.ADDRINFO_SIZE);
  for (const [field, off] of Object.entries({
    ai_flags: S.AI_FLAGS_OFFSET, ai_family: S.AI_FAMILY_OFFSET, ai_socktype: S.AI_SOCKTYPE_OFFSET,
    ai_protocol: S.AI_PROTOCOL_OFFSET, ai_addrlen: S.AI_ADDRLEN_OFFSET, ai_addr: S.AI_ADDR_OFFSET,
    ai_canonname: S.AI_CANONNAME_OFFSET, ai_next: S.AI_NEXT_OFFSET,
  })) t.equal(k.addrinfo.offsets[field], off, `addrinfo.${field}`);
  t.equal(k.iovec.size, S.IOVEC_SIZE);
  t.equal(k.iovec.offsets.iov_base, S.IOV_BASE_OFFSET);
  t.equal(k.iovec.offsets.iov_len, S.IOV_LEN_OFFSET);
  t.equal(k.msghdr.size, S.MSGHDR_SIZE);
  for (const [field, off] of Object.entries({
    msg_name: S.MSG_NAME_OFFSET, msg_namelen: S.MSG_NAMELEN_OFFSET, msg_iov: S.MSG_IOV_OFFSET,
    msg_iovlen: S.MSG_IOVLEN_OFFSET, msg_control: S.MSG_CONTROL_OFFSET, msg_controllen: S.MSG_CONTROLLEN_OFFSET,
    msg_flags: S.MSG_FLAGS_OFFSET,
  })) t.equal(k.msghdr.offsets[field], off, `msghdr.${field}`);
  t.equal(k.cmsghdr.size, S.CMSGHDR_SIZE, 'cmsghdr: data follows at CMSG_ALIGN(sizeof)');
  t.equal(k.cmsghdr.offsets.cmsg_len, S.CMSG_LEN_OFFSET);
  t.equal(k.cmsghdr.offsets.cmsg_level, S.CMSG_LEVEL_OFFSET);
  t.equal(k.cmsghdr.offsets.cmsg_type, S.CMSG_TYPE_OFFSET);
  t.equal(k.ucred.size, S.UCRED_SIZE);
  t.equal(k.if_nameindex.size, S.IF_NAMEINDEX_SIZE);
  t.equal(k.if_nameindex.offsets.if_index, S.IF_INDEX_OFFSET);
  t.equal(k.if_nameindex.offsets.if_name, S.IF_NAME_OFFSET);
  t.equal(k.hostent.size, S.HOSTENT_SIZE);
  for (const [field, off] of Object.entries({
    h_name: S.H_NAME_OFFSET, h_aliases: S.H_ALIASES_OFFSET, h_addrtype: S.H_ADDRTYPE_OFFSET,
    h_length: S.H_LENGTH_OFFSET, h_addr_list: S.H_ADDR_LIST_OFFSET,
  })) t.equal(k.hostent.offsets[field], off, `hostent.${field}`);
});

t.test('io_uring struct layouts match koffi (and the uapi header)', async (t) => {
  const k = koffiLayouts();
  const check = (name: string, size: number, offsets: Record<string, number>): void => {
    t.equal(k[name].size, size, `sizeof(${name})`);
    for (const [field, off] of Object.entries(offsets)) t.equal(k[name].offsets[field], off, `${name}.${field}`);
  };
  check('io_sqring_offsets', S.IO_SQRING_OFFSETS_SIZE, {
    head: S.SQOFF_HEAD, tail: S.SQOFF_TAIL, ring_mask: S.SQOFF_RING_MASK, ring_entries: S.SQOFF_RING_ENTRIES,
    flags: S.SQOFF_FLAGS, dropped: S.SQOFF_DROPPED, array: S.SQOFF_ARRAY,
  });
  check('io_cqring_offsets', S.IO_CQRING_OFFSETS_SIZE, {
    head: S.CQOFF_HEAD, tail: S.CQOFF_TAIL, ring_mask: S.CQOFF_RING_MASK, ring_entries: S.CQOFF_RING_ENTRIES,
    overflow: S.CQOFF_OVERFLOW, cqes: S.CQOFF_CQES, flags: S.CQOFF_FLAGS,
  });
  check('io_uring_params', S.IO_URING_PARAMS_SIZE, {
    sq_entries: S.PARAMS_SQ_ENTRIES_OFFSET, cq_entries: S.PARAMS_CQ_ENTRIES_OFFSET, flags: S.PARAMS_FLAGS_OFFSET,
    sq_thread_cpu: S.PARAMS_SQ_THREAD_CPU_OFFSET, sq_thread_idle: S.PARAMS_SQ_THREAD_IDLE_OFFSET,
    features: S.PARAMS_FEATURES_OFFSET, wq_fd: S.PARAMS_WQ_FD_OFFSET, sq_off: S.PARAMS_SQ_OFF_OFFSET, cq_off: S.PARAMS_CQ_OFF_OFFSET,
  });
  check('io_uring_sqe', S.IO_URING_SQE_SIZE, {
    opcode: S.SQE_OPCODE_OFFSET, flags: S.SQE_FLAGS_OFFSET, ioprio: S.SQE_IOPRIO_OFFSET, fd: S.SQE_FD_OFFSET,
    off: S.SQE_OFF_OFFSET, addr: S.SQE_ADDR_OFFSET, len: S.SQE_LEN_OFFSET, rw_flags: S.SQE_OP_FLAGS_OFFSET,
    user_data: S.SQE_USER_DATA_OFFSET, buf_index: S.SQE_BUF_INDEX_OFFSET, personality: S.SQE_PERSONALITY_OFFSET,
    splice_fd_in: S.SQE_FILE_INDEX_OFFSET, addr3: S.SQE_ADDR3_OFFSET,
  });
  check('io_uring_cqe', S.IO_URING_CQE_SIZE, { user_data: S.CQE_USER_DATA_OFFSET, res: S.CQE_RES_OFFSET, flags: S.CQE_FLAGS_OFFSET });
  check('io_uring_buf', S.IO_URING_BUF_SIZE, {
    addr: S.BUF_ADDR_OFFSET, len: S.BUF_LEN_OFFSET, bid: S.BUF_BID_OFFSET, resv: S.BUF_RING_TAIL_OFFSET,
  });
  check('io_uring_buf_reg', S.IO_URING_BUF_REG_SIZE, {
    ring_addr: S.BUF_REG_RING_ADDR_OFFSET, ring_entries: S.BUF_REG_RING_ENTRIES_OFFSET, bgid: S.BUF_REG_BGID_OFFSET, flags: S.BUF_REG_FLAGS_OFFSET,
  });
  check('io_uring_getevents_arg', S.IO_URING_GETEVENTS_ARG_SIZE, {
    sigmask: S.GETEVENTS_ARG_SIGMASK_OFFSET, sigmask_sz: S.GETEVENTS_ARG_SIGMASK_SZ_OFFSET, ts: S.GETEVENTS_ARG_TS_OFFSET,
  });
  check('io_uring_probe', S.IO_URING_PROBE_SIZE, { last_op: 0, ops_len: 1 });
  check('io_uring_probe_op', S.IO_URING_PROBE_OP_SIZE, { op: 0, flags: S.PROBE_OP_FLAGS_OFFSET });
});

t.test('msghdr and cmsg encoders', async (t) => {
  const msg = Buffer.alloc(S.MSGHDR_SIZE, 0xff);
  S.writeMsghdr(msg, 0x1000n, 16, 0x2000n, 2, 0x3000n, 24);
  t.equal(msg.readBigUInt64LE(S.MSG_NAME_OFFSET), 0x1000n);
  t.equal(msg.readUInt32LE(S.MSG_NAMELEN_OFFSET), 16);
  t.equal(msg.readUInt32LE(S.MSG_NAMELEN_OFFSET + 4), 0, 'padding cleared');
  t.equal(msg.readBigUInt64LE(S.MSG_IOV_OFFSET), 0x2000n);
  t.equal(msg.readBigUInt64LE(S.MSG_IOVLEN_OFFSET), 2n);
  t.equal(msg.readBigUInt64LE(S.MSG_CONTROL_OFFSET), 0x3000n);
  t.equal(msg.readBigUInt64LE(S.MSG_CONTROLLEN_OFFSET), 24n);
  t.equal(msg.readInt32LE(S.MSG_FLAGS_OFFSET), 0);
  const iov = Buffer.alloc(2 * S.IOVEC_SIZE);
  S.writeIovec(iov, 1, 0xabcn, 7);
  t.equal(iov.readBigUInt64LE(S.IOVEC_SIZE), 0xabcn);
  t.equal(iov.readBigUInt64LE(S.IOVEC_SIZE + 8), 7n);
  const ctl = Buffer.alloc(64);
  const next = S.writeCmsg(ctl, 0, 1, 1, Buffer.from([1, 2, 3, 4, 5]));
  t.equal(next, 24, 'CMSG_SPACE(5)');
  S.writeCmsg(ctl, next, 0, 8, Buffer.from([9]));
  t.same(S.readCmsgs(ctl, next + 17), [[1, 1, Buffer.from([1, 2, 3, 4, 5])], [0, 8, Buffer.from([9])]]);
  t.same(S.readCmsgs(ctl, next + 16), [[1, 1, Buffer.from([1, 2, 3, 4, 5])], [0, 8, Buffer.alloc(0)]], 'data clipped to controllen');
  t.same(S.readCmsgs(ctl, 10), [], 'no room for a header');
  const bad = Buffer.alloc(32);
  bad.writeBigUInt64LE(3n, 0);
  t.same(S.readCmsgs(bad, 32), [], 'a cmsg_len below the header ends the walk');
  t.equal(S.cmsgAlign(17), 24);
});

t.test('fd_set bit helpers match FD_SET on a little-endian long array', async (t) => {
  const set = new Uint8Array(S.FD_SET_SIZE);
  for (const fd of [0, 7, 8, 63, 64, 1023]) S.fdSet(set, fd);
  const words = new BigUint64Array(set.buffer);
  t.equal(words[0], (1n << 0n) | (1n << 7n) | (1n << 8n) | (1n << 63n));
  t.equal(words[1], 1n);
  t.equal(words[15], 1n << 63n);
  t.ok(S.fdIsSet(set, 1023));
  t.notOk(S.fdIsSet(set, 1022));
  t.equal(S.sockaddrSize(2), 16);
  t.equal(S.sockaddrSize(10), 28);
  t.equal(S.sockaddrSize(1), 110);
  t.equal(S.sockaddrSize(99), 0);
});
