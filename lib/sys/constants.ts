/**
 * Kernel and libc constants, with their kernel names, grouped by the header
 * that defines them. The values are those of Linux on x86-64 and arm64
 * (both use the generic values for everything below; only struct layouts
 * differ, see structs.ts). Pure: loads without libc.
 */

// ---- <sys/socket.h> -------------------------------------------------------

/** Unspecified address family (getaddrinfo: any). */
export const AF_UNSPEC = 0;
/** Local (Unix-domain) sockets. */
export const AF_UNIX = 1;
/** Alias of AF_UNIX. */
export const AF_LOCAL = 1;
/** IPv4. */
export const AF_INET = 2;
/** IPv6. */
export const AF_INET6 = 10;

/** Reliable byte stream (TCP). */
export const SOCK_STREAM = 1;
/** Datagrams (UDP). */
export const SOCK_DGRAM = 2;
/** Raw protocol access. */
export const SOCK_RAW = 3;
/** Reliable datagrams. */
export const SOCK_RDM = 4;
/** Sequenced, reliable, connection-based datagrams. */
export const SOCK_SEQPACKET = 5;
/** Flag for socket()/accept4(): open non-blocking (= O_NONBLOCK). */
export const SOCK_NONBLOCK = 0o4000;
/** Flag for socket()/accept4(): close on exec (= O_CLOEXEC). */
export const SOCK_CLOEXEC = 0o2000000;

/** setsockopt level of socket-wide options. */
export const SOL_SOCKET = 1;
export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const SO_ACCEPTCONN = 30;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;

/** Largest listen() backlog the headers advertise (the kernel caps it at net.core.somaxconn). */
export const SOMAXCONN = 4096;

export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
/** Do not raise SIGPIPE on a broken stream: report EPIPE instead. */
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

// ---- <netinet/in.h> -------------------------------------------------------

export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_RAW = 255;

export const INADDR_ANY = 0x00000000;
export const INADDR_LOOPBACK = 0x7f000001;
export const INADDR_BROADCAST = 0xffffffff;

export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_DROP_MEMBERSHIP = 36;

export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_V6ONLY = 26;

// ---- <netinet/tcp.h> ------------------------------------------------------

/** Send segments as soon as possible (disable Nagle). */
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
/** Hold back partial frames until uncorked (or 200 ms pass). */
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_DEFER_ACCEPT = 9;
export const TCP_QUICKACK = 12;
export const TCP_USER_TIMEOUT = 18;
export const TCP_FASTOPEN = 23;
export const TCP_NOTSENT_LOWAT = 25;

// ---- <sys/epoll.h> --------------------------------------------------------

export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDNORM = 0x040;
export const EPOLLRDBAND = 0x080;
export const EPOLLWRNORM = 0x100;
export const EPOLLWRBAND = 0x200;
export const EPOLLMSG = 0x400;
/** Peer closed its writing half (stream sockets). */
export const EPOLLRDHUP = 0x2000;
/** Wake only one of several epoll instances waiting on the same fd. */
export const EPOLLEXCLUSIVE = 0x10000000;
export const EPOLLWAKEUP = 0x20000000;
/** Disarm the fd after one event (re-arm with EPOLL_CTL_MOD). */
export const EPOLLONESHOT = 0x40000000;
/** Edge-triggered (as an unsigned value, like Python's select.EPOLLET). */
export const EPOLLET = 0x80000000;

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
/** Flag for epoll_create1 (= O_CLOEXEC). */
export const EPOLL_CLOEXEC = 0o2000000;

// ---- <poll.h> -------------------------------------------------------------

export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
export const POLLRDNORM = 0x040;
export const POLLRDBAND = 0x080;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLMSG = 0x400;
export const POLLRDHUP = 0x2000;

// ---- <sys/select.h> -------------------------------------------------------

/** Bits in an fd_set: select() cannot watch an fd >= this. */
export const FD_SETSIZE = 1024;

// ---- <sys/eventfd.h> ------------------------------------------------------

export const EFD_SEMAPHORE = 1;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;

// ---- <fcntl.h> ------------------------------------------------------------

export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
/** lseek(2) whence values (<unistd.h>, also in <fcntl.h>). */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;

// ---- <sys/ioctl.h> --------------------------------------------------------

/** Set/clear non-blocking mode through an int argument. */
export const FIONBIO = 0x5421;
/** Bytes waiting in the receive queue. */
export const FIONREAD = 0x541b;

// ---- <sys/resource.h> -----------------------------------------------------

/** Resource number of the open-files limit. */
export const RLIMIT_NOFILE = 7;
/** "No limit" in struct rlimit (all ones). */
export const RLIM_INFINITY = 0xffffffffffffffffn;

// ---- <signal.h> -----------------------------------------------------------

export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGTERM = 15;
/** Restart interruptible system calls after the handler returns. */
export const SA_RESTART = 0x10000000;

// ---- <netdb.h> ------------------------------------------------------------

export const AI_PASSIVE = 0x0001;
export const AI_CANONNAME = 0x0002;
export const AI_NUMERICHOST = 0x0004;
export const AI_V4MAPPED = 0x0008;
export const AI_ALL = 0x0010;
export const AI_ADDRCONFIG = 0x0020;
export const AI_NUMERICSERV = 0x0400;

export const NI_NUMERICHOST = 1;
export const NI_NUMERICSERV = 2;

