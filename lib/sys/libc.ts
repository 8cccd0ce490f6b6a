/**
 * libc through koffi: one typed binding table, loaded on first use.
 *
 * This is the only module of the library that loads koffi. Every pointer
 * argument is declared `void *` so that Buffers and typed arrays pass
 * straight through without marshalling (valid for the duration of the call);
 * structs are read and written at the offsets in structs.ts.
 *
 * Backends accept a `Libc` as an optional constructor argument, so tests can
 * hand them a table whose calls fail with a scripted errno.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { CodedError } from '../errors.js';

/** Readiness reported by {@link Libc.watch}, as libuv sees it. */
export interface WatchEvents {
  readable: boolean;
  writable: boolean;
  disconnect: boolean;
}

/** A libuv poll handle on one fd (koffi's `uv_poll_t` wrapper). */
export interface FdWatcher {
  /** Stop watching; the handle can be started again. */
  stop(): void;
  /** Watch again after {@link FdWatcher.stop}, with this callback. */
  start(opts: { readable: boolean; writable: boolean }, callback: () => void): void;
  /** Release the handle (after this the callback never runs again). */
  close(): void;
  /** Keep the Node process alive while the watcher is active (the default). */
  ref(): void;
  /** Let the Node process exit even if the watcher is active. */
  unref(): void;
}

/**
 * The libc functions the library uses, with C names and C semantics: they
 * return -1 and leave the cause in {@link Libc.errno}. Pointer arguments
 * take a Buffer, a typed array or `null`.
 */
export interface Libc {
  /** errno of the last failing call; read it before any other call. */
  errno(): number;

  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number, sv: Int32Array): number;
  bind(fd: number, addr: Uint8Array, addrlen: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, addr: Uint8Array | null, addrlen: Uint32Array | null, flags: number): number;
  connect(fd: number, addr: Uint8Array, addrlen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recvfrom(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, addrlen: Uint32Array | null): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, addrlen: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint32Array): number;
  getsockname(fd: number, addr: Uint8Array, addrlen: Uint32Array): number;
  getpeername(fd: number, addr: Uint8Array, addrlen: Uint32Array): number;
  /** fcntl with one int argument (a fixed-arity alias of the variadic call). */
  fcntl(fd: number, cmd: number, arg: number): number;
  /** ioctl with a pointer argument (a fixed-arity alias of the variadic call). */
  ioctl(fd: number, request: number, arg: Uint8Array): number;

  /** Returns 0 or an EAI_* code; `res[0]` receives the list's address. */
  getaddrinfo(node: string | null, service: string | null, hints: Uint8Array | null, res: BigUint64Array): number;
  /**
   * getaddrinfo on libuv's threadpool (as Node's `dns.lookup` does): `cb`
   * gets the EAI_* code (0 on success) and, for EAI_SYSTEM, errno. The
   * buffers must stay untouched until then.
   */
  getaddrinfoAsync(node: string | null, service: string | null, hints: Uint8Array | null, res: BigUint64Array,
    cb: (err: Error | null, rc: number, errno: number) => void): void;
  freeaddrinfo(res: bigint): void;
  gai_strerror(code: number): string;
  inet_pton(af: number, src: string, dst: Uint8Array): number;
  /** Copy `len` bytes of native memory at `ptr` into a new Buffer. */
  peek(ptr: bigint, len: number): Buffer;
  /** Read a NUL-terminated C string at `ptr`. */
  peekString(ptr: bigint): string;

  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  epoll_wait(epfd: number, events: Uint8Array, maxevents: number, timeout: number): number;
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
  select(nfds: number, readfds: Uint8Array | null, writefds: Uint8Array | null, exceptfds: Uint8Array | null, timeout: Uint8Array | null): number;

  eventfd(initval: number, flags: number): number;
  pipe2(fds: Int32Array, flags: number): number;
  dup(fd: number): number;
  dup2(oldfd: number, newfd: number): number;
  dup3(oldfd: number, newfd: number, flags: number): number;
  getrlimit(resource: number, rlim: Uint8Array): number;
  setrlimit(resource: number, rlim: Uint8Array): number;
  getpid(): number;
  /** sigaction with glibc's struct sigaction (see structs.ts). */
  sigaction(signum: number, act: Uint8Array | null, oldact: Uint8Array | null): number;
  /** Set the process umask; returns the previous one. */
  umask(mask: number): number;
  /** The address of a libc function (for sigaction handlers). */
  symbol(name: string): bigint;

  /** sendmsg(2) with a `struct msghdr` (structs.ts) whose pointers came from {@link Libc.addressOf}. */
  sendmsg(fd: number, msg: Uint8Array, flags: number): number;
  /** recvmsg(2) with a `struct msghdr` (structs.ts) whose pointers came from {@link Libc.addressOf}. */
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
  /**
   * The address of a Buffer's (or typed array's) bytes, for the pointers
   * inside a struct (msghdr, iovec). Valid while the buffer is alive and
   * only for calls made before control returns to the event loop.
   */
  addressOf(buf: Uint8Array): bigint;
  gethostname(name: Uint8Array, len: number): number;
  /** Returns 0 or an EAI_* code. */
  getnameinfo(sa: Uint8Array, salen: number, host: Uint8Array | null, hostlen: number, serv: Uint8Array | null, servlen: number, flags: number): number;
  /** gethostbyaddr_r: 0 or an error number; `result[0]` is 0n when nothing was found (`herrno[0]` says why). */
  gethostbyaddr_r(addr: Uint8Array, len: number, type: number, ret: Uint8Array, buf: Uint8Array, buflen: number, result: BigUint64Array, herrno: Int32Array): number;
  /** 0 when there is no such interface (errno set). */
  if_nametoindex(name: string): number;
  /** The name, or null when there is no such index (errno set). */
  if_indextoname(index: number, name: Uint8Array): string | null;
  /** The address of an array of `struct if_nameindex` ending with index 0, or 0n (errno set). */
  if_nameindex(): bigint;
  if_freenameindex(ptr: bigint): void;
  /** The text, or null (errno set: EAFNOSUPPORT, ENOSPC). */
  inet_ntop(af: number, src: Uint8Array, dst: Uint8Array, size: number): string | null;
  /** 1 when `cp` is a valid inet_aton address (stored in `inp`), else 0. */
  inet_aton(cp: string, inp: Uint8Array): number;

  /** Watch an fd with libuv (Node's own loop); the callback gets the readiness. */
  watch(fd: number, readable: boolean, writable: boolean, cb: (status: number, events: WatchEvents) => void): FdWatcher;

  /** sendfile(2): copy up to `count` bytes of `inFd` from `*offset` (an off_t, advanced by the kernel) to `outFd`. */
  sendfile(outFd: number, inFd: number, offset: BigInt64Array, count: number): number;
  /** lseek(2); returns the new offset (off_t as a number; files stay far below 2^53). */
  lseek(fd: number, offset: number, whence: number): number;
}

