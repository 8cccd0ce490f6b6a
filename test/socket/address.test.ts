import t from 'tap';
import {
  decodeAddress, encodeAddress, formatAddress, getaddrinfo, getaddrinfoWith, ipv6Text, sockaddrTarget,
} from '../../lib/socket/address.js';
import { libc } from '../../lib/sys/libc.js';
import * as C from '../../lib/sys/constants.js';
import { SyscallError } from '../../lib/errors.js';
import { scriptedLibc } from '../fixtures/socket/helpers.js';

const sys = libc();
const out = Buffer.alloc(128);

function roundtrip(family: number, address: unknown): unknown {
  const len = encodeAddress(family, address, out, sys);
  return decodeAddress(out, len);
}

t.test('AF_INET addresses encode as sockaddr_in and decode back', async (t) => {
  t.equal(encodeAddress(C.AF_INET, ['127.0.0.1', 8080], out, sys), 16);
  t.equal(out.subarray(0, 16).toString('hex'), '02001f907f0000010000000000000000', 'family LE, port and address BE, zero padding');
  t.same(roundtrip(C.AF_INET, ['10.1.2.3', 0]), ['10.1.2.3', 0]);
  t.same(roundtrip(C.AF_INET, ['', 80]), ['0.0.0.0', 80], "'' is INADDR_ANY");
  t.same(roundtrip(C.AF_INET, ['<broadcast>', 9]), ['255.255.255.255', 9]);
  t.same(roundtrip(C.AF_INET, ['255.255.255.255', 65535]), ['255.255.255.255', 65535]);
  t.same(roundtrip(C.AF_INET, ['localhost', 1]), ['127.0.0.1', 1], 'a host name resolves through getaddrinfo');
  t.same(roundtrip(C.AF_INET, ['127.1', 2]), ['127.0.0.1', 2], 'inet_aton short forms go through getaddrinfo');
  t.same(sockaddrTarget(out, encodeAddress(C.AF_INET, ['127.0.0.1', 9], out, sys)), { address: '127.0.0.1', port: 9 });
});

t.test('AF_INET6 addresses: literal via inet_pton, flowinfo, scope id', async (t) => {
  t.equal(encodeAddress(C.AF_INET6, ['::1', 8080, 5, 7], out, sys), 28);
  t.equal(out.subarray(0, 28).toString('hex'),
    '0a001f9000000005' + '00000000000000000000000000000001' + '07000000',
    'flowinfo in network order, scope id in host order');
  t.same(roundtrip(C.AF_INET6, ['::1', 8080]), ['::1', 8080, 0, 0]);
  t.same(roundtrip(C.AF_INET6, ['::1', 8081]), ['::1', 8081, 0, 0], 'same literal again (cached parse)');
  t.same(roundtrip(C.AF_INET6, ['', 1]), ['::', 1, 0, 0], "'' is in6addr_any");
  t.same(roundtrip(C.AF_INET6, ['2001:DB8:0:0:1:0:0:1', 2, 0xfffff, 4294967295]), ['2001:db8::1:0:0:1', 2, 0xfffff, 4294967295]);
  const scoped = roundtrip(C.AF_INET6, ['fe80::1%lo', 3]) as [string, number, number, number];
  t.same(scoped.slice(0, 3), ['fe80::1', 3, 0], 'a scoped literal resolves through getaddrinfo');
  t.ok(scoped[3] > 0, 'and brings the interface index as scope id');
  t.same(roundtrip(C.AF_INET6, ['fe80::1%lo', 3, 0, 0]), ['fe80::1', 3, 0, 0], 'an explicit scope id wins, as in Python');
  t.same(sockaddrTarget(out, encodeAddress(C.AF_INET6, ['::1', 9], out, sys)), { address: '::1', port: 9 });
});

