import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Socket, createConnection, createServer } from '../../lib/socket/socket.js';
import * as C from '../../lib/sys/constants.js';
import { SocketTimeoutError, SyscallError } from '../../lib/errors.js';
import {
  ipv6Available, listener, portOf, since, tcpPair, track,
} from '../fixtures/socket/helpers.js';

const families: Array<[string, number, string, string]> = [
  ['IPv4', C.AF_INET, '127.0.0.1', '0.0.0.0'],
  ['IPv6', C.AF_INET6, '::1', '::'],
];

/** A port on `host` that was bound and released, so nothing listens there. */
function closedPort(family: number, host: string): number {
  const s = new Socket(family, C.SOCK_STREAM);
  try {
    s.bind([host, 0]);
    return portOf(s);
  } finally {
    s.close();
  }
}

for (const [name, family, host, any] of families) {
  const skip = family === C.AF_INET6 && !ipv6Available() ? 'cannot bind ::1 here' : false;

  t.test(`${name}: blocking connect, accept, send, recv`, { skip }, async (t) => {
    const srv = listener(t, family, host);
    const port = portOf(srv);
    t.same((srv.getsockname() as unknown[]).slice(0, 2), [host, port]);
    const client = track(t, new Socket(family, C.SOCK_STREAM));
    t.same((client.getsockname() as unknown[])[0], any, 'unbound: the any address');
    client.connect([host, port]);
    const accepted = srv.accept();
    t.ok(accepted);
    const [conn, addr] = accepted as [Socket, [string, number]];
    track(t, conn);
    t.equal(conn.family, family);
    t.equal(conn.type, C.SOCK_STREAM);
    t.equal(conn.gettimeout(), null, 'accepted sockets start blocking');
    t.equal(conn.getblocking(), true);
    t.same(addr, client.getsockname(), 'accept() gives the peer address');
    t.same(conn.getpeername(), client.getsockname());
    t.same(client.getpeername(), conn.getsockname());
    if (family === C.AF_INET6) t.equal((addr as unknown[]).length, 4, 'IPv6 addresses have flowinfo and scope id');

    t.equal(client.send(Buffer.from('hello')), 5);
    t.equal(conn.recv(1024)?.toString(), 'hello');
    t.equal(client.send('héllo'), 6, 'strings go out as UTF-8');
    t.equal(conn.recv(6)?.toString(), 'héllo');
    client.sendall(new Uint16Array([0x6968]));
    const into = Buffer.alloc(10);
    t.equal(conn.recvInto(into), 2);
    t.equal(into.subarray(0, 2).toString(), 'hi', 'any ArrayBufferView can be sent');
    client.sendall(Buffer.from('abcdef'));
    t.equal(conn.recvInto(into, 3), 3, 'nbytes limits the read');
    t.equal(into.subarray(0, 3).toString(), 'abc');
    const view = new DataView(new ArrayBuffer(8));
    t.equal(conn.recvInto(view), 3, 'recvInto takes any ArrayBufferView');
    t.equal(Buffer.from(view.buffer, 0, 3).toString(), 'def');
    client.sendall('peek');
    t.equal(conn.recv(4, C.MSG_PEEK)?.toString(), 'peek', 'flags pass through');
    const rf = conn.recvfrom(100);
    t.same(rf, [Buffer.from('peek'), null], 'recvfrom on a connected stream: no address (None)');
    client.sendall('xyz');
    const rfi = conn.recvfromInto(into);
    t.same(rfi, [3, null]);
    t.equal(conn.recv(0)?.length, 0, 'recv(0) returns empty');

    const big = Buffer.alloc(48 * 1024, 7);
    client.sendall(big);
    let got = 0;
    for (let i = 0; i < 1000 && got < big.length; i++) got += (conn.recv(100 * 1024) as Buffer).length;
    t.equal(got, big.length, 'recv with bufsize beyond the scratch buffer');

    client.shutdown(C.SHUT_WR);
    const eof = conn.recv(1024);
    t.ok(Buffer.isBuffer(eof));
    t.equal(eof?.length, 0, 'EOF is an empty Buffer');
    t.equal(conn.recvInto(into), 0);
  });

  t.test(`${name}: ECONNREFUSED carries the address`, { skip }, async (t) => {
    const port = closedPort(family, host);
    const s = track(t, new Socket(family, C.SOCK_STREAM));
    const err = t.throws(() => s.connect([host, port])) as SyscallError;
    t.ok(err instanceof SyscallError);
    t.match(err, { code: 'ECONNREFUSED', errno: C.ECONNREFUSED, syscall: 'connect', address: host, port });
    t.equal(err.message, `connect ECONNREFUSED ${host}:${port}`);
    const s2 = track(t, new Socket(family, C.SOCK_STREAM));
    t.equal(s2.connectEx([host, port]), C.ECONNREFUSED);
    const s3 = track(t, new Socket(family, C.SOCK_STREAM));
    s3.settimeout(5);
    t.throws(() => s3.connect([host, port]), { code: 'ECONNREFUSED', address: host, port }, 'timeout mode: refused via SO_ERROR');
    const s4 = track(t, new Socket(family, C.SOCK_STREAM));
    s4.settimeout(5);
    t.equal(s4.connectEx([host, port]), C.ECONNREFUSED);
  });

  t.test(`${name}: EADDRINUSE`, { skip }, async (t) => {
    const srv = listener(t, family, host);
    const s = track(t, new Socket(family, C.SOCK_STREAM));
    const port = portOf(srv);
    const err = t.throws(() => s.bind([host, port])) as SyscallError;
    t.match(err, { code: 'EADDRINUSE', syscall: 'bind', address: host, port, message: `bind EADDRINUSE ${host}:${port}` });
  });

  t.test(`${name}: non-blocking connect, accept, recv, send`, { skip }, async (t) => {
    // Small buffers, set before the connection exists (shrinking them on a
    // live connection makes the kernel prune queued data and retransmit).
    const srv = track(t, new Socket(family, C.SOCK_STREAM));
    srv.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 4096);
    srv.bind([host, 0]);
    srv.listen();
    srv.setblocking(false);
    t.equal(srv.accept(), null, 'nothing pending: null');
    const client = track(t, new Socket(family, C.SOCK_STREAM | C.SOCK_NONBLOCK));
    client.setsockopt(C.SOL_SOCKET, C.SO_SNDBUF, 4096);
    const err = t.throws(() => client.connect([host, portOf(srv)])) as SyscallError;
    t.match(err, { code: 'EINPROGRESS', errno: C.EINPROGRESS, syscall: 'connect', address: host });
    let accepted: [Socket, unknown] | null = null;
    const start = performance.now();
    for (let i = 0; i < 10000 && accepted === null && since(start) < 5000; i++) {
      accepted = srv.accept();
      if (accepted === null) await sleep(1);
    }
    t.ok(accepted, 'accepted within the bound');
    const conn = track(t, (accepted as [Socket, unknown])[0]);
    t.equal(conn.gettimeout(), null, 'accept() result is blocking even from a non-blocking listener');
    conn.setblocking(false);
    t.equal(client.getsockopt(C.SOL_SOCKET, C.SO_ERROR), 0, 'connected: SO_ERROR 0');
    const again = client.connectEx(conn.getsockname() as [string, number]);
    t.ok(again === 0 || again === 106, 'connectEx completes the connect (0), then EISCONN');
    t.equal(client.connectEx(conn.getsockname() as [string, number]), 106, 'EISCONN');
    t.equal(conn.recv(10), null, 'nothing to read: null');
    t.equal(conn.recvInto(Buffer.alloc(4)), null);
    t.equal(conn.recvfrom(10), null);
    t.equal(conn.recvfromInto(Buffer.alloc(4)), null);
    t.equal(client.send('ping'), 4);
    let got: Buffer | null = null;
    for (let i = 0; i < 1000 && got === null; i++) {
      got = conn.recv(10);
      if (got === null) await sleep(1);
    }
    t.equal(got?.toString(), 'ping');

    // Fill the pipe: send returns null once both buffers are full.
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    let full = false;
    for (let i = 0; i < 10000 && !full; i++) {
      const n = client.send(chunk);
      if (n === null) full = true;
      else sent += n;
    }
    t.ok(full, 'send returned null when the buffers filled');
    const e = t.throws(() => client.sendall(chunk)) as SyscallError & { bytesSent: number };
    t.match(e, { code: 'EAGAIN', syscall: 'sendall' });
    t.type(e.bytesSent, 'number', 'sendall says how much went out');
    sent += e.bytesSent;
    let drained = 0;
    const buf = Buffer.alloc(64 * 1024);
    const drainStart = performance.now();
    for (let i = 0; i < 100000 && drained < sent && since(drainStart) < 10000; i++) {
      const n = conn.recvInto(buf);
      if (n === null) await sleep(1);
      else drained += n;
    }
    t.equal(drained, sent, 'every byte counted as sent arrived');
  });

  t.test(`${name}: timeout mode`, { skip }, async (t) => {
    const [client, conn] = tcpPair(t, family, host);
    conn.settimeout(0.2);
    const start = performance.now();
    const err = t.throws(() => conn.recv(10)) as SocketTimeoutError;
    const waited = since(start);
    t.ok(err instanceof SocketTimeoutError);
    t.ok(err instanceof SyscallError, 'a timeout is a SyscallError, as TimeoutError is an OSError');
    t.match(err, {
      code: 'ETIMEDOUT', errno: 110, syscall: 'recv', name: 'TimeoutError', message: 'recv timed out', strerror: 'timed out',
    });
    t.ok(waited >= 150, `waited ${waited.toFixed(0)} ms >= 150`);
    t.ok(waited < 5000, 'but not forever');
    t.throws(() => conn.recvInto(Buffer.alloc(1)), { code: 'ETIMEDOUT', syscall: 'recvInto' });
    t.throws(() => conn.recvfrom(1), { code: 'ETIMEDOUT', syscall: 'recvfrom' });
    client.sendall('data');
    t.equal(conn.recv(10)?.toString(), 'data', 'data ready: no timeout');
    client.settimeout(2);
    t.equal(client.send('x'), 1, 'send in timeout mode');
    client.sendall(Buffer.alloc(1000, 2));
    let got = 0;
    for (let i = 0; i < 100 && got < 1001; i++) got += (conn.recv(4096) as Buffer).length;
    t.equal(got, 1001);

    const srv = listener(t, family, host);
    srv.settimeout(0.05);
    t.throws(() => srv.accept(), { code: 'ETIMEDOUT', syscall: 'accept' });
    const c2 = track(t, new Socket(family, C.SOCK_STREAM));
    c2.settimeout(2);
    c2.connect([host, portOf(srv)]);
    const acc = srv.accept();
    t.ok(acc, 'timeout-mode connect and accept');
    track(t, (acc as [Socket, unknown])[0]);

    // Fill the buffers so that send/sendall in timeout mode time out.
    const [a] = tcpPair(t, family, host);
    a.settimeout(0.05);
    const chunk = Buffer.alloc(64 * 1024);
    let timedOut: unknown = null;
    for (let i = 0; i < 10000 && timedOut === null; i++) {
      try {
        a.send(chunk);
      } catch (e) {
        timedOut = e;
      }
    }
    t.match(timedOut, { code: 'ETIMEDOUT', syscall: 'send' });
    t.throws(() => a.sendall(chunk), { code: 'ETIMEDOUT', syscall: 'sendall', bytesSent: Number },
      'a sendall timeout is a SyscallError too, so it carries bytesSent');
  });

  t.test(`${name}: EPIPE after the peer closed, and the process survives`, { skip }, async (t) => {
    const [client, conn] = tcpPair(t, family, host);
    conn.close();
    let err: SyscallError | null = null;
    for (let i = 0; i < 100 && err === null; i++) {
      try {
        client.send('are you there?');
        await sleep(5);
      } catch (e) {
        err = e as SyscallError;
      }
    }
    t.ok(err, 'send eventually fails');
    t.ok(err?.code === 'EPIPE' || err?.code === 'ECONNRESET', `code ${err?.code}`);
    t.throws(() => client.sendall('more'), { code: /^(EPIPE|ECONNRESET)$/, bytesSent: 0 });
    t.pass('still alive: MSG_NOSIGNAL');
  });

  t.test(`${name}: createConnection and createServer`, { skip }, async (t) => {
    const srv = track(t, createServer([host, 0], { family, backlog: 5 }));
    t.equal(srv.getsockopt(C.SOL_SOCKET, C.SO_REUSEADDR), 1, 'SO_REUSEADDR set');
    t.equal(srv.getsockopt(C.SOL_SOCKET, C.SO_ACCEPTCONN), 1, 'listening');
    if (family === C.AF_INET6) t.equal(srv.getsockopt(C.IPPROTO_IPV6, C.IPV6_V6ONLY), 1, 'V6ONLY unless dual-stack');
    const port = portOf(srv);
    const c = track(t, createConnection([host, port]));
    t.equal(c.family, family);
    t.equal(c.gettimeout(), null);
    const c2 = track(t, createConnection([host, String(port)], 3, [host, 0]));
    t.equal(c2.gettimeout(), 3, 'timeout set');
    t.equal((c2.getsockname() as unknown[])[0], host, 'bound to the source address');
    const c3 = track(t, createConnection([host, port], null));
    t.equal(c3.gettimeout(), null);
    for (let i = 0; i < 3; i++) {
      const acc = srv.accept();
      t.ok(acc);
      track(t, (acc as [Socket, unknown])[0]);
    }
    const refused = closedPort(family, host);
    t.throws(() => createConnection([host, refused]), { code: 'ECONNREFUSED', port: refused });
    t.throws(() => createConnection([host, port], undefined, ['1.2.3.4.invalid', 0]), { code: 'ENOTFOUND' }, 'source address that does not resolve');
    t.throws(() => createConnection([host, port], undefined, ['x', 0, 0, 0, 0] as never), { code: 'ERR_INVALID_ARG_TYPE' }, 'a TypeError is not swallowed');
    t.throws(() => createConnection([host, port], -1), { code: 'ERR_OUT_OF_RANGE' });
    t.throws(() => createServer([host, port], { family }), { code: 'EADDRINUSE', port }, 'bind failure closes the socket and throws');

    const rp1 = track(t, createServer([host, 0], { family, reuseport: true }));
    const rp2 = track(t, createServer([host, portOf(rp1)], { family, reuseport: true }));
    t.equal(portOf(rp2), portOf(rp1), 'SO_REUSEPORT: two listeners on one port');
    t.equal(rp2.getsockopt(C.SOL_SOCKET, C.SO_REUSEPORT), 1);
  });
}

