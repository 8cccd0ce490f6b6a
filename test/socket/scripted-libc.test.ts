import t from 'tap';
import {
  Socket, createConnection, createServer, setdefaulttimeout, socketpair,
} from '../../lib/socket/socket.js';
import { libc } from '../../lib/sys/libc.js';
import * as C from '../../lib/sys/constants.js';
import { SocketTimeoutError, SyscallError } from '../../lib/errors.js';
import { portOf, scriptedLibc, since, track } from '../fixtures/socket/helpers.js';

const real = libc();
const ENOPROTOOPT = 92;

/** A function that fails with `errno` the first `times` calls, then calls `through`. */
function failing<A extends unknown[]>(s: { fail(e: number): -1 }, errno: number, times: number, through: (...args: A) => number): (...args: A) => number {
  let left = times;
  return (...args: A) => (left-- > 0 ? s.fail(errno) : through(...args));
}

t.test('EINTR is retried by every blocking call', async (t) => {
  const calls: Record<string, number> = {};
  const count = <A extends unknown[]>(name: string, fn: (...args: A) => number) => (...args: A): number => {
    calls[name] = (calls[name] ?? 0) + 1;
    return fn(...args);
  };
  const s = scriptedLibc((x) => ({
    recv: count('recv', failing(x, C.EINTR, 1, real.recv)),
    send: count('send', failing(x, C.EINTR, 1, real.send)),
    recvfrom: count('recvfrom', failing(x, C.EINTR, 1, real.recvfrom)),
    sendto: count('sendto', failing(x, C.EINTR, 1, real.sendto)),
    accept4: count('accept4', failing(x, C.EINTR, 1, real.accept4)),
  }));
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: s.sys });
  track(t, a);
  track(t, b);
  t.equal(a.send('one'), 3);
  t.equal(b.recv(10)?.toString(), 'one');
  a.sendall('two');
  t.same(b.recvfrom(10), [Buffer.from('two'), null]);
  t.equal(calls.recv, 2);
  t.equal(calls.send, 3, 'send retried once, sendall succeeded at once');
  t.equal(calls.recvfrom, 2);

  const d1 = track(t, new Socket(C.AF_INET, C.SOCK_DGRAM, 0, null, { sys: s.sys }));
  d1.bind(['127.0.0.1', 0]);
  t.equal(d1.sendto('dg', ['127.0.0.1', portOf(d1)]), 2);
  t.equal(calls.sendto, 2);

  const srv = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: s.sys }));
  srv.bind(['127.0.0.1', 0]);
  srv.listen();
  const c = track(t, new Socket());
  c.connect(['127.0.0.1', portOf(srv)]);
  const acc = srv.accept();
  t.ok(acc);
  track(t, (acc as [Socket, unknown])[0]);
  t.equal(calls.accept4, 2);
});

t.test('EINTR and EAGAIN false positives in timeout mode', async (t) => {
  const s = scriptedLibc((x) => ({
    poll: failing(x, C.EINTR, 1, real.poll),
    recv: failing(x, C.EAGAIN, 1, real.recv),
    send: failing(x, C.EAGAIN, 2, real.send),
    recvfrom: failing(x, C.EAGAIN, 1, real.recvfrom),
    sendto: failing(x, C.EAGAIN, 1, real.sendto),
    accept4: failing(x, C.EAGAIN, 1, real.accept4),
  }));
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: s.sys });
  track(t, a);
  track(t, b);
  a.settimeout(2);
  b.settimeout(2);
  t.equal(a.send('x'), 1, 'EINTR in poll, then EAGAIN from send: waits again');
  a.sendall('yz');
  t.equal(b.recv(10)?.toString(), 'xyz', 'EAGAIN after poll said readable: waits again');
  a.sendall('w');
  t.equal(b.recvInto(Buffer.alloc(4)), 1);
  a.sendall('v');
  t.same(b.recvfrom(4), [Buffer.from('v'), null]);
  const d = track(t, new Socket(C.AF_INET, C.SOCK_DGRAM, 0, null, { sys: s.sys }));
  d.bind(['127.0.0.1', 0]);
  d.settimeout(2);
  t.equal(d.sendto('u', ['127.0.0.1', portOf(d)]), 1);
  const srv = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: s.sys }));
  srv.bind(['127.0.0.1', 0]);
  srv.listen();
  srv.settimeout(2);
  const c = track(t, new Socket());
  c.connect(['127.0.0.1', portOf(srv)]);
  const acc = srv.accept();
  t.ok(acc, 'accept retried after EAGAIN');
  track(t, (acc as [Socket, unknown])[0]);
});