/** True where the library can run: Linux on x86-64 or arm64. */
export function platformSupported(platform: string = process.platform, arch: string = process.arch): boolean {
  return platform === 'linux' && (arch === 'x64' || arch === 'arm64');
}

/** The error thrown at first use of libc on any other platform. */
export function unsupportedPlatform(platform: string = process.platform, arch: string = process.arch): CodedError {
  return new CodedError(
    'ERR_UNSUPPORTED_PLATFORM',
    `node-selectors needs Linux on x86-64 or arm64; this is ${platform}/${arch}`,
  );
}

// The subset of koffi's API used here (typed loosely: koffi's own typings
// are `any` for calls).
interface KoffiFn {
  (...args: unknown[]): any;
  /** The same call on libuv's threadpool; the last argument is `(err, result) => void`. */
  async(...args: unknown[]): void;
}
interface KoffiModule {
  load(path: string | null): { func(decl: string): KoffiFn; symbol(name: string): bigint };
  errno(): number;
  address(value: unknown): bigint;
  view(ptr: bigint, len: number): ArrayBuffer;
  decode: { string(ptr: bigint): string };
  node: {
    poll(fd: number, opts: { readable?: boolean; writable?: boolean }, cb: (...args: any[]) => void): FdWatcher;
    /** This thread's `napi_env` of the koffi addon (a pointer). */
    env: unknown;
  };
}

function requireKoffi(): KoffiModule {
  return createRequire(import.meta.url)('koffi') as KoffiModule;
}

// dlopen(3) flags (glibc).
const RTLD_NOW = 2;
const RTLD_NOLOAD = 4;
const RTLD_NODELETE = 0x1000;