export const EAI_BADFLAGS = -1;
export const EAI_NONAME = -2;
export const EAI_AGAIN = -3;
export const EAI_FAIL = -4;
export const EAI_NODATA = -5;
export const EAI_FAMILY = -6;
export const EAI_SOCKTYPE = -7;
export const EAI_SERVICE = -8;
export const EAI_ADDRFAMILY = -9;
export const EAI_MEMORY = -10;
export const EAI_SYSTEM = -11;
export const EAI_OVERFLOW = -12;

// ---- <errno.h> (the values the library tests for itself) -------------------

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
/** Same value as EAGAIN on Linux. */
export const EWOULDBLOCK = 11;
export const ENOMEM = 12;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOSPC = 28;
export const EPIPE = 32;
export const EPROTO = 71;
export const ENOTSOCK = 88;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETUNREACH = 101;
export const ECONNABORTED = 103;
export const ECONNRESET = 104;
export const ENOBUFS = 105;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EALREADY = 114;
export const EINPROGRESS = 115;
/** Illegal seek: lseek(2) on a pipe, FIFO or socket. */
export const ESPIPE = 29;

// ---- Added for issue 11: ancillary data, fd passing, more options --------
// Values from <asm-generic/socket.h>, <bits/socket.h>, <linux/in.h>,
// <linux/in6.h>, <netinet/tcp.h>, <netdb.h>: x86-64 and arm64 both use the
// generic socket numbers (only alpha, mips, parisc, sparc differ).

/** Level of TCP options (= IPPROTO_TCP). */
export const SOL_TCP = 6;
/** Level of UDP options (= IPPROTO_UDP). */
export const SOL_UDP = 17;
/** Level of IPv4 options (= IPPROTO_IP). */
export const SOL_IP = 0;

export const SO_PRIORITY = 12;
/** Receive SCM_CREDENTIALS messages on an AF_UNIX socket. */
export const SO_PASSCRED = 16;
/** The peer's credentials (struct ucred: pid, uid, gid) of an AF_UNIX socket. */
export const SO_PEERCRED = 17;
/** Bind to a network interface by name (needs CAP_NET_RAW). */
export const SO_BINDTODEVICE = 25;
export const SO_TIMESTAMP = 29;
export const SO_PEERSEC = 31;
export const SO_PASSSEC = 34;
/** The fwmark of the socket's packets (needs CAP_NET_ADMIN). */
export const SO_MARK = 36;
export const SO_INCOMING_CPU = 49;

/** cmsg type: file descriptors (an int array) passed over AF_UNIX. */
export const SCM_RIGHTS = 1;
/** cmsg type: struct ucred (pid, uid, gid) over AF_UNIX. */
export const SCM_CREDENTIALS = 2;

/** recvmsg msg_flags: the control data was cut short (ancbufsize too small). */
export const MSG_CTRUNC = 0x8;
export const MSG_CONFIRM = 0x800;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_FASTOPEN = 0x20000000;

export const TCP_SYNCNT = 7;
export const TCP_LINGER2 = 8;
export const TCP_WINDOW_CLAMP = 10;
/** struct tcp_info of the connection (read with a buflen). */
export const TCP_INFO = 11;
/** The congestion-control algorithm's name (a string option). */
export const TCP_CONGESTION = 13;

export const SOL_IPV6 = 41;

export const IP_HDRINCL = 3;
export const IP_OPTIONS = 4;
export const IP_RECVOPTS = 6;
export const IP_RETOPTS = 7;
/** Receive struct in_pktinfo (interface and destination address) with each datagram. */
export const IP_PKTINFO = 8;
export const IP_MTU_DISCOVER = 10;
export const IP_RECVERR = 11;
export const IP_RECVTTL = 12;
export const IP_RECVTOS = 13;
export const IP_MTU = 14;
export const IP_FREEBIND = 15;
export const IP_TRANSPARENT = 19;
export const IP_BIND_ADDRESS_NO_PORT = 24;
export const IP_DEFAULT_MULTICAST_TTL = 1;
export const IP_DEFAULT_MULTICAST_LOOP = 1;
export const IP_MAX_MEMBERSHIPS = 20;

export const IPV6_CHECKSUM = 7;
export const IPV6_NEXTHOP = 9;
/** Join an IPv6 multicast group (struct ipv6_mreq; = IPV6_ADD_MEMBERSHIP). */
export const IPV6_JOIN_GROUP = 20;
export const IPV6_LEAVE_GROUP = 21;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_RECVHOPOPTS = 53;
export const IPV6_HOPOPTS = 54;
export const IPV6_RTHDRDSTOPTS = 55;
export const IPV6_RECVRTHDR = 56;
export const IPV6_RTHDR = 57;
export const IPV6_RECVDSTOPTS = 58;
export const IPV6_DSTOPTS = 59;
export const IPV6_RECVPATHMTU = 60;
export const IPV6_PATHMTU = 61;
export const IPV6_DONTFRAG = 62;
export const IPV6_RECVTCLASS = 66;
export const IPV6_TCLASS = 67;

export const IPPROTO_IGMP = 2;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;

export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const AF_VSOCK = 40;

export const INADDR_NONE = 0xffffffff;

/** getnameinfo: fail when the host has no name (rather than answer the number). */
export const NI_NOFQDN = 4;
export const NI_NAMEREQD = 8;
export const NI_DGRAM = 16;
export const NI_MAXHOST = 1025;
export const NI_MAXSERV = 32;

/** IF_NAMESIZE: interface names are at most 15 bytes plus the NUL. */
export const IF_NAMESIZE = 16;
export const ENODEV = 19;
export const ENXIO = 6;
export const EAFNOSUPPORT = 97;
export const EMSGSIZE = 90;