t.test('a readiness that never turns into data ends in a timeout', async (t) => {
  const s = scriptedLibc((x) => ({
    poll: () => 1,
    recv: () => x.fail(C.EAGAIN),
  }));
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: s.sys });
  track(t, a);
  track(t, b);
  b.settimeout(0.05);
  const start = performance.now();
  let polls = 0;
  s.sys.poll = (fds, n, ms) => {
    polls++;
    return ms === 0 ? 0 : 1;
  };
  t.throws(() => b.recv(10), { code: 'ETIMEDOUT', syscall: 'recv' });
  t.ok(polls > 1, 'polled again after each false positive');
  t.ok(since(start) >= 40, 'within the deadline');
});

t.test('poll() failures other than EINTR are errors', async (t) => {
  const s = scriptedLibc((x) => ({ poll: () => x.fail(C.ENOMEM) }));
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: s.sys });
  track(t, a);
  track(t, b);
  a.settimeout(1);
  t.throws(() => a.recv(1), { code: 'ENOMEM', syscall: 'recv' });
});

t.test('sendall keeps going after partial sends', async (t) => {
  const sizes: number[] = [];
  const s = scriptedLibc((x) => ({
    send: (fd, buf, len, flags) => {
      sizes.push(len);
      t.equal(flags & C.MSG_NOSIGNAL, C.MSG_NOSIGNAL, 'MSG_NOSIGNAL always');
      return real.send(fd, buf, Math.min(len, 3), flags);
    },
  }));
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: s.sys });
  track(t, a);
  track(t, b);
  a.sendall('0123456789', C.MSG_DONTWAIT);
  t.same(sizes, [10, 7, 4, 1]);
  t.equal(b.recv(20)?.toString(), '0123456789');
  const p = scriptedLibc((x) => ({
    send: failing(x, C.EINTR, 1, (fd: number, buf: Uint8Array, len: number, flags: number) => (len > 4 ? real.send(fd, buf, 4, flags) : x.fail(C.ECONNRESET))),
  }));
  const [c, d] = socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: p.sys });
  track(t, c);
  track(t, d);
  t.throws(() => c.sendall('abcdefgh'), { code: 'ECONNRESET', syscall: 'sendall', bytesSent: 4 });
});

