// AF_UNIX datagram and SOCK_SEQPACKET sockets: message boundaries,
// systemd-notify style datagrams to a bound path and to an abstract name.
import t from 'tap';
import { join } from 'node:path';
import { Socket, socketpair } from '../../lib/socket/socket.js';
import { CMSG_SPACE } from '../../lib/socket/msg.js';
import * as C from '../../lib/sys/constants.js';
import { tempDir, track } from '../fixtures/socket/helpers.js';

/** A unique abstract name (leading NUL byte: no file, gone when the socket closes). */
function abstractName(tag: string): Buffer {
  return Buffer.from(`\0node-selectors-test-${tag}-${process.pid}-${Math.random().toString(36).slice(2)}`);
}

t.test('systemd-notify style: a DGRAM socket sends READY=1 to a bound path', async (t) => {
  const path = join(tempDir(t), 'notify.sock');
  const manager = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  manager.bind(path);
  manager.settimeout(5);
  // The service side: an unbound datagram socket, one sendto per state change.
  const service = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  t.equal(service.sendto('READY=1', path), 7);
  t.equal(service.sendto(Buffer.from('STATUS=serving\nMAINPID=42'), path), 25);
  t.same(manager.recvfrom(4096), [Buffer.from('READY=1'), null], 'an unbound sender has no address (Python: None)');
  const [second] = manager.recvfrom(4096)!;
  t.equal(second.toString(), 'STATUS=serving\nMAINPID=42', 'one datagram, one message');
  // With credentials, as systemd asks for them (SO_PASSCRED → SCM_CREDENTIALS).
  manager.setsockopt(C.SOL_SOCKET, C.SO_PASSCRED, 1);
  service.sendto('WATCHDOG=1', path);
  const [data, anc, flags] = manager.recvmsg(4096, CMSG_SPACE(12))!;
  t.equal(data.toString(), 'WATCHDOG=1');
  t.equal(flags, 0);
  t.equal(anc.length, 1);
  t.same(anc[0].slice(0, 2), [C.SOL_SOCKET, C.SCM_CREDENTIALS]);
  t.same([anc[0][2].readInt32LE(0), anc[0][2].readUInt32LE(4), anc[0][2].readUInt32LE(8)],
    [process.pid, process.getuid!(), process.getgid!()], 'struct ucred of the sender');
});

t.test('systemd-notify style: to an abstract name ("@name" in NOTIFY_SOCKET)', async (t) => {
  const name = abstractName('notify');
  const manager = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  manager.bind(name);
  manager.settimeout(5);
  t.same(manager.getsockname(), name, 'the abstract name comes back as bytes, leading NUL kept');
  const notifySocket = `@${name.toString('utf8', 1)}`;
  // What sd_notify does with NOTIFY_SOCKET: '@' stands for the leading NUL.
  const target = notifySocket.startsWith('@') ? Buffer.concat([Buffer.from([0]), Buffer.from(notifySocket.slice(1))]) : notifySocket;
  const service = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  service.bind(abstractName('service'));
  t.equal(service.sendto('READY=1', target), 7);
  const [data, from] = manager.recvfrom(100)!;
  t.equal(data.toString(), 'READY=1');
  t.same(from, service.getsockname(), 'a bound sender: its abstract name');
  // Replies go back the same way; a connected datagram socket uses send/recv.
  t.equal(manager.sendto('ack', from as Buffer), 3);
  service.settimeout(5);
  t.equal(service.recv(10)?.toString(), 'ack');
  const connected = track(t, new Socket(C.AF_UNIX, C.SOCK_DGRAM));
  connected.connect(name);
  t.same(connected.getpeername(), name);
  connected.send('STOPPING=1');
  t.equal(manager.recv(100)?.toString(), 'STOPPING=1');
  t.throws(() => service.sendto('x', abstractName('nobody')), { code: 'ECONNREFUSED', syscall: 'sendto' },
    'no socket bound to that name');
});

t.test('datagram boundaries: a short read truncates, it never merges', async (t) => {
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_DGRAM);
  track(t, a);
  track(t, b);
  a.send('first');
  a.send('second message');
  a.send('');
  t.equal(b.recv(3)?.toString(), 'fir', 'the rest of the datagram is dropped');
  const [data, , flags] = b.recvmsg(6)!;
  t.equal(data.toString(), 'second');
  t.equal(flags & C.MSG_TRUNC, C.MSG_TRUNC, 'recvmsg reports MSG_TRUNC');
  t.equal(b.recv(10)?.length, 0, 'an empty datagram is a message too');
  b.setblocking(false);
  t.equal(b.recv(10), null);
});

t.test('SOCK_SEQPACKET: records over a connection, abstract and path addresses', async (t) => {
  for (const [label, addr] of [['abstract', abstractName('seq')], ['path', join(tempDir(t), 'seq.sock')]] as const) {
    const srv = track(t, new Socket(C.AF_UNIX, C.SOCK_SEQPACKET));
    srv.bind(addr);
    srv.listen();
    t.equal(srv.type, C.SOCK_SEQPACKET);
    t.match(String(srv), /type=SOCK_SEQPACKET/);
    const client = track(t, new Socket(C.AF_UNIX, C.SOCK_SEQPACKET));
    client.settimeout(5);
    client.connect(addr);
    const [conn] = srv.accept()!;
    track(t, conn);
    conn.settimeout(5);
    t.equal(conn.type, C.SOCK_SEQPACKET);
    client.sendall('one');
    client.sendall('two two');
    client.sendmsg(['th', 'ree']);
    t.equal(conn.recv(100)?.toString(), 'one', `${label}: one record per recv`);
    t.equal(conn.recv(3)?.toString(), 'two', `${label}: a short read drops the rest of the record`);
    const [rec, , flags] = conn.recvmsg(100)!;
    t.equal(rec.toString(), 'three', 'a gathered sendmsg is one record');
    t.equal(flags & C.MSG_TRUNC, 0, 'whole');
    conn.sendall('reply');
    t.equal(client.recv(100)?.toString(), 'reply');
    client.close();
    t.equal(conn.recv(100)?.length, 0, `${label}: end of stream after the peer closed`);
  }
  const [a, b] = socketpair(C.AF_UNIX, C.SOCK_SEQPACKET);
  track(t, a);
  track(t, b);
  a.send('x'.repeat(100));
  const [data, , flags] = b.recvmsg(10)!;
  t.equal(data.length, 10);
  t.equal(flags & C.MSG_TRUNC, C.MSG_TRUNC, 'a truncated record sets MSG_TRUNC');
});
