import t from 'tap';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Socket, createServer, socketpair } from '../../lib/socket/socket.js';
import * as C from '../../lib/sys/constants.js';
import { SyscallError } from '../../lib/errors.js';
import { tempDir, track } from '../fixtures/socket/helpers.js';

t.test('AF_UNIX stream over a filesystem path', async (t) => {
  const path = join(tempDir(t), 'echo.sock');
  const srv = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  t.equal(srv.getsockname(), '', 'unbound: unnamed');
  srv.bind(path);
  t.ok(existsSync(path), 'the socket file exists');
  srv.listen(1);
  t.equal(srv.getsockname(), path);
  t.equal(String(srv), `<socket fd=${srv.fileno()}, family=AF_UNIX, type=SOCK_STREAM, proto=0, laddr='${path}'>`);
  const client = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  client.connect(Buffer.from(path));
  t.equal(client.getpeername(), path);
  t.match(String(client), new RegExp(`raddr='${path.replace(/[.]/g, '\\.')}'>$`));
  const [conn, addr] = srv.accept() as [Socket, string];
  track(t, conn);
  t.equal(addr, '', 'an unnamed client: empty string, as Python');
  t.equal(conn.family, C.AF_UNIX);
  client.sendall('over unix');
  t.equal(conn.recv(100)?.toString(), 'over unix');
  t.throws(() => conn.recvfrom(100, C.MSG_DONTWAIT), { code: 'EAGAIN', syscall: 'recvfrom' },
    'MSG_DONTWAIT on a blocking socket: EAGAIN is an error (null only in non-blocking mode)');
});

t.test('AF_UNIX errors carry the path', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'missing.sock');
  const s = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  const err = t.throws(() => s.connect(missing)) as SyscallError;
  t.match(err, { code: 'ENOENT', syscall: 'connect', path: missing, message: `connect ENOENT ${missing}` });
  const taken = join(dir, 'taken.sock');
  const a = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  a.bind(taken);
  const b = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  t.throws(() => b.bind(taken), { code: 'EADDRINUSE', path: taken });
  t.throws(() => b.bind(`/${'p'.repeat(120)}`), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError', message: /AF_UNIX path too long/ });
  t.throws(() => b.connect(['/tmp/x', 0] as never), { code: 'ERR_INVALID_ARG_TYPE' });
  const c = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  c.bind(join(dir, 'refuse.sock'));
  const d = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  t.throws(() => d.connect(join(dir, 'refuse.sock')), { code: 'ECONNREFUSED', path: join(dir, 'refuse.sock') }, 'bound but not listening');
  t.equal(d.connectEx(join(dir, 'refuse.sock')), C.ECONNREFUSED);
});