t.test('connect: EINTR waits for the result, timeouts, SO_ERROR failures', async (t) => {
  const srv = track(t, new Socket());
  srv.bind(['127.0.0.1', 0]);
  srv.listen();
  const port = portOf(srv);
  // The connect really happens, then reports EINTR: as in Python, wait for
  // writability and read SO_ERROR instead of failing.
  const intr = scriptedLibc((x) => ({ connect: (fd, a, l) => (real.connect(fd, a, l), x.fail(C.EINTR)) }));
  const c1 = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: intr.sys }));
  c1.connect(['127.0.0.1', port]);
  t.same((c1.getpeername() as unknown[])[1], port, 'connected after EINTR');
  const nb = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: intr.sys }));
  nb.setblocking(false);
  t.equal(nb.connectEx(['127.0.0.1', port]), C.EINTR, 'non-blocking: EINTR is just returned');

  const soerr = scriptedLibc((x) => ({
    connect: (fd, a, l) => (real.connect(fd, a, l), x.fail(C.EINTR)),
    getsockopt: (fd, level, name, v, len) => (name === C.SO_ERROR ? x.fail(ENOPROTOOPT) : real.getsockopt(fd, level, name, v, len)),
  }));
  const c2 = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: soerr.sys }));
  t.equal(c2.connectEx(['127.0.0.1', port]), ENOPROTOOPT, 'a failing SO_ERROR read is the result');

  const slow = scriptedLibc((x) => ({
    connect: () => x.fail(C.EINPROGRESS),
    poll: () => 0,
  }));
  const c3 = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: slow.sys }));
  c3.settimeout(0.01);
  const err = t.throws(() => c3.connect(['127.0.0.1', port]));
  t.ok(err instanceof SocketTimeoutError);
  t.match(err, { code: 'ETIMEDOUT', syscall: 'connect', message: 'connect timed out' });
  t.equal(c3.connectEx(['127.0.0.1', port]), C.EAGAIN, 'connectEx: EWOULDBLOCK on timeout, as Python');
  const c4 = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: slow.sys }));
  t.throws(() => c4.connect(['127.0.0.1', port]), { code: 'EINPROGRESS' }, 'blocking mode: EINPROGRESS is not waited for');
  for (let i = 0; i < 4; i++) {
    const acc = srv.accept();
    if (acc === null) break;
    track(t, acc[0]);
    srv.setblocking(false);
  }
});

t.test('close(): ECONNRESET and EINTR ignored, other errors thrown', async (t) => {
  for (const [errno, throws] of [[C.ECONNRESET, false], [C.EINTR, false], [5 /* EIO */, true]] as const) {
    const s = scriptedLibc((x) => ({ close: (fd) => (real.close(fd), x.fail(errno)) }));
    const sock = new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: s.sys });
    if (throws) t.throws(() => sock.close(), { code: 'EIO', syscall: 'close', errno });
    else sock.close();
    t.equal(sock.closed, true);
  }
});

t.test('failures of socket(), ioctl, fcntl, socketpair, getsockname', async (t) => {
  const s = scriptedLibc((x) => ({
    socket: () => x.fail(C.EMFILE),
    socketpair: () => x.fail(C.ENFILE),
  }));
  t.throws(() => new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: s.sys }), { code: 'EMFILE', syscall: 'socket' });
  t.throws(() => socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: s.sys }), { code: 'ENFILE', syscall: 'socketpair' });

  let closed = -1;
  const io = scriptedLibc((x) => ({
    ioctl: () => x.fail(C.EPERM),
    fcntl: (fd, cmd, arg) => (cmd === C.F_DUPFD_CLOEXEC ? x.fail(C.EMFILE) : real.fcntl(fd, cmd, arg)),
    close: (fd) => { closed = fd; return real.close(fd); },
    getsockname: () => x.fail(105 /* ENOBUFS */),
    getpeername: () => x.fail(105 /* ENOBUFS */),
  }));
  const sock = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: io.sys }));
  t.throws(() => sock.setblocking(false), { code: 'EPERM', syscall: 'setblocking' });
  t.equal(sock.gettimeout(), null, 'unchanged when the ioctl failed');
  t.throws(() => sock.settimeout(1), { code: 'EPERM', syscall: 'settimeout' });
  t.throws(() => sock.dup(), { code: 'EMFILE', syscall: 'dup' });
  t.throws(() => sock.getsockname(), { code: 'ENOBUFS', syscall: 'getsockname' });
  t.throws(() => sock.getpeername(), { code: 'ENOBUFS', syscall: 'getpeername' });
  t.equal(String(sock), `<socket fd=${sock.fileno()}, family=AF_INET, type=SOCK_STREAM, proto=0>`, 'repr leaves out what it cannot get');

  t.teardown(() => setdefaulttimeout(null));
  setdefaulttimeout(1);
  t.throws(() => new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: io.sys }), { code: 'EPERM', syscall: 'socket' });
  t.ok(closed >= 0, 'the new fd was closed again');
  setdefaulttimeout(null);

  // fds made by accept(), dup() and socketpair() are closed again when
  // wrapping them fails (here: the default timeout's ioctl).
  const closedFds: number[] = [];
  let ioctlOk = true;
  const wrap = scriptedLibc((x) => ({
    ioctl: (fd, req, arg) => (ioctlOk ? real.ioctl(fd, req, arg) : x.fail(C.EPERM)),
    close: (fd) => { closedFds.push(fd); return real.close(fd); },
  }));
  const srv = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: wrap.sys }));
  srv.bind(['127.0.0.1', 0]);
  srv.listen();
  const c = track(t, new Socket());
  c.connect(['127.0.0.1', portOf(srv)]);
  const orig = track(t, new Socket(C.AF_INET, C.SOCK_STREAM, 0, null, { sys: wrap.sys }));
  orig.settimeout(1);
  ioctlOk = false;
  t.throws(() => orig.dup(), { code: 'EPERM' });
  t.equal(closedFds.length, 1, 'dup: the duplicate was closed');
  setdefaulttimeout(1);
  t.throws(() => srv.accept(), { code: 'EPERM' });
  t.equal(closedFds.length, 2, 'accept: the new connection was closed');
  t.throws(() => socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: wrap.sys }), { code: 'EPERM' });
  t.equal(closedFds.length, 4, 'socketpair: both ends closed');
  let calls = 0;
  const second = scriptedLibc((x) => ({
    ioctl: (fd, req, arg) => (++calls === 2 ? x.fail(C.EPERM) : real.ioctl(fd, req, arg)),
    close: (fd) => { closedFds.push(fd); return real.close(fd); },
  }));
  t.throws(() => socketpair(C.AF_UNIX, C.SOCK_STREAM, 0, { sys: second.sys }), { code: 'EPERM' });
  t.equal(closedFds.length, 6, 'socketpair: second end failed, both closed');
  setdefaulttimeout(null);
});

