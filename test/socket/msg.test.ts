import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Socket, socketpair } from '../../lib/socket/socket.js';
import { CMSG_LEN, CMSG_SPACE, recvFds, sendFds } from '../../lib/socket/msg.js';
import * as C from '../../lib/sys/constants.js';
import { libc } from '../../lib/sys/libc.js';
import { track } from '../fixtures/socket/helpers.js';

const sys = libc();

t.test('CMSG_LEN and CMSG_SPACE match Python', async (t) => {
  t.equal(CMSG_LEN(0), 16);
  t.equal(CMSG_LEN(4), 20);
  t.equal(CMSG_SPACE(4), 24);
  t.equal(CMSG_SPACE(0), 16);
  t.equal(CMSG_SPACE(8), 24);
  t.throws(() => CMSG_LEN(-1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => CMSG_SPACE(1.5), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => CMSG_LEN('4' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  const py = spawnSync('python3', ['-c', 'import socket, json; print(json.dumps([[socket.CMSG_LEN(n), socket.CMSG_SPACE(n)] for n in range(0, 40)]))'], { encoding: 'utf8' });
  if (py.status !== 0) {
    t.comment(`python3 not usable (${py.error?.message ?? py.stderr}): skipping the comparison`);
    return;
  }
  t.same(Array.from({ length: 40 }, (_, n) => [CMSG_LEN(n), CMSG_SPACE(n)]), JSON.parse(py.stdout));
});

t.test('sendmsg gathers buffers; recvmsg and recvmsgInto scatter them', async (t) => {
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_STREAM);
  track(t, a);
  track(t, b);
  t.equal(a.sendmsg([Buffer.from('hello '), 'world', new Uint8Array(0)]), 11);
  t.same(b.recvmsg(100), [Buffer.from('hello world'), [], 0, null]);
  a.sendmsg(['abcdefgh']);
  const x = Buffer.alloc(3);
  const y = Buffer.alloc(10);
  t.same(b.recvmsgInto([x, y]), [8, [], 0, null]);
  t.equal(x.toString(), 'abc');
  t.equal(y.subarray(0, 5).toString(), 'defgh');
  b.setblocking(false);
  t.equal(b.recvmsg(10), null, 'would block: null');
  t.equal(b.recvmsgInto([x]), null);
  t.throws(() => b.recvmsg(-1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => b.recvmsg(1, -1), { code: 'ERR_OUT_OF_RANGE', message: /negative buffer size/ });
  t.throws(() => a.sendmsg('abc' as unknown as string[]), { code: 'ERR_INVALID_ARG_TYPE' }, 'a string is not a list of buffers');
  t.throws(() => a.sendmsg([{} as unknown as string]), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => a.sendmsg(['x'], [[1, 2] as unknown as [number, number, Uint8Array]]), { code: 'ERR_INVALID_ARG_TYPE' });
  a.close();
  t.throws(() => a.sendmsg(['x']), { code: 'EBADF', syscall: 'sendmsg' });
  t.throws(() => a.recvmsg(1), { code: 'EBADF', syscall: 'recvmsg' });
  t.throws(() => a.recvmsgInto([x]), { code: 'EBADF', syscall: 'recvmsgInto' });
});

t.test('SCM_RIGHTS through sendmsg/recvmsg, and MSG_CTRUNC when ancbufsize is too small', async (t) => {
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_DGRAM);
  track(t, a);
  track(t, b);
  const [p, q] = socketpair();
  track(t, p);
  track(t, q);
  const fds = new Int32Array([p.fileno(), q.fileno()]);
  t.equal(a.sendmsg(['x'], [[C.SOL_SOCKET, C.SCM_RIGHTS, fds]]), 1);
  const r = b.recvmsg(10, CMSG_SPACE(8));
  t.ok(r);
  const [data, anc, flags] = r!;
  t.equal(data.toString(), 'x');
  t.equal(flags, 0);
  t.equal(anc.length, 1);
  t.equal(anc[0][0], C.SOL_SOCKET);
  t.equal(anc[0][1], C.SCM_RIGHTS);
  t.equal(anc[0][2].length, 8);
  const got = [anc[0][2].readInt32LE(0), anc[0][2].readInt32LE(4)];
  const wrapped = got.map((fd) => track(t, new Socket(null, null, null, fd)));
  t.equal(wrapped[0].getInheritable(), false, 'received fds are close-on-exec');
  wrapped[0].sendall('through the copy');
  t.equal(q.recv(100)?.toString(), 'through the copy');

  // Room for one fd of two: the kernel closes the other and sets MSG_CTRUNC.
  a.sendmsg(['y'], [[C.SOL_SOCKET, C.SCM_RIGHTS, fds]]);
  const [, anc2, flags2] = b.recvmsg(10, CMSG_LEN(4))!;
  t.equal(flags2 & C.MSG_CTRUNC, C.MSG_CTRUNC, 'MSG_CTRUNC');
  t.equal(anc2.length, 1);
  t.equal(anc2[0][2].length, 4);
  sys.close(anc2[0][2].readInt32LE(0));

  // No room at all.
  a.sendmsg(['z'], [[C.SOL_SOCKET, C.SCM_RIGHTS, fds]]);
  const r3 = b.recvmsg(10);
  t.same([r3![0].toString(), r3![1], r3![2] & C.MSG_CTRUNC], ['z', [], C.MSG_CTRUNC]);

  // A datagram longer than the buffer: MSG_TRUNC.
  a.sendmsg(['0123456789']);
  const r4 = b.recvmsg(4);
  t.same([r4![0].toString(), r4![2] & C.MSG_TRUNC], ['0123', C.MSG_TRUNC]);
});

t.test('sendFds / recvFds', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  const [p, q] = socketpair();
  track(t, p);
  track(t, q);
  t.equal(sendFds(a, [Buffer.from('fd')], [p.fileno()]), 2);
  const [data, fds, flags, addr] = recvFds(b, 10, 4)!;
  t.equal(data.toString(), 'fd');
  t.equal(fds.length, 1);
  t.equal(flags, 0);
  t.equal(addr, null);
  t.not(fds[0], p.fileno());
  const copy = track(t, new Socket(null, null, null, fds[0]));
  t.equal(copy.family, C.AF_UNIX);
  copy.sendall('ok');
  t.equal(q.recv(10)?.toString(), 'ok');
  t.same(sendFds(a, ['none'], []), 4);
  t.same(recvFds(b, 10, 1)?.slice(0, 2), [Buffer.from('none'), []]);
  b.setblocking(false);
  t.equal(recvFds(b, 10, 1), null);
  t.throws(() => sendFds(a, ['x'], [-1]), { code: 'EBADF', syscall: 'sendmsg' });
  t.throws(() => sendFds(a, ['x'], ['3' as unknown as number]), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => recvFds(b, 10, -1), { code: 'ERR_OUT_OF_RANGE' });
});

t.test('an fd sent with sendFds works in another process', async (t) => {
  const [parent, child] = socketpair();
  track(t, parent);
  const [p, q] = socketpair();
  track(t, p);
  track(t, q);
  const lib = new URL('../../lib/socket/index.ts', import.meta.url).pathname;
  // The child: takes the fd from its fd 3 (its end of a socketpair) and writes through it.
  const script = join(t.testdir({ 'child.mjs': `
    const { Socket, recvFds } = await import(${JSON.stringify(lib)});
    const chan = new Socket(null, null, null, 3);
    chan.settimeout(10);
    const [data, fds] = recvFds(chan, 100, 1);
    const s = new Socket(null, null, null, fds[0]);
    s.sendall('child ' + process.pid + ' got ' + data.toString());
    s.close();
    chan.close();
  ` }), 'child.mjs');
  const { spawn } = await import('node:child_process');
  const proc = spawn(process.execPath, [...process.execArgv, script], { stdio: ['ignore', 'inherit', 'inherit', child.fileno()] });
  child.close();
  sendFds(parent, ['hello'], [p.fileno()]);
  p.close();
  q.settimeout(20);
  const text = q.recv(100)?.toString();
  const code = await new Promise((resolve) => proc.on('exit', resolve));
  t.equal(code, 0);
  t.equal(text, `child ${proc.pid} got hello`);
});

t.test('SO_PEERCRED', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  t.same(a.peercred(), [process.pid, process.getuid!(), process.getgid!()]);
  const raw = b.getsockopt(C.SOL_SOCKET, C.SO_PEERCRED, 12);
  t.equal(raw.readInt32LE(0), process.pid);
  a.close();
  t.throws(() => a.peercred(), { code: 'EBADF' });
});

