import t from 'tap';
import { inspect } from 'node:util';
import {
  Socket, getdefaulttimeout, setdefaulttimeout, socketpair,
} from '../../lib/socket/socket.js';
import { libc } from '../../lib/sys/libc.js';
import * as C from '../../lib/sys/constants.js';
import { SyscallError } from '../../lib/errors.js';
import { portOf, track } from '../fixtures/socket/helpers.js';

t.test('new Socket() is AF_INET/SOCK_STREAM, close-on-exec, blocking', async (t) => {
  const s = track(t, new Socket());
  t.equal(s.family, C.AF_INET);
  t.equal(s.type, C.SOCK_STREAM);
  t.equal(s.proto, 0);
  t.equal(s.closed, false);
  t.ok(s.fileno() >= 0);
  t.equal(s.gettimeout(), null);
  t.equal(s.timeout, null);
  t.equal(s.getblocking(), true);
  const sys = libc();
  t.equal(sys.fcntl(s.fileno(), C.F_GETFD, 0) & C.FD_CLOEXEC, C.FD_CLOEXEC, 'FD_CLOEXEC set');
  t.equal(sys.fcntl(s.fileno(), C.F_GETFL, 0) & C.O_NONBLOCK, 0, 'blocking fd');
  t.equal(s.getsockopt(C.SOL_SOCKET, C.SO_TYPE), C.SOCK_STREAM);
});

t.test('SOCK_NONBLOCK in type: timeout 0, type reported without the flags', async (t) => {
  const s = track(t, new Socket(C.AF_INET6, C.SOCK_DGRAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC));
  t.equal(s.family, C.AF_INET6);
  t.equal(s.type, C.SOCK_DGRAM);
  t.equal(s.gettimeout(), 0);
  t.equal(s.getblocking(), false);
  t.equal(libc().fcntl(s.fileno(), C.F_GETFL, 0) & C.O_NONBLOCK, C.O_NONBLOCK);
  const u = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM, null));
  t.equal(u.family, C.AF_UNIX);
  t.equal(u.proto, 0);
});

t.test('wrapping a fileno detects family, type and proto', async (t) => {
  const s = new Socket(C.AF_INET, C.SOCK_DGRAM);
  const fd = s.detach();
  t.equal(s.closed, true);
  t.equal(s.fileno(), -1);
  t.equal(s.detach(), -1, 'detach twice: -1');
  const w = track(t, new Socket(undefined, undefined, undefined, fd));
  t.equal(w.fileno(), fd);
  t.equal(w.family, C.AF_INET);
  t.equal(w.type, C.SOCK_DGRAM);
  t.equal(w.proto, C.IPPROTO_UDP, 'SO_PROTOCOL reports the real protocol');
  const v = new Socket(C.AF_INET, C.SOCK_DGRAM, 0, w.dup().detach());
  t.equal(v.proto, 0, 'explicit values are not overruled');
  v.close();
  const pipe = new Int32Array(2);
  t.equal(libc().pipe2(pipe, C.O_CLOEXEC), 0);
  t.teardown(() => { libc().close(pipe[0]); libc().close(pipe[1]); });
  t.throws(() => new Socket(null, null, null, pipe[0]), { code: 'ENOTSOCK', syscall: 'socket' });
});

