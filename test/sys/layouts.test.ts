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