t.test('recvmsg/sendmsg: timeout mode, EINTR retried, addresses', async (t) => {
  const { scriptedLibc, tempDir } = await import('../fixtures/socket/helpers.js');
  const { SocketTimeoutError, SyscallError } = await import('../../lib/errors.js');
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_DGRAM);
  track(t, a);
  track(t, b);
  b.settimeout(0.05);
  const err = t.throws(() => b.recvmsg(10));
  t.ok(err instanceof SocketTimeoutError && err instanceof SyscallError, 'a timeout is a SyscallError');
  t.match(err, { code: 'ETIMEDOUT', syscall: 'recvmsg' });
  t.throws(() => b.recvmsgInto([Buffer.alloc(1)]), { code: 'ETIMEDOUT', syscall: 'recvmsgInto' });
  a.sendmsg(['late']);
  t.equal(b.recvmsg(10)?.[0].toString(), 'late', 'data ready: no timeout');

  const calls = { sendmsg: 0, recvmsg: 0 };
  const s = scriptedLibc((x) => ({
    sendmsg: (fd: number, msg: Uint8Array, flags: number) => (calls.sendmsg++ < 1 ? x.fail(C.EINTR) : sys.sendmsg(fd, msg, flags)),
    recvmsg: (fd: number, msg: Uint8Array, flags: number) => (calls.recvmsg++ < 2 ? x.fail(C.EINTR) : sys.recvmsg(fd, msg, flags)),
  }));
  const [c, d] = socketpair(C.AF_UNIX, C.SOCK_DGRAM, 0, { sys: s.sys });
  track(t, c);
  track(t, d);
  t.equal(c.sendmsg(['again']), 5, 'sendmsg retried after EINTR');
  t.same(d.recvmsg(10, 64), [Buffer.from('again'), [], 0, null], 'recvmsg retried after EINTR');
  t.same(calls, { sendmsg: 2, recvmsg: 3 });

  // A datagram to an address; the receiver sees who sent it.
  const dir = tempDir(t);
  const rx = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  rx.bind(join(dir, 'rx.sock'));
  const tx = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  tx.bind(join(dir, 'tx.sock'));
  t.equal(tx.sendmsg(['to ', 'you'], [], 0, join(dir, 'rx.sock')), 6);
  t.same(rx.recvmsg(10), [Buffer.from('to you'), [], 0, join(dir, 'tx.sock')]);
  const e2 = t.throws(() => tx.sendmsg(['x'], [], 0, join(dir, 'nobody.sock')));
  t.match(e2, { code: 'ENOENT', syscall: 'sendmsg', path: join(dir, 'nobody.sock') });
  const full = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM | C.SOCK_NONBLOCK));
  const [p] = socketpair(C.AF_UNIX, C.SOCK_DGRAM);
  track(t, p);
  full.connect(rx.getsockname() as string);
  let sent = 0;
  while (full.sendmsg([Buffer.alloc(1024)]) !== null && sent < 100_000) sent++;
  t.ok(sent > 0 && sent < 100_000, `non-blocking sendmsg returned null once the receiver was full (${sent} sent)`);
});