t.test('AF_UNIX abstract names decode as bytes', async (t) => {
  const name = `\0node-selectors-${process.pid}-${Date.now()}`;
  const srv = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  srv.bind(name);
  srv.listen();
  const local = srv.getsockname();
  t.ok(Buffer.isBuffer(local));
  t.same(local, Buffer.from(name));
  t.match(String(srv), /laddr=b'\\x00node-selectors-/);
  const client = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  client.connect(Buffer.from(name));
  const [conn] = srv.accept() as [Socket, unknown];
  track(t, conn);
  client.sendall(Buffer.from([1, 2, 3]));
  t.same(conn.recv(10), Buffer.from([1, 2, 3]));
  const other = track(t, new Socket(C.AF_UNIX, C.SOCK_STREAM));
  t.throws(() => other.bind(name), { code: 'EADDRINUSE', path: `@${name.slice(1)}` });
  const auto = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  auto.bind('');
  const autoName = auto.getsockname() as Buffer;
  t.ok(Buffer.isBuffer(autoName), 'autobind gives an abstract name');
  t.equal(autoName[0], 0);
  t.equal(autoName.length, 6, 'NUL + 5 hex digits (unix(7))');
});

t.test('AF_UNIX datagrams: sendto, recvfrom, recvfromInto', async (t) => {
  const dir = tempDir(t);
  const pa = join(dir, 'a.sock');
  const pb = join(dir, 'b.sock');
  const a = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  const b = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  a.bind(pa);
  b.bind(pb);
  t.equal(a.sendto('one', pb), 3);
  t.equal(a.sendto(Buffer.from('two'), 0, pb), 3, 'sendto(data, flags, address)');
  t.same(b.recvfrom(100), [Buffer.from('one'), pa]);
  const buf = Buffer.alloc(10);
  t.same(b.recvfromInto(buf), [3, pa]);
  t.equal(buf.subarray(0, 3).toString(), 'two');
  const anon = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  anon.sendto('anon', pb);
  t.same(b.recvfrom(100), [Buffer.from('anon'), null], 'unnamed sender: no address (Python: None)');
  b.setblocking(false);
  t.equal(b.recvfrom(100), null);
  t.equal(b.recvfromInto(buf), null);
  t.throws(() => a.sendto('x', join(dir, 'nobody.sock')), { code: 'ENOENT', syscall: 'sendto', path: join(dir, 'nobody.sock') });
  t.throws(() => a.sendto('x', 5 as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => a.sendto('x', 1.5, pb), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => a.sendto('x', 'flags' as never, pb), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => b.recvfromInto(buf, 11), { code: 'ERR_OUT_OF_RANGE' });
});

t.test('socketpair: default stream pair, datagram pair, non-blocking pair', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  t.equal(a.family, C.AF_UNIX);
  t.equal(a.type, C.SOCK_STREAM);
  t.equal(a.gettimeout(), null);
  a.sendall('ping');
  t.equal(b.recv(10)?.toString(), 'ping');
  b.sendall(Buffer.alloc(0));
  t.equal(b.send(''), 0, 'an empty send');
  a.close();
  t.equal(b.recv(10)?.length, 0, 'peer closed: EOF');
  const e = t.throws(() => b.send('x')) as SyscallError;
  t.match(e, { code: 'EPIPE', errno: C.EPIPE, syscall: 'send' }, 'EPIPE, not SIGPIPE');
  t.throws(() => b.sendall('xyz'), { code: 'EPIPE', syscall: 'sendall', bytesSent: 0 });

  const [d1, d2] = socketpair(C.AF_UNIX, C.SOCK_DGRAM);
  track(t, d1);
  track(t, d2);
  t.equal(d1.type, C.SOCK_DGRAM);
  d1.send('dgram-1');
  d1.send('dgram-2');
  t.equal(d2.recv(100)?.toString(), 'dgram-1', 'message boundaries kept');
  t.equal(d2.recv(3)?.toString(), 'dgr', 'a datagram larger than bufsize is truncated');
  d1.send('trunc-me');
  t.equal(d2.recv(2, C.MSG_TRUNC)?.toString(), 'tr', 'MSG_TRUNC: the real length is not read past the buffer');
  d1.send('x');
  t.same(d2.recvfrom(10), [Buffer.from('x'), null], 'socketpair peer is unnamed: null (Python: None)');

  const [n1, n2] = socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK);
  track(t, n1);
  track(t, n2);
  t.equal(n1.gettimeout(), 0);
  t.equal(n1.type, C.SOCK_STREAM);
  t.equal(n1.recv(10), null);
  t.equal(n1.recvInto(Buffer.alloc(1)), null);
  let sent = 0;
  let full = false;
  for (let i = 0; i < 10000 && !full; i++) {
    const n = n1.send(Buffer.alloc(65536));
    if (n === null) full = true;
    else sent += n;
  }
  t.ok(full && sent > 0, 'send returns null once the pair is full');
  const err = t.throws(() => n1.sendall(Buffer.alloc(1000))) as SyscallError & { bytesSent: number };
  t.match(err, { code: 'EAGAIN', syscall: 'sendall' });
  t.equal(err.bytesSent, 0);
  let drained = 0;
  const buf = Buffer.alloc(65536);
  for (let i = 0; i < 100000 && drained < sent; i++) drained += n2.recvInto(buf) ?? 0;
  t.equal(drained, sent);

  const [g1, g2] = socketpair();
  track(t, g1);
  track(t, g2);
  g1.sendall(Buffer.alloc(40000, 5));
  let total = 0;
  for (let i = 0; i < 100 && total < 40000; i++) total += (g2.recv(40000) as Buffer).length;
  t.equal(total, 40000, 'recv larger than the initial scratch buffer grows it');
  t.throws(() => g2.recvInto(Buffer.alloc(4), 0, C.MSG_DONTWAIT), { code: 'EAGAIN', syscall: 'recvInto' },
    'EAGAIN in blocking mode is an error');

  t.throws(() => socketpair(C.AF_INET), { code: /^(ENOTSUP|EAFNOSUPPORT)$/, syscall: 'socketpair' });
  t.throws(() => socketpair('AF_UNIX' as never), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('createServer on an AF_UNIX path', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const srv = track(t, createServer(path, { family: C.AF_UNIX }));
  t.equal(srv.getsockname(), path);
  const c = track(t, new Socket(C.AF_UNIX));
  c.connect(path);
  const acc = srv.accept();
  t.ok(acc);
  track(t, (acc as [Socket, unknown])[0]);
});
