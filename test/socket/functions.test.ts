// The module functions of lib/socket/functions.ts, each compared with what
// python3's socket module answers for the same inputs (skipped with a
// printed reason when python3 is missing).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  close, fromfd, getfqdn, gethostbyaddr, gethostbyname, gethostname, getnameinfo, hasDualstackIpv6, htonl, htons,
  ifIndextoname, ifNameindex, ifNametoindex, inetAton, inetNtoa, inetNtop, inetPton, ntohl, ntohs,
} from '../../lib/socket/functions.js';
import { Socket, socketpair } from '../../lib/socket/socket.js';
import * as K from '../../lib/socket/constants.js';
import * as C from '../../lib/sys/constants.js';
import { SyscallError } from '../../lib/errors.js';
import { track } from '../fixtures/socket/helpers.js';

/** Run a Python expression (with `socket` imported) and parse its JSON; undefined when python3 is unusable. */
function python(expr: string): unknown {
  const r = spawnSync('python3', ['-c', `import socket, json\nprint(json.dumps(${expr}))`], { encoding: 'utf8', timeout: 20000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return JSON.parse(r.stdout);
}

const hasPython = python('1') === 1;
const noPython = hasPython ? false : 'python3 is not available: nothing to compare with';
if (!hasPython) t.comment(noPython as string);

/** Our answer in Python's JSON terms: the value, or ['error', <kind>]. */
function ours(fn: () => unknown): unknown {
  try {
    const v = fn();
    return Buffer.isBuffer(v) ? v.toString('hex') : v;
  } catch (err) {
    if (err instanceof SyscallError) return ['error', 'OSError'];
    if (err instanceof RangeError) return ['error', 'OverflowError'];
    if (err instanceof TypeError && (err as { code?: string }).code === 'ERR_INVALID_ARG_VALUE') return ['error', 'ValueError'];
    return ['error', 'TypeError'];
  }
}

// Python side: the same call, errors reduced to their base class.
const PY_TRY = `
def t(f):
    try:
        v = f()
        return v.hex() if isinstance(v, bytes) else v
    except OverflowError: return ['error', 'OverflowError']
    except OSError: return ['error', 'OSError']
    except ValueError: return ['error', 'ValueError']
    except TypeError: return ['error', 'TypeError']
`;

function pyList(calls: string[]): unknown[] | undefined {
  const r = spawnSync('python3', ['-c', `import socket, json\n${PY_TRY}\nprint(json.dumps([${calls.map((c) => `t(lambda: ${c})`).join(', ')}]))`],
    { encoding: 'utf8', timeout: 20000 });
  if (r.error !== undefined || r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

t.test('inetPton / inetNtop / inetAton / inetNtoa against Python', { skip: noPython }, async (t) => {
  const v4 = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '1.2.3', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', '', 'abc', '::1'];
  const v6 = ['::1', '::', 'fe80::1', '2001:db8::ff00:42:8329', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', '1::2::3', 'g::1', '::1%lo', '127.0.0.1'];
  const aton = ['127.0.0.1', '127.1', '0x7f.1', '2130706433', '1.2.3.4 junk', '256.0.0.1', '', 'nope', '0377.0.0.1', '1.2.3.4.5'];
  const ntop4 = ['7f000001', '00000000', 'ffffffff', '0102', '0102030405'];
  const ntop6 = ['00000000000000000000000000000001', '00000000000000000000ffff01020304', '20010db8000000000000000000000001',
    '00000000000000000000000001020304', 'fe800000000000000000000000000001', '00010000000000000000000000000000', '0000'];
  const ntoa = ['7f000001', '0a000001', '01020304', '0102', ''];
  const calls: string[] = [];
  const mine: unknown[] = [];
  for (const s of v4) { calls.push(`socket.inet_pton(socket.AF_INET, ${JSON.stringify(s)})`); mine.push(ours(() => inetPton(C.AF_INET, s))); }
  for (const s of v6) { calls.push(`socket.inet_pton(socket.AF_INET6, ${JSON.stringify(s)})`); mine.push(ours(() => inetPton(C.AF_INET6, s))); }
  for (const s of aton) { calls.push(`socket.inet_aton(${JSON.stringify(s)})`); mine.push(ours(() => inetAton(s))); }
  for (const h of ntop4) { calls.push(`socket.inet_ntop(socket.AF_INET, bytes.fromhex('${h}'))`); mine.push(ours(() => inetNtop(C.AF_INET, Buffer.from(h, 'hex')))); }
  for (const h of ntop6) { calls.push(`socket.inet_ntop(socket.AF_INET6, bytes.fromhex('${h}'))`); mine.push(ours(() => inetNtop(C.AF_INET6, Buffer.from(h, 'hex')))); }
  for (const h of ntoa) { calls.push(`socket.inet_ntoa(bytes.fromhex('${h}'))`); mine.push(ours(() => inetNtoa(Buffer.from(h, 'hex')))); }
  calls.push('socket.inet_pton(12345, "1.2.3.4")'); mine.push(ours(() => inetPton(12345, '1.2.3.4')));
  calls.push('socket.inet_ntop(12345, b"1234")'); mine.push(ours(() => inetNtop(12345, Buffer.from('1234'))));
  const py = pyList(calls)!;
  calls.forEach((c, i) => t.same(mine[i], py[i], c));
  t.throws(() => inetPton(C.AF_INET, '1.2.3.4\0'), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => inetAton(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.match(t.throws(() => inetPton(C.AF_INET, 'x')), { code: 'EINVAL', syscall: 'inetPton', strerror: 'illegal IP address string passed to inet_pton' });
});

t.test('htons / ntohs / htonl / ntohl against Python', { skip: noPython }, async (t) => {
  const values = [0, 1, 0x1234, 0xffff, 0x10000, 0x12345678, 0xffffffff, 2 ** 32, -1];
  const calls: string[] = [];
  const mine: unknown[] = [];
  for (const [name, fn] of [['htons', htons], ['ntohs', ntohs], ['htonl', htonl], ['ntohl', ntohl]] as const) {
    for (const v of values) { calls.push(`socket.${name}(${v})`); mine.push(ours(() => fn(v))); }
  }
  const py = pyList(calls)!;
  calls.forEach((c, i) => t.same(mine[i], py[i], c));
  t.throws(() => htons(1.5), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('host names against Python', { skip: noPython }, async (t) => {
  const names = ['localhost', '127.0.0.1', '', '<broadcast>', '10.1.2.3'];
  const calls: string[] = ['socket.gethostname()'];
  const mine: unknown[] = [ours(() => gethostname())];
  for (const n of names) { calls.push(`socket.gethostbyname(${JSON.stringify(n)})`); mine.push(ours(() => gethostbyname(n))); }
  calls.push('socket.gethostbyname("no-such-host.invalid")'); mine.push(ours(() => gethostbyname('no-such-host.invalid')));
  for (const n of ['127.0.0.1', 'localhost', '::1']) {
    calls.push(`list(socket.gethostbyaddr(${JSON.stringify(n)}))`); mine.push(ours(() => gethostbyaddr(n)));
  }
  for (const n of ['', 'localhost', '127.0.0.1', '0.0.0.0', '  localhost  ', 'no-such-host.invalid']) {
    calls.push(`socket.getfqdn(${JSON.stringify(n)})`); mine.push(ours(() => getfqdn(n)));
  }
  const sa: [readonly [string, number, number?, number?], number][] = [
    [['127.0.0.1', 80], 0], [['127.0.0.1', 80], C.NI_NUMERICHOST | C.NI_NUMERICSERV], [['127.0.0.1', 53], C.NI_DGRAM],
    [['::1', 443, 0, 0], 0], [['::1', 8080], C.NI_NUMERICSERV], [['127.0.0.1', 80, 0, 0], 0], [['localhost', 80], 0],
    [['127.0.0.1', 70000], 0], [['127.0.0.1', -1], 0], [['127.0.0.1', 2 ** 31], 0],
  ];
  for (const [s, f] of sa) { calls.push(`list(socket.getnameinfo(tuple(${JSON.stringify(s)}), ${f}))`); mine.push(ours(() => getnameinfo(s, f))); }
  const py = pyList(calls)!;
  calls.forEach((c, i) => t.same(mine[i], py[i], c));
  const err = t.throws(() => gethostbyname('no-such-host.invalid')) as SyscallError;
  t.match(err, { code: 'ENOTFOUND', hostname: 'no-such-host.invalid' });
});

t.test('network interfaces against Python', { skip: noPython }, async (t) => {
  const py = python('[[list(p) for p in socket.if_nameindex()], socket.if_nametoindex("lo"), socket.if_indextoname(1)]') as unknown[];
  t.same([ifNameindex(), ifNametoindex('lo'), ifIndextoname(1)], py);
  t.match(t.throws(() => ifNametoindex('no-such-if0')), { code: 'ENODEV', syscall: 'ifNametoindex' });
  t.match(t.throws(() => ifIndextoname(0x7ffffff0)), { code: 'ENXIO', syscall: 'ifIndextoname' });
  t.throws(() => ifIndextoname(-1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ifNametoindex(1 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('hasDualstackIpv6 and constants against Python', { skip: noPython }, async (t) => {
  t.equal(hasDualstackIpv6(), python('socket.has_dualstack_ipv6()'));
  const names = Object.keys(K).filter((k) => /^[A-Z0-9_]+$/.test(k));
  const py = python(`{n: getattr(socket, n, None) for n in ${JSON.stringify(names)}}`) as Record<string, number | null>;
  let compared = 0;
  for (const n of names) {
    if (py[n] === null) continue; // this Python build lacks it (e.g. IP_PKTINFO before 3.12)
    t.equal((K as Record<string, unknown>)[n], py[n], n);
    compared++;
  }
  t.ok(compared > 150, `${compared} constants compared`);
  for (const n of ['SO_BINDTODEVICE', 'SO_MARK', 'TCP_INFO', 'TCP_CONGESTION', 'IP_PKTINFO', 'IPV6_JOIN_GROUP', 'SCM_RIGHTS',
    'SCM_CREDENTIALS', 'SOL_TCP', 'SO_PEERCRED', 'MSG_CMSG_CLOEXEC', 'MSG_CTRUNC']) {
    t.type((K as Record<string, unknown>)[n], 'number', `${n} is exported`);
  }
});

t.test('fromfd dups; close(fd)', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  const c = track(t, fromfd(a.fileno(), C.AF_UNIX, C.SOCK_STREAM));
  t.not(c.fileno(), a.fileno());
  t.equal(c.getInheritable(), false);
  c.sendall('via dup');
  t.equal(b.recv(10)?.toString(), 'via dup');
  c.close();
  a.sendall('still open');
  t.equal(b.recv(20)?.toString(), 'still open');
  t.throws(() => fromfd(-1, C.AF_UNIX, C.SOCK_STREAM), { code: 'ERR_OUT_OF_RANGE' });
  const s = new Socket(C.AF_INET, C.SOCK_STREAM);
  const fd = s.detach();
  close(fd);
  t.throws(() => close(fd), { code: 'EBADF', syscall: 'close' });
  t.throws(() => fromfd(fd, C.AF_INET, C.SOCK_STREAM), { code: 'EBADF', syscall: 'fromfd' });
  t.throws(() => close('3' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('getInheritable / setInheritable', async (t) => {
  const s = track(t, new Socket(C.AF_INET, C.SOCK_STREAM));
  t.equal(s.getInheritable(), false);
  s.setInheritable(true);
  t.equal(s.getInheritable(), true);
  s.setInheritable(true);
  s.setInheritable(false);
  t.equal(s.getInheritable(), false);
  s.close();
  t.throws(() => s.getInheritable(), { code: 'EBADF' });
  t.throws(() => s.setInheritable(true), { code: 'EBADF' });
});

t.test('argument errors of the module functions', async (t) => {
  t.equal(inetNtoa(new Uint16Array([0x007f, 0x0100]) as unknown as Uint8Array), '127.0.0.1', 'any ArrayBufferView of 4 bytes');
  t.throws(() => inetNtoa('7f000001' as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => inetNtop('2' as unknown as number, Buffer.alloc(4)), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => inetPton(2.5, '1.2.3.4'), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getnameinfo(['127.0.0.1'] as unknown as [string, number], 0), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getnameinfo('127.0.0.1' as unknown as [string, number], 0), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getnameinfo(['127.0.0.1', '80' as unknown as number], 0), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getnameinfo(['127.0.0.1', 80], 'x' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getnameinfo(['::1', 80, -1, 0], 0), { code: 'ERR_OUT_OF_RANGE' });
  // Python answers the same ('::1%1', '80') and ('fe80::1%lo', '80').
  t.same(getnameinfo(['::1', 80, 5, 1], C.NI_NUMERICHOST | C.NI_NUMERICSERV), ['::1%1', '80'], 'the scope id is used');
  t.same(getnameinfo(['fe80::1', 80, 0, 1], C.NI_NUMERICHOST | C.NI_NUMERICSERV), ['fe80::1%lo', '80'], 'a link-local scope by name');
  t.match(t.throws(() => getnameinfo(['example.invalid', 80], 0)), { syscall: 'getaddrinfo' }, 'a name is not numeric');
  t.match(t.throws(() => gethostbyaddr('no-such-host.invalid')), { code: /^(ENOTFOUND|EAI_AGAIN)$/, hostname: 'no-such-host.invalid' });
  t.throws(() => getfqdn(1 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => gethostbyname(null as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  t.throws(() => fromfd(a.fileno(), 'x' as unknown as number, C.SOCK_STREAM), { code: 'ERR_INVALID_ARG_TYPE' }, 'the dup is closed again');
});
