// Node interop: getaddrinfoAsync does not block Node's loop and gives what
// getaddrinfo gives; toNetSocket hands a connection this library made to
// node:net, so node:tls runs over it (a self-signed certificate made at
// test time with the openssl CLI; skipped with a reason without it).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as tlsServer } from 'node:tls';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM, Socket, getaddrinfo, getaddrinfoAsync, toNetSocket } from '../../lib/socket/index.js';

const noOpenssl: string | false = spawnSync('openssl', ['version']).status === 0 ? false : 'the openssl CLI is not installed';

t.test('getaddrinfoAsync: the same answers as getaddrinfo, without blocking the loop', async (t) => {
  // The lookup runs on the threadpool: the loop turns meanwhile (a timer
  // queued now can run before the answer is handled).
  let turned = false;
  setImmediate(() => (turned = true));
  const pending = getaddrinfoAsync('localhost', 80, AF_INET, SOCK_STREAM);
  const async = await pending;
  const sync = getaddrinfo('localhost', 80, AF_INET, SOCK_STREAM);
  t.ok(turned, 'Node\'s loop turned while it resolved');
  t.same(async, sync);
  t.same(async[0]?.[4], ['127.0.0.1', 80]);
  t.same(await getaddrinfoAsync(null, 'http', AF_INET, SOCK_STREAM), getaddrinfo(null, 'http', AF_INET, SOCK_STREAM), 'a service name');
  await t.rejects(getaddrinfoAsync(null, 'no-such-service-here', AF_INET, SOCK_STREAM), { message: /^getaddrinfo / }, 'an unknown service');
  await t.rejects(getaddrinfoAsync(null, 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.rejects(getaddrinfoAsync(42 as unknown as string, 80), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('toNetSocket: the connection becomes a node:net stream; the Socket is detached', async (t) => {
  const server = netServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.connect(['127.0.0.1', (server.address() as AddressInfo).port]);
  const fd = sock.fileno();
  const stream = toNetSocket(sock);
  t.teardown(() => stream.destroy());
  t.equal(sock.closed, true, 'the Socket is detached');
  t.equal(sock.fileno(), -1);
  const echoed = new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
  stream.write('through node:net');
  t.equal(await echoed, 'through node:net');
  t.equal((stream as unknown as { _handle: { fd: number } })._handle.fd, fd, 'the same fd');
  t.throws(() => toNetSocket(sock), { code: 'EBADF' });
  const udp = new Socket(AF_INET, SOCK_DGRAM);
  t.teardown(() => udp.close());
  t.throws(() => toNetSocket(udp), { code: 'ERR_INVALID_ARG_VALUE' });
});

t.test('TLS over a socket this library connected', { skip: noOpenssl }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost',
  ], { encoding: 'utf8', timeout: 60_000 });
  t.equal(made.status, 0, made.status === 0 ? 'openssl made a self-signed certificate' : made.stderr);
  const key = readFileSync(join(dir, 'key.pem'));
  const cert = readFileSync(join(dir, 'cert.pem'));
  const server = tlsServer({ key, cert }, (s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.connect(['127.0.0.1', (server.address() as AddressInfo).port]);
  const tls = tlsConnect({ socket: toNetSocket(sock), ca: cert, servername: 'localhost' });
  t.teardown(() => tls.destroy());
  await new Promise<void>((resolve, reject) => {
    tls.once('secureConnect', resolve);
    tls.once('error', reject);
  });
  t.equal(tls.authorized, true, 'the certificate checks out against its CA');
  const echoed = new Promise<string>((resolve) => tls.once('data', (d: Buffer) => resolve(d.toString())));
  tls.write('hello over TLS');
  t.equal(await echoed, 'hello over TLS');
});