t.test('bad constructor arguments and socket() failures', async (t) => {
  t.throws(() => new Socket('AF_INET' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Socket(C.AF_INET, 1.5), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Socket(C.AF_INET, C.SOCK_STREAM, 0, -1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Socket(C.AF_INET, C.SOCK_STREAM, 0, 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Socket(C.AF_INET, C.SOCK_STREAM, 0, '3' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Socket(9999), { code: 'EAFNOSUPPORT', syscall: 'socket' });
  t.throws(() => new Socket(C.AF_INET, C.SOCK_STREAM, C.IPPROTO_UDP), { code: 'EPROTONOSUPPORT' });
});

t.test('timeouts: settimeout, setblocking, default timeout', async (t) => {
  const s = track(t, new Socket());
  const flags = (): number => libc().fcntl(s.fileno(), C.F_GETFL, 0) & C.O_NONBLOCK;
  s.settimeout(0.5);
  t.equal(s.gettimeout(), 0.5);
  t.equal(s.getblocking(), true, 'timeout mode counts as blocking, as in Python');
  t.equal(flags(), C.O_NONBLOCK, 'timeout mode uses a non-blocking fd');
  s.setblocking(false);
  t.equal(s.gettimeout(), 0);
  t.equal(s.getblocking(), false);
  s.setblocking(true);
  t.equal(s.gettimeout(), null);
  t.equal(flags(), 0);
  s.settimeout(0);
  t.equal(s.gettimeout(), 0);
  s.settimeout(null);
  t.equal(s.gettimeout(), null);
  t.throws(() => s.settimeout(-1), { code: 'ERR_OUT_OF_RANGE', message: /Timeout value out of range/ });
  t.throws(() => s.settimeout(Infinity), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.settimeout(NaN), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.settimeout('1' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });

  t.equal(getdefaulttimeout(), null);
  t.teardown(() => setdefaulttimeout(null));
  setdefaulttimeout(2.5);
  t.equal(getdefaulttimeout(), 2.5);
  const d = track(t, new Socket());
  t.equal(d.gettimeout(), 2.5, 'new sockets take the default');
  t.equal(libc().fcntl(d.fileno(), C.F_GETFL, 0) & C.O_NONBLOCK, C.O_NONBLOCK);
  const nb = track(t, new Socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK));
  t.equal(nb.gettimeout(), 0, 'SOCK_NONBLOCK wins over the default');
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  t.equal(a.gettimeout(), 2.5);
  setdefaulttimeout(undefined as unknown as null);
  t.equal(getdefaulttimeout(), null);
  t.throws(() => setdefaulttimeout(-0.1), { code: 'ERR_OUT_OF_RANGE' });
});

t.test('close is idempotent; every method then throws EBADF named after itself', async (t) => {
  const s = new Socket();
  s.close();
  s.close();
  s[Symbol.dispose]();
  t.equal(s.closed, true);
  t.equal(s.fileno(), -1);
  const buf = Buffer.alloc(4);
  const calls: Array<[string, () => unknown]> = [
    ['recv', () => s.recv(1)],
    ['recvInto', () => s.recvInto(buf)],
    ['recvfrom', () => s.recvfrom(1)],
    ['recvfromInto', () => s.recvfromInto(buf)],
    ['send', () => s.send(buf)],
    ['sendall', () => s.sendall(buf)],
    ['sendto', () => s.sendto(buf, ['127.0.0.1', 9])],
    ['bind', () => s.bind(['127.0.0.1', 0])],
    ['listen', () => s.listen()],
    ['accept', () => s.accept()],
    ['connect', () => s.connect(['127.0.0.1', 9])],
    ['shutdown', () => s.shutdown(C.SHUT_RDWR)],
    ['dup', () => s.dup()],
    ['setsockopt', () => s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, 1)],
    ['getsockopt', () => s.getsockopt(C.SOL_SOCKET, C.SO_TYPE)],
    ['getsockopt', () => s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, 8)],
    ['getsockname', () => s.getsockname()],
    ['getpeername', () => s.getpeername()],
    ['settimeout', () => s.settimeout(1)],
    ['setblocking', () => s.setblocking(false)],
  ];
  for (const [name, call] of calls) {
    const err = t.throws(call, { code: 'EBADF', errno: C.EBADF, syscall: name }, name) as SyscallError;
    t.ok(err instanceof SyscallError);
  }
  t.equal(s.connectEx(['127.0.0.1', 9]), C.EBADF, 'connectEx returns errno 9 like Python');
  t.equal(String(s), '<socket [closed] fd=-1, family=AF_INET, type=SOCK_STREAM, proto=0>');
});

t.test('close() reports a failure of close(2)', async (t) => {
  const s = new Socket();
  libc().close(s.fileno());
  t.throws(() => s.close(), { code: 'EBADF', syscall: 'close' });
  t.equal(s.closed, true);
});

t.test('dup() shares the connection and copies the timeout', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  a.settimeout(3);
  const c = track(t, a.dup());
  t.not(c.fileno(), a.fileno());
  t.equal(c.family, C.AF_UNIX);
  t.equal(c.type, C.SOCK_STREAM);
  t.equal(c.gettimeout(), 3);
  t.equal(libc().fcntl(c.fileno(), C.F_GETFD, 0) & C.FD_CLOEXEC, C.FD_CLOEXEC);
  c.sendall('via dup');
  t.equal(b.recv(100)?.toString(), 'via dup');
});