t.test('AF_UNIX paths: filesystem, abstract, unnamed', async (t) => {
  t.equal(encodeAddress(C.AF_UNIX, '/tmp/a.sock', out, sys), 2 + 11 + 1, 'path plus its NUL');
  t.equal(decodeAddress(out, 14), '/tmp/a.sock');
  t.equal(decodeAddress(out, 110), '/tmp/a.sock', 'stops at the NUL');
  t.equal(roundtrip(C.AF_UNIX, Buffer.from('/tmp/b.sock')), '/tmp/b.sock', 'bytes path decodes as str, as in Python');
  t.equal(roundtrip(C.AF_UNIX, 'caf\u00e9'), 'caf\u00e9', 'UTF-8');
  t.equal(encodeAddress(C.AF_UNIX, '\0abstract', out, sys), 2 + 9, 'abstract: exact length, no NUL added');
  const abs = decodeAddress(out, 11);
  t.ok(Buffer.isBuffer(abs), 'abstract names decode as bytes, as in Python');
  t.same(abs, Buffer.from('\0abstract'));
  t.equal(encodeAddress(C.AF_UNIX, '', out, sys), 2, "'' is autobind");
  t.equal(decodeAddress(out, 2), '', 'unnamed');
  t.equal(encodeAddress(C.AF_UNIX, 'x'.repeat(107), out, sys), 110, 'longest filesystem path fits');
  t.equal(encodeAddress(C.AF_UNIX, Buffer.concat([Buffer.alloc(1), Buffer.alloc(107, 0x61)]), out, sys), 110, 'longest abstract name fits');
  t.same(sockaddrTarget(out, encodeAddress(C.AF_UNIX, '/x/y', out, sys)), { path: '/x/y' });
  t.same(sockaddrTarget(out, encodeAddress(C.AF_UNIX, '\0name', out, sys)), { path: '@name' });
});

t.test('bad addresses throw before anything is touched', async (t) => {
  const type = { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' };
  const range = { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' };
  t.throws(() => encodeAddress(C.AF_INET, '127.0.0.1', out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET, ['127.0.0.1'], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET, ['127.0.0.1', 1, 2], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET, [127, 1], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET, ['127.0.0.1', '80'], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET, ['127.0.0.1', -1], out, sys), range);
  t.throws(() => encodeAddress(C.AF_INET, ['127.0.0.1', 65536], out, sys), { ...range, message: /port must be 0-65535/ });
  t.throws(() => encodeAddress(C.AF_INET, ['127.0.0.1', 1.5], out, sys), range);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1'], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1', 1, 0, 0, 0], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET6, { host: '::1' }, out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1', 70000], out, sys), range);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1', 1, '0'], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1', 1, 0x100000], out, sys), range);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1', 1, 0, 'lo'], out, sys), type);
  t.throws(() => encodeAddress(C.AF_INET6, ['::1', 1, 0, -1], out, sys), range);
  t.throws(() => encodeAddress(C.AF_INET6, ['<broadcast>', 1], out, sys), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => encodeAddress(C.AF_UNIX, ['/tmp/x', 1], out, sys), type);
  t.throws(() => encodeAddress(C.AF_UNIX, 5, out, sys), type);
  t.throws(() => encodeAddress(C.AF_UNIX, 'x'.repeat(108), out, sys), { ...range, message: /AF_UNIX path too long: 108 bytes, at most 107/ });
  t.throws(() => encodeAddress(C.AF_UNIX, `/${'y'.repeat(200)}`, out, sys), { ...range, message: /\.\.\./ });
  t.throws(() => encodeAddress(C.AF_UNIX, Buffer.alloc(109), out, sys), { ...range, message: /109 bytes, at most 108.*a buffer/ });
  t.throws(() => encodeAddress(17, ['x', 1], out, sys), { code: 'ERR_INVALID_ARG_VALUE' });
  const err = t.throws(() => encodeAddress(C.AF_INET, ['no-such-host.invalid', 80], out, sys)) as SyscallError;
  t.equal(err.code, 'ENOTFOUND');
  t.equal(err.hostname, 'no-such-host.invalid');
  t.equal(err.message, 'getaddrinfo ENOTFOUND no-such-host.invalid');
  t.throws(() => encodeAddress(C.AF_INET6, ['no-such-host.invalid', 80], out, sys), { code: 'ENOTFOUND' });
  t.throws(() => encodeAddress(C.AF_INET, ['999.1.1.1.invalid', 80], out, sys), { code: 'ENOTFOUND' }, 'bad literal text that is no name');
});

