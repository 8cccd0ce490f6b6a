import t from 'tap';
import { libc, platformSupported, unsupportedPlatform } from '../../lib/sys/libc.js';
import { check } from '../../lib/sys/check.js';
import * as C from '../../lib/sys/constants.js';
import { SyscallError } from '../../lib/errors.js';

t.test('libc loads once and reports errno right after a failing call', async (t) => {
  const sys = libc();
  t.equal(libc(), sys, 'one table per process');
  t.equal(sys.close(-1), -1);
  t.equal(sys.errno(), C.EBADF);
  const err = t.throws(() => check(sys, sys.close(-1), 'close')) as SyscallError;
  t.equal(err.code, 'EBADF');
  t.equal(err.errno, C.EBADF);
  t.equal(err.syscall, 'close');
  t.equal(err.message, 'close EBADF');
  t.equal(check(sys, 0, 'noop'), 0);
});

t.test('errors carry address, port, path and host name like Node', async (t) => {
  const e1 = new SyscallError(C.ECONNREFUSED, 'connect', { address: '127.0.0.1', port: 9 });
  t.equal(e1.message, 'connect ECONNREFUSED 127.0.0.1:9');
  t.equal(e1.address, '127.0.0.1');
  t.equal(e1.port, 9);
  t.equal(e1.strerror, 'connection refused');
  t.ok(e1 instanceof Error);
  const e2 = new SyscallError(C.ENOENT, 'connect', { path: '/tmp/nope.sock' });
  t.equal(e2.message, 'connect ENOENT /tmp/nope.sock');
  t.equal(e2.path, '/tmp/nope.sock');
  const e3 = new SyscallError(C.EADDRINUSE, 'bind', { address: '::1' });
  t.equal(e3.message, 'bind EADDRINUSE ::1');
  const e4 = new SyscallError(C.EAI_NONAME, 'getaddrinfo', { hostname: 'nope.invalid' }, 'ENOTFOUND', 'Name or service not known');
  t.equal(e4.message, 'getaddrinfo ENOTFOUND nope.invalid');
  t.equal(e4.hostname, 'nope.invalid');
  t.equal(new SyscallError(200, 'x').code, 'E200');
});

t.test('platform check names the platform with a stable code', async (t) => {
  t.equal(platformSupported(), process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch));
  t.notOk(platformSupported('darwin', 'arm64'));
  t.notOk(platformSupported('linux', 'ia32'));
  const err = unsupportedPlatform('win32', 'x64');
  t.equal(err.code, 'ERR_UNSUPPORTED_PLATFORM');
  t.match(err.message, /win32\/x64/);
});

t.test('socketpair, send with MSG_NOSIGNAL, recv and EAGAIN through the table', async (t) => {
  const sys = libc();
  const sv = new Int32Array(2);
  t.equal(sys.socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, sv), 0);
  const buf = Buffer.alloc(16);
  t.equal(sys.recv(sv[0], buf, buf.length, 0), -1);
  t.equal(sys.errno(), C.EAGAIN);
  t.equal(sys.send(sv[1], Buffer.from('hi'), 2, C.MSG_NOSIGNAL), 2);
  t.equal(sys.recv(sv[0], buf, buf.length, 0), 2);
  t.equal(buf.subarray(0, 2).toString(), 'hi');
  sys.close(sv[0]);
  t.equal(sys.send(sv[1], Buffer.from('x'), 1, C.MSG_NOSIGNAL), -1, 'peer gone: no SIGPIPE');
  t.equal(sys.errno(), C.EPIPE);
  sys.close(sv[1]);
});