t.test('createConnection and createServer error handling', async (t) => {
  const none = scriptedLibc(() => ({ getaddrinfo: () => 0 }));
  t.throws(() => createConnection(['h', 1], undefined, null, { sys: none.sys }), { code: 'ENOTFOUND', message: /getaddrinfo ENOTFOUND h/ });
  const noReuse = scriptedLibc((x) => ({
    setsockopt: (fd, level, name, v, l) => (name === C.SO_REUSEADDR ? x.fail(ENOPROTOOPT) : real.setsockopt(fd, level, name, v, l)),
  }));
  const srv = track(t, createServer(['127.0.0.1', 0], { sys: noReuse.sys }));
  t.equal(srv.getsockopt(C.SOL_SOCKET, C.SO_REUSEADDR), 0, 'an SO_REUSEADDR failure is ignored, as Python');
  let closedFd = -1;
  const noListen = scriptedLibc((x) => ({
    listen: () => x.fail(C.EADDRINUSE),
    close: (fd) => { closedFd = fd; return real.close(fd); },
  }));
  t.throws(() => createServer(['127.0.0.1', 0], { sys: noListen.sys }), { code: 'EADDRINUSE', syscall: 'listen' });
  t.ok(closedFd >= 0, 'the socket was closed');
});

t.test('createConnection: a timeout is an OSError-like SyscallError, sock closed', async (t) => {
  const srv = track(t, createServer(['127.0.0.1', 0]));
  const port = portOf(srv);
  const closed: number[] = [];
  const s = scriptedLibc((x) => ({
    connect: () => x.fail(C.EINPROGRESS),
    poll: () => 0,
    close: (fd: number) => { closed.push(fd); return real.close(fd); },
  }));
  const err = t.throws(() => createConnection(['127.0.0.1', port], 0.01, null, { sys: s.sys }));
  t.ok(err instanceof SocketTimeoutError);
  t.ok(err instanceof SyscallError);
  t.match(err, { code: 'ETIMEDOUT', syscall: 'connect' });
  t.equal(closed.length, 1, 'the socket that timed out was closed');
});
