import t from 'tap';
import { Socket } from '../../lib/socket/socket.js';
import * as C from '../../lib/sys/constants.js';
import { ipv6Available, portOf, track } from '../fixtures/socket/helpers.js';

const families: Array<[string, number, string]> = [
  ['IPv4', C.AF_INET, '127.0.0.1'],
  ['IPv6', C.AF_INET6, '::1'],
];

for (const [name, family, host] of families) {
  const skip = family === C.AF_INET6 && !ipv6Available() ? 'cannot bind ::1 here' : false;

  t.test(`${name} UDP: sendto/recvfrom in blocking and non-blocking mode`, { skip }, async (t) => {
    const a = track(t, new Socket(family, C.SOCK_DGRAM));
    const b = track(t, new Socket(family, C.SOCK_DGRAM));
    a.bind([host, 0]);
    b.bind([host, 0]);
    t.equal(a.type, C.SOCK_DGRAM);
    const bAddr: [string, number] = [host, portOf(b)];
    const aAddr = a.getsockname();
    t.equal(a.sendto(Buffer.from('hello'), bAddr), 5, 'sendto(data, address)');
    t.equal(a.sendto('world', 0, bAddr), 5, 'sendto(data, flags, address)');
    const [d1, from1] = b.recvfrom(100) as [Buffer, unknown];
    t.equal(d1.toString(), 'hello');
    t.same(from1, aAddr, 'the sender address');
    if (family === C.AF_INET6) t.same(from1, [host, portOf(a), 0, 0]);
    const buf = Buffer.alloc(16);
    t.same(b.recvfromInto(buf, 5), [5, aAddr]);
    t.equal(buf.subarray(0, 5).toString(), 'world');

    a.sendto('peek', bAddr);
    t.same(b.recvfrom(100, C.MSG_PEEK)?.[0], Buffer.from('peek'), 'MSG_PEEK leaves it queued');
    t.equal(b.recv(100)?.toString(), 'peek', 'recv on a datagram socket');

    const big = Buffer.alloc(70000, 9);
    t.throws(() => a.sendto(big, bAddr), { code: 'EMSGSIZE', syscall: 'sendto', address: host, port: bAddr[1] }, 'too big for one datagram');
    const medium = Buffer.alloc(60000, 3);
    t.equal(a.sendto(medium, bAddr), medium.length);
    const got = b.recvfrom(100000) as [Buffer, unknown];
    t.equal(got[0].length, medium.length, 'bufsize beyond the scratch buffer');
    t.ok(got[0].equals(medium));
    a.sendto(Buffer.alloc(10, 1), bAddr);
    const small = b.recvfrom(100000) as [Buffer, unknown];
    t.equal(small[0].length, 10, 'a mostly empty big buffer is copied out');

    b.setblocking(false);
    t.equal(b.recvfrom(100), null, 'non-blocking, nothing queued: null');
    t.equal(b.recv(100), null);
    a.setblocking(false);
    t.equal(a.sendto('nb', bAddr), 2, 'non-blocking sendto');
    let got2: [Buffer, unknown] | null = null;
    for (let i = 0; i < 1000 && got2 === null; i++) got2 = b.recvfrom(100) as [Buffer, unknown] | null;
    t.equal(got2?.[0].toString(), 'nb');

    b.settimeout(0.05);
    t.throws(() => b.recvfrom(10), { code: 'ETIMEDOUT', syscall: 'recvfrom' });
    t.throws(() => b.recvfromInto(buf), { code: 'ETIMEDOUT', syscall: 'recvfromInto' });
    a.settimeout(1);
    t.equal(a.sendto('timed', bAddr), 5, 'sendto in timeout mode');
    t.equal(b.recvfrom(10)?.[0].toString(), 'timed');
  });

  t.test(`${name} UDP: connect, send, recv, ECONNREFUSED`, { skip }, async (t) => {
    const a = track(t, new Socket(family, C.SOCK_DGRAM));
    const b = track(t, new Socket(family, C.SOCK_DGRAM));
    b.bind([host, 0]);
    a.connect([host, portOf(b)]);
    t.same((a.getpeername() as unknown[]).slice(0, 2), [host, portOf(b)]);
    t.equal(a.send('connected'), 9);
    t.equal(b.recv(100)?.toString(), 'connected');
    b.close();
    a.send('nobody home');
    // ICMP port unreachable comes back on the loopback right away and is
    // reported by the next call on the connected socket.
    t.throws(() => a.recv(10), { code: 'ECONNREFUSED', syscall: 'recv' });
  });
}

t.test('UDP on the any address and <broadcast>', async (t) => {
  const s = track(t, new Socket(C.AF_INET, C.SOCK_DGRAM));
  s.bind(['', 0]);
  t.same((s.getsockname() as unknown[])[0], '0.0.0.0');
  t.throws(() => s.sendto('x', ['<broadcast>', 9]), { code: /^(EACCES|ENETUNREACH)$/ }, 'without SO_BROADCAST the kernel refuses');
  const r = track(t, new Socket(C.AF_INET, C.SOCK_DGRAM));
  r.bind(['127.0.0.1', 0]);
  t.equal(s.sendto('to-lo', ['127.0.0.1', portOf(r)]), 5);
  t.same(r.recvfrom(10)?.[0], Buffer.from('to-lo'));
});