t.test('IPv6 text matches glibc inet_ntop', async (t) => {
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::1', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['0:0:1:0:0:0:0:1', '0:0:1::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
    ['ABCD:EF01::', 'abcd:ef01::'],
    ['0:0:0:0:0:0:0:2', '::2'],
  ];
  const b = Buffer.alloc(16);
  for (const [input, want] of cases) {
    t.equal(sys.inet_pton(C.AF_INET6, input, b), 1, `inet_pton ${input}`);
    t.equal(ipv6Text(b), want, input);
  }
  t.equal(ipv6Text(Buffer.concat([Buffer.alloc(3), b]), 3), '::2', 'at an offset');
});

t.test('decodeAddress of short, empty and unknown sockaddrs', async (t) => {
  t.equal(decodeAddress(Buffer.alloc(0), 0), null);
  t.equal(decodeAddress(Buffer.alloc(16), 1), null);
  const raw = Buffer.from([17, 0, 1, 2, 3]);
  t.same(decodeAddress(raw, 5), [17, Buffer.from([1, 2, 3])], 'unknown family: [family, bytes]');
  t.same(decodeAddress(raw, 99), [17, Buffer.from([1, 2, 3])], 'length clamped to the buffer');
  t.equal(sockaddrTarget(raw, 5), undefined);
  t.equal(sockaddrTarget(raw, 0), undefined);
});