t.test('setsockopt/getsockopt: ints, booleans, raw bytes, bounds', async (t) => {
  const s = track(t, new Socket());
  t.equal(s.getsockopt(C.SOL_SOCKET, C.SO_REUSEADDR), 0);
  s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  t.equal(s.getsockopt(C.SOL_SOCKET, C.SO_REUSEADDR), 1);
  s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, false);
  t.equal(s.getsockopt(C.SOL_SOCKET, C.SO_REUSEADDR), 0);
  s.setsockopt(C.IPPROTO_TCP, C.TCP_NODELAY, true);
  t.equal(s.getsockopt(C.IPPROTO_TCP, C.TCP_NODELAY), 1);
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0);
  linger.writeInt32LE(5, 4);
  s.setsockopt(C.SOL_SOCKET, C.SO_LINGER, linger);
  const got = s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, 8);
  t.ok(Buffer.isBuffer(got));
  t.same([got.readInt32LE(0), got.readInt32LE(4)], [1, 5]);
  t.equal(s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, 100).length, 8, 'trimmed to the kernel length');
  t.throws(() => s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, 0), { code: 'ERR_OUT_OF_RANGE', message: /buflen out of range/ });
  t.throws(() => s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, 1025), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, '1' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, 2 ** 33), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.setsockopt('SOL_SOCKET' as unknown as number, 1, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.setsockopt(C.SOL_SOCKET, 9999, 1), { code: 'ENOPROTOOPT', syscall: 'setsockopt' });
  t.throws(() => s.getsockopt(C.SOL_SOCKET, 9999), { code: 'ENOPROTOOPT', syscall: 'getsockopt' });
  t.throws(() => s.getsockopt(C.SOL_SOCKET, 9999, 4), { code: 'ENOPROTOOPT', syscall: 'getsockopt' });
});

t.test('repr and inspect follow Python', async (t) => {
  const s = track(t, new Socket());
  t.equal(String(s), `<socket fd=${s.fileno()}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=('0.0.0.0', 0)>`);
  s.bind(['127.0.0.1', 0]);
  s.listen();
  const port = portOf(s);
  t.equal(inspect(s), `<socket fd=${s.fileno()}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=('127.0.0.1', ${port})>`);
  const c = track(t, new Socket());
  c.connect(['127.0.0.1', port]);
  t.match(String(c), new RegExp(`^<socket fd=\\d+, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=\\('127\\.0\\.0\\.1', \\d+\\), raddr=\\('127\\.0\\.0\\.1', ${port}\\)>$`));
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  t.equal(String(a), `<socket fd=${a.fileno()}, family=AF_UNIX, type=SOCK_STREAM, proto=0>`, 'unnamed AF_UNIX: no laddr/raddr');
  const odd = track(t, new Socket(C.AF_UNIX, C.SOCK_SEQPACKET));
  t.match(String(odd), /family=AF_UNIX, type=SOCK_SEQPACKET, proto=0>/);
  const nl = track(t, new Socket(16, C.SOCK_DGRAM, 0));
  t.match(String(nl), /family=16, type=SOCK_DGRAM, proto=0, laddr=\(16, b'/, 'an unknown family prints as Python (family, bytes)');
});