// koffi 3.3.4 in a worker thread: when the worker ends, Node dlclose()s the
// addons that worker loaded, and if no other thread loaded koffi its code
// is unmapped while a libuv poll handle it created is still being closed:
// the close callback jumps into unmapped memory (SIGSEGV). Marking koffi's
// binary RTLD_NODELETE keeps its code mapped for the life of the process.
function pinAddon(dlopen: KoffiFn): void {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return;
  }
  const match = /\s(\/\S*koffi[^/\s]*\.node)$/m.exec(maps);
  if (match !== null) dlopen(match[1], RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

function load(): Libc {
  if (!platformSupported()) throw unsupportedPlatform();
  // koffi is required lazily so that importing the library never loads a
  // native binary: the platform check above runs first.
  const koffi = requireKoffi();
  const lib = koffi.load('libc.so.6');
  const f = (decl: string): KoffiFn => lib.func(decl);
  if (!isMainThread) pinAddon(f('void *dlopen(const char *file, int mode)'));
  const getaddrinfoFn = f('int getaddrinfo(const char *node, const char *service, const void *hints, void *res)');
  const freeaddrinfoFn = f('void freeaddrinfo(uint64_t res)');

  const table: Libc = {
    errno: () => koffi.errno(),
    socket: f('int socket(int domain, int type, int protocol)'),
    socketpair: f('int socketpair(int domain, int type, int protocol, void *sv)'),
    bind: f('int bind(int fd, const void *addr, uint32_t addrlen)'),
    listen: f('int listen(int fd, int backlog)'),
    accept4: f('int accept4(int fd, void *addr, void *addrlen, int flags)'),
    connect: f('int connect(int fd, const void *addr, uint32_t addrlen)'),
    recv: f('long recv(int fd, void *buf, size_t len, int flags)'),
    send: f('long send(int fd, const void *buf, size_t len, int flags)'),
    recvfrom: f('long recvfrom(int fd, void *buf, size_t len, int flags, void *addr, void *addrlen)'),
    sendto: f('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    read: f('long read(int fd, void *buf, size_t len)'),
    write: f('long write(int fd, const void *buf, size_t len)'),
    shutdown: f('int shutdown(int fd, int how)'),
    close: f('int close(int fd)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: f('int getsockopt(int fd, int level, int name, void *value, void *len)'),
    getsockname: f('int getsockname(int fd, void *addr, void *addrlen)'),
    getpeername: f('int getpeername(int fd, void *addr, void *addrlen)'),
    fcntl: f('int fcntl(int fd, int cmd, int arg)'),
    ioctl: f('int ioctl(int fd, unsigned long request, void *arg)'),
    getaddrinfo: getaddrinfoFn,
    getaddrinfoAsync: (node, service, hints, res, cb) => {
      // koffi >= 3.2 exposes the worker's errno inside the callback.
      getaddrinfoFn.async(node, service, hints, res, (err: Error | null, rc: number) => cb(err, rc, rc !== 0 ? koffi.errno() : 0));
    },
    freeaddrinfo: (res: bigint) => { freeaddrinfoFn(res); },
    gai_strerror: f('const char *gai_strerror(int code)'),
    inet_pton: f('int inet_pton(int af, const char *src, void *dst)'),
    peek: (ptr: bigint, len: number) => Buffer.from(new Uint8Array(koffi.view(ptr, len))),
    peekString: (ptr: bigint) => koffi.decode.string(ptr),
    epoll_create1: f('int epoll_create1(int flags)'),
    epoll_ctl: f('int epoll_ctl(int epfd, int op, int fd, void *event)'),
    epoll_wait: f('int epoll_wait(int epfd, void *events, int maxevents, int timeout)'),
    poll: f('int poll(void *fds, unsigned long nfds, int timeout)'),
    select: f('int select(int nfds, void *readfds, void *writefds, void *exceptfds, void *timeout)'),
    eventfd: f('int eventfd(unsigned int initval, int flags)'),
    pipe2: f('int pipe2(void *fds, int flags)'),
    dup: f('int dup(int fd)'),
    dup2: f('int dup2(int oldfd, int newfd)'),
    dup3: f('int dup3(int oldfd, int newfd, int flags)'),
    getrlimit: f('int getrlimit(int resource, void *rlim)'),
    setrlimit: f('int setrlimit(int resource, const void *rlim)'),
    getpid: f('int getpid()'),
    sigaction: f('int sigaction(int signum, const void *act, void *oldact)'),
    umask: f('unsigned int umask(unsigned int mask)'),
    symbol: (name: string) => BigInt(lib.symbol(name)),
    sendmsg: f('long sendmsg(int fd, const void *msg, int flags)'),
    recvmsg: f('long recvmsg(int fd, void *msg, int flags)'),
    addressOf: (buf: Uint8Array) => koffi.address(buf),
    gethostname: f('int gethostname(void *name, size_t len)'),
    getnameinfo: f('int getnameinfo(const void *sa, uint32_t salen, void *host, uint32_t hostlen, void *serv, uint32_t servlen, int flags)'),
    gethostbyaddr_r: f('int gethostbyaddr_r(const void *addr, uint32_t len, int type, void *ret, void *buf, size_t buflen, void *result, void *h_errnop)'),
    if_nametoindex: f('unsigned int if_nametoindex(const char *ifname)'),
    if_indextoname: f('const char *if_indextoname(unsigned int ifindex, void *ifname)'),
    if_nameindex: (() => { const fn = f('uint64_t if_nameindex()'); return () => BigInt(fn()); })(),
    if_freenameindex: (() => { const fn = f('void if_freenameindex(uint64_t ptr)'); return (ptr: bigint) => { fn(ptr); }; })(),
    inet_ntop: f('const char *inet_ntop(int af, const void *src, void *dst, uint32_t size)'),
    inet_aton: f('int inet_aton(const char *cp, void *inp)'),
    watch: (fd, readable, writable, cb) => koffi.node.poll(fd, { readable, writable }, cb),
    sendfile: f('long sendfile(int out_fd, int in_fd, void *offset, size_t count)'),
    lseek: f('int64_t lseek(int fd, int64_t offset, int whence)'),
  };
  return table;
}

let cached: Libc | undefined;

/**
 * The process-wide libc binding table, loaded on first call.
 * @throws {CodedError} `ERR_UNSUPPORTED_PLATFORM` anywhere but Linux x86-64/arm64.
 */
export function libc(): Libc {
  return cached ?? (cached = load());
}

// ---- fds closed when a worker thread ends.
//
// A worker's JavaScript stops at terminate(): no 'exit' listener, no
// finally block runs. What does run is the environment's cleanup hooks
// (Node-API's napi_add_env_cleanup_hook), called with (arg) as
// `void hook(void *arg)`. The hook registered here is libc's close() itself
// with the fd as its argument: on x86-64 and arm64 the pointer-sized
// argument travels in the first integer register, of which close(int)
// reads the low 32 bits. No JavaScript has to run, and nothing is
// allocated per fd but Node's own entry for the hook.

interface ExitHooks {
  add(fd: number): void;
  remove(fd: number): void;
}

let exitHooks: ExitHooks | undefined;
// fd -> how many owners asked (Node aborts on a second identical hook).
const exitFds = new Map<number, number>();

function loadExitHooks(): ExitHooks {
  libc(); // the platform check, and koffi pinned in this worker
  const koffi = requireKoffi();
  try {
    const node = koffi.load(null);
    const addHook = node.func('int napi_add_env_cleanup_hook(void *env, void *fun, void *arg)');
    const removeHook = node.func('int napi_remove_env_cleanup_hook(void *env, void *fun, void *arg)');
    const closeFn = BigInt(koffi.load('libc.so.6').symbol('close'));
    const env = koffi.node.env;
    return {
      add: (fd) => { addHook(env, closeFn, BigInt(fd)); },
      remove: (fd) => { removeHook(env, closeFn, BigInt(fd)); },
    };
  } catch {
    // A Node without the Node-API symbols in its global scope: the fds stay
    // open after the worker, as they would without this module.
    return { add: () => {}, remove: () => {} };
  }
}

/**
 * In a worker thread: have `fd` closed when this thread's Node environment
 * is torn down (the worker ends or is terminated), unless
 * {@link keepAtThreadExit} is called first. In the main thread: nothing
 * (the process's end closes every fd).
 */
export function closeAtThreadExit(fd: number): void {
  if (isMainThread) return;
  const n = exitFds.get(fd) ?? 0;
  if (n === 0) (exitHooks ??= loadExitHooks()).add(fd);
  exitFds.set(fd, n + 1);
}

/** Undo one {@link closeAtThreadExit}(fd): call it before closing or handing the fd on. */
export function keepAtThreadExit(fd: number): void {
  const n = exitFds.get(fd);
  if (n === undefined) return;
  if (n > 1) {
    exitFds.set(fd, n - 1);
    return;
  }
  exitFds.delete(fd);
  exitHooks?.remove(fd);
}