t.test('getaddrinfo returns Python-shaped tuples', async (t) => {
  t.same(getaddrinfo('127.0.0.1', 80, C.AF_INET, C.SOCK_STREAM), [[C.AF_INET, C.SOCK_STREAM, C.IPPROTO_TCP, '', ['127.0.0.1', 80]]]);
  t.same(getaddrinfo('::1', '80', C.AF_INET6, C.SOCK_DGRAM), [[C.AF_INET6, C.SOCK_DGRAM, C.IPPROTO_UDP, '', ['::1', 80, 0, 0]]], 'port as a string');
  t.same(getaddrinfo(null, 8080, C.AF_INET, C.SOCK_STREAM, 0, C.AI_PASSIVE)[0][4], ['0.0.0.0', 8080], 'null host, AI_PASSIVE');
  t.throws(() => getaddrinfo(undefined, null), { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND' }, 'no host and no port');
  const canon = getaddrinfo('localhost', 1, C.AF_INET, C.SOCK_STREAM, 0, C.AI_CANONNAME);
  t.equal(canon[0][3], 'localhost', 'canonname with AI_CANONNAME');
  t.ok(getaddrinfo('localhost', 1).length >= 1, 'all families and types');
  const nf = t.throws(() => getaddrinfo('no-such-host.invalid', 80)) as SyscallError;
  t.match(nf, { code: 'ENOTFOUND', errno: C.EAI_NONAME, syscall: 'getaddrinfo', hostname: 'no-such-host.invalid', message: 'getaddrinfo ENOTFOUND no-such-host.invalid' });
  t.ok(nf.strerror.length > 0, 'gai_strerror text');
  t.throws(() => getaddrinfo('localhost', 1, C.AF_INET, 0, 0, C.AI_NUMERICHOST), { code: 'ENOTFOUND' });
  t.throws(() => getaddrinfo('127.0.0.1', 'no-such-service-x', C.AF_INET, C.SOCK_STREAM), { code: 'EAI_SERVICE', syscall: 'getaddrinfo' });
  t.throws(() => getaddrinfo(null, 'no-such-service-x', C.AF_INET, C.SOCK_STREAM), { code: 'EAI_SERVICE', message: 'getaddrinfo EAI_SERVICE' });
  t.throws(() => getaddrinfo('127.0.0.1', 80, 12345), { code: 'EAI_FAMILY' });
  t.throws(() => getaddrinfo(5 as unknown as string, 80), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getaddrinfo('x', 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getaddrinfo('x', {} as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getaddrinfo('x', 1, 'AF_INET' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => getaddrinfo('x', 1, 0, 2 ** 40), { code: 'ERR_OUT_OF_RANGE' });
});

t.test('getaddrinfo failures from a scripted libc', async (t) => {
  const sysErr = scriptedLibc((s) => ({
    getaddrinfo: () => { s.fail(C.ENOMEM); return C.EAI_SYSTEM; },
  }));
  t.throws(() => getaddrinfoWith(sysErr.sys, 'h', 1), { code: 'ENOMEM', syscall: 'getaddrinfo', hostname: 'h' }, 'EAI_SYSTEM reports errno');
  const odd = scriptedLibc(() => ({ getaddrinfo: () => -99, gai_strerror: () => 'odd' }));
  t.throws(() => getaddrinfoWith(odd.sys, 'h', 1), { code: 'EAI_99', strerror: 'odd', errno: -99 });
  const nodata = scriptedLibc(() => ({ getaddrinfo: () => C.EAI_NODATA }));
  t.throws(() => getaddrinfoWith(nodata.sys, 'h', 1), { code: 'ENOTFOUND' });
  const again = scriptedLibc(() => ({ getaddrinfo: () => C.EAI_AGAIN }));
  t.throws(() => getaddrinfoWith(again.sys, 'h', 1), { code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN h' });
  // A resolver answer of another family than asked for is ignored.
  const real = libc();
  const wrong = scriptedLibc(() => ({
    getaddrinfo: (_node, service, hints, res) => real.getaddrinfo('127.0.0.1', service, hints === null ? null : Buffer.alloc(48), res),
  }));
  t.throws(() => encodeAddress(C.AF_INET6, ['some.name', 1], Buffer.alloc(128), wrong.sys), { code: 'ENOTFOUND' });
  const empty = scriptedLibc(() => ({ getaddrinfo: () => 0 }));
  t.same(getaddrinfoWith(empty.sys, 'h', 1), [], 'a null list is an empty result');
});

t.test('formatAddress prints Python reprs', async (t) => {
  t.equal(formatAddress(['127.0.0.1', 8080]), "('127.0.0.1', 8080)");
  t.equal(formatAddress(['::1', 8080, 0, 0]), "('::1', 8080, 0, 0)");
  t.equal(formatAddress('/tmp/echo.sock'), "'/tmp/echo.sock'");
  t.equal(formatAddress(''), "''");
  t.equal(formatAddress("it's"), '"it\'s"');
  t.equal(formatAddress('both \' and "'), "'both \\' and \"'");
  t.equal(formatAddress('a\\b\n\r\t\x01\x7fé'), "'a\\\\b\\n\\r\\t\\x01\\x7fé'");
  t.equal(formatAddress(Buffer.from('\0abc')), "b'\\x00abc'");
  t.equal(formatAddress(Buffer.from([0x27, 0x5c, 0x0a, 0x0d, 0x09, 0xff])), 'b"\'\\\\\\n\\r\\t\\xff"');
  t.equal(formatAddress(Buffer.from('"\'')), "b'\"\\''");
  t.equal(formatAddress(null), 'None');
  t.equal(formatAddress(undefined), 'None');
  t.equal(formatAddress([17, Buffer.from([1])] as never), "(17, b'\\x01')");
  t.equal(formatAddress(['x'] as never), "('x',)");
  t.equal(formatAddress([true, false] as never), '(True, False)');
});