t.test('createConnection resolves host names and reports ENOTFOUND', async (t) => {
  const srv = listener(t, C.AF_INET, '127.0.0.1');
  const c = track(t, createConnection(['localhost', portOf(srv)], 2));
  t.equal((c.getpeername() as unknown[])[1], portOf(srv));
  const acc = srv.accept();
  track(t, (acc as [Socket, unknown])[0]);
  const err = t.throws(() => createConnection(['no-such-host.invalid', 80])) as SyscallError;
  t.match(err, { code: 'ENOTFOUND', hostname: 'no-such-host.invalid', message: 'getaddrinfo ENOTFOUND no-such-host.invalid' });
  t.throws(() => createConnection('localhost:80' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => createConnection(['localhost'] as never), { code: 'ERR_INVALID_ARG_TYPE' });
  const s = track(t, new Socket());
  t.throws(() => s.connect(['no-such-host.invalid', 80]), { code: 'ENOTFOUND' });
  t.equal(s.closed, false, 'nothing touched');
  t.throws(() => s.connectEx(['no-such-host.invalid', 80]), { code: 'ENOTFOUND' }, 'connectEx still throws resolution errors');
});

t.test('createServer dual-stack IPv6 accepts IPv4 clients', { skip: ipv6Available() ? false : 'no IPv6' }, async (t) => {
  t.throws(() => createServer(['', 0], { dualstackIpv6: true }), { code: 'ERR_INVALID_ARG_VALUE' });
  const srv = track(t, createServer(['', 0], { family: C.AF_INET6, dualstackIpv6: true }));
  t.equal(srv.getsockopt(C.IPPROTO_IPV6, C.IPV6_V6ONLY), 0);
  const c = track(t, createConnection(['127.0.0.1', portOf(srv)]));
  const [conn, addr] = srv.accept() as [Socket, [string, number, number, number]];
  track(t, conn);
  t.equal(addr[0], '::ffff:127.0.0.1', 'IPv4-mapped peer, printed as inet_ntop does');
  t.equal(addr[1], (c.getsockname() as [string, number])[1]);
});

t.test('bad arguments to TCP methods', async (t) => {
  const s = track(t, new Socket());
  t.throws(() => s.recv(-1), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
  t.throws(() => s.recv(1.5), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.recv('10' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.recv(10, 1.5), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.recv(10, '0' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.recvfrom(-1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.recvInto(Buffer.alloc(4), -1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.recvInto(Buffer.alloc(4), 5), { code: 'ERR_OUT_OF_RANGE', message: /buffer too small/ });
  t.throws(() => s.recvInto('abc' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.recvfromInto([] as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.send(123 as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.sendall({} as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.sendto(null as never, ['127.0.0.1', 1]), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.bind(['127.0.0.1', 65536]), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
  t.throws(() => s.bind(['127.0.0.1', '80'] as never), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
  t.throws(() => s.connect('127.0.0.1:80' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.connect(['127.0.0.1', -5]), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => s.listen('5' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.shutdown('both' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => s.recv(10), { code: 'ENOTCONN', syscall: 'recv' });
  t.throws(() => s.recvInto(Buffer.alloc(1)), { code: 'ENOTCONN', syscall: 'recvInto' });
  t.throws(() => s.recvfrom(10), { code: 'ENOTCONN', syscall: 'recvfrom' });
  // Linux records the shutdown even when it fails with ENOTCONN: after it, recv reads EOF.
  t.throws(() => s.shutdown(C.SHUT_RDWR), { code: 'ENOTCONN', syscall: 'shutdown' });
  t.throws(() => s.getpeername(), { code: 'ENOTCONN', syscall: 'getpeername' });
  t.throws(() => s.accept(), { code: 'EINVAL', syscall: 'accept' }, 'accept before listen');
  t.throws(() => s.send('x'), { code: 'EPIPE', syscall: 'send' }, 'send on an unconnected stream: EPIPE, no signal');
  t.equal(s.closed, false);
  s.listen(-3);
  t.equal(s.getsockopt(C.SOL_SOCKET, C.SO_ACCEPTCONN), 1, 'negative backlog counts as 0');
  const d = track(t, new Socket(C.AF_INET, C.SOCK_DGRAM));
  t.throws(() => d.listen(), { code: 'ENOTSUP', errno: 95, syscall: 'listen' }, 'EOPNOTSUPP, named ENOTSUP as Node and Python name 95');
});
