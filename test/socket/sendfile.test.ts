// sock.sendfile(): sendfile(2) over TCP loopback with offset/count (a child process hashes every
// byte received), the read + send fallback (a pipe; a scripted libc that refuses), and Python's checks.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Socket, socketpair } from '../../lib/socket/socket.js';
import { SocketTimeoutError } from '../../lib/errors.js';
import { libc } from '../../lib/sys/libc.js';
import { AF_INET, AF_UNIX, EINVAL, SHUT_WR, SOCK_DGRAM, SOCK_STREAM } from '../../lib/sys/constants.js';
import { scriptedLibc, tcpPair, tempDir, track, type Teardown } from '../fixtures/socket/helpers.js';

const EIO = 5;
const SIZE = 10 * 1024 * 1024;

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A child process that reads the socket `sock` (inherited as fd 3) to EOF: [byte count, sha256]. */
function receiver(sock: Socket): Promise<[number, string]> {
  const env = { ...process.env };
  delete env.NODE_V8_COVERAGE;
  delete env.NODE_OPTIONS;
  const script = `const fs = require('node:fs');
const hash = require('node:crypto').createHash('sha256');
const buf = Buffer.alloc(1 << 16);
let n = 0;
for (let r; (r = fs.readSync(3, buf)) > 0; n += r) hash.update(buf.subarray(0, r));
process.stdout.write(JSON.stringify([n, hash.digest('hex')]));`;
  const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'inherit', sock.fileno()] });
  sock.close();
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => {
    if (code === 0) resolve(JSON.parse(out) as [number, string]);
    else reject(new Error(`receiver exited with ${code}`));
  }));
}

/** The fd's current position, read back through the bytes read(2) returns there. */
function bytesAtPosition(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  return buf.subarray(0, readSync(fd, buf, 0, n, null));
}

function bigFile(t: Teardown): [string, Buffer] {
  const data = randomBytes(SIZE);
  const path = join(tempDir(t), 'big.bin');
  writeFileSync(path, data);
  return [path, data];
}

t.test('10 MB over TCP loopback: fd with offset/count, FileHandle, fileno() object; timeout mode too', async (t) => {
  const [path, data] = bigFile(t);
  const [client, server] = tcpPair(t, AF_INET, '127.0.0.1');
  const received = receiver(server);
  const fd = openSync(path, 'r');
  t.teardown(() => closeSync(fd));

  t.equal(client.sendfile(fd, 1234, 5_000_000), 5_000_000, 'fd, offset and count');
  t.same(bytesAtPosition(fd, 4), data.subarray(1234 + 5_000_000, 1234 + 5_000_004), 'the fd is left at offset + sent');

  client.settimeout(10);
  const handle = await open(path, 'r');
  t.equal(client.sendfile(handle), SIZE, 'a FileHandle ({ fd }), all of it, in timeout mode');
  await handle.close();

  client.settimeout(null);
  t.equal(client.sendfile({ fileno: () => fd }, SIZE - 100), 100, 'an object with fileno(), from an offset to EOF');
  t.equal(client.sendfile(fd, SIZE + 5), 0, 'an offset past EOF sends nothing');
  client.shutdown(SHUT_WR);

  const expected = Buffer.concat([data.subarray(1234, 1234 + 5_000_000), data, data.subarray(SIZE - 100)]);
  t.same(await received, [expected.length, sha(expected)], 'every byte arrived, in order');
});

/** A pipe [read end, write end]; the ends still >= 0 at teardown are closed (set one to -1 once closed). */
function pipe(t: Teardown): Int32Array {
  const fds = new Int32Array(2);
  if (libc().pipe2(fds, 0o2000000) < 0) throw new Error('pipe2 failed');
  t.teardown(() => {
    for (const fd of fds) if (fd >= 0) libc().close(fd);
  });
  return fds;
}

t.test('a pipe is sent with read + send', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  const fds = pipe(t);
  const rd = fds[0];
  libc().write(fds[1], Buffer.from('from a pipe, then EOF'), 21);
  libc().close(fds[1]);
  fds[1] = -1;
  t.equal(a.sendfile(rd, 0, 9), 9, 'count honoured');
  t.equal(b.recv(100)?.toString(), 'from a pi');
  t.equal(a.sendfile(rd), 12, 'to EOF');
  t.equal(b.recv(100)?.toString(), 'pe, then EOF');
  t.throws(() => a.sendfile(rd, 3), { code: 'ESPIPE' }, 'an offset on a pipe cannot be honoured');
  const more = pipe(t);
  libc().write(more[1], Buffer.from('lost'), 4);
  b.close();
  t.throws(() => a.sendfile(more[0]), { code: 'EPIPE' }, 'the peer has gone: the send error is thrown');
});

t.test('the kernel refusing before the first byte falls back to read + send; after it, the error is thrown', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'f.txt');
  writeFileSync(path, 'abcdefghijklmnopqrstuvwxyz');
  const fd = openSync(path, 'r');
  t.teardown(() => closeSync(fd));
  let calls = 0;
  const refusing = scriptedLibc((s) => ({ sendfile: () => { calls++; return s.fail(EINVAL); } }));
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0, { sys: refusing.sys });
  track(t, a);
  track(t, b);
  t.equal(a.sendfile(fd, 3, 10), 10);
  t.equal(calls, 1, 'sendfile(2) was tried once');
  t.equal(b.recv(100)?.toString(), 'defghijklm');
  t.equal(bytesAtPosition(fd, 3).toString(), 'nop', 'position = offset + sent, as Python');

  const real = libc();
  let n = 0;
  const failingLater = scriptedLibc((s) => ({
    sendfile: (out: number, inFd: number, off: BigInt64Array, count: number) => (n++ === 0 ? real.sendfile(out, inFd, off, Math.min(count, 5)) : s.fail(EIO)),
  }));
  const [c, d] = socketpair(AF_UNIX, SOCK_STREAM, 0, { sys: failingLater.sys });
  track(t, c);
  track(t, d);
  t.throws(() => c.sendfile(fd, 0), { code: 'EIO', syscall: 'sendfile' });
  t.equal(d.recv(100)?.toString(), 'abcde', 'the first 5 bytes went out');
  t.equal(bytesAtPosition(fd, 2).toString(), 'fg', 'and the position says so');
});

t.test('timeout mode: a peer that does not read times the call out', async (t) => {
  const [path] = bigFile(t);
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  a.settimeout(0.1);
  const fd = openSync(path, 'r');
  t.teardown(() => closeSync(fd));
  try {
    a.sendfile(fd);
    t.fail('should time out');
  } catch (err) {
    t.ok(err instanceof SocketTimeoutError, 'SocketTimeoutError');
    t.match(err, { code: 'ETIMEDOUT', syscall: 'sendfile' });
  }
  t.ok(bytesAtPosition(fd, 1).length === 1, 'the file is still readable');
});

t.test("Python's checks", async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'x'), 'x');
  const fd = openSync(join(dir, 'x'), 'r');
  t.teardown(() => closeSync(fd));
  const udp = track(t, new Socket(AF_INET, SOCK_DGRAM));
  t.throws(() => udp.sendfile(fd), { code: 'ERR_SENDFILE_UNSUPPORTED', message: 'only SOCK_STREAM type sockets are supported' });
  t.throws(() => a.sendfile(fd, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => a.sendfile(fd, 0, 1.5), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => a.sendfile(fd, -1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => a.sendfile(fd, '0' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => a.sendfile({} as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => a.sendfile(-3), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => a.sendfile(1_000_000), { code: 'EBADF' }, 'an fd that is not open');
  t.equal(a.sendfile(fd, 0, null), 1);
  t.equal(b.recv(10)?.toString(), 'x');
  a.close();
  t.throws(() => a.sendfile(fd), { code: 'EBADF' });
});

t.test('a non-blocking socket makes one sendfile(2) call, as send() does (Python refuses it)', async (t) => {
  const [a, b] = socketpair();
  track(t, a);
  track(t, b);
  a.setblocking(false);
  const dir = tempDir(t);
  const data = randomBytes(8 * 1024 * 1024);
  writeFileSync(join(dir, 'big'), data);
  const fd = openSync(join(dir, 'big'), 'r');
  t.teardown(() => closeSync(fd));
  const first = a.sendfile(fd, 0);
  t.ok(first !== null && first > 0 && first < data.length, `one call sent part of the file (${first} bytes)`);
  t.same(bytesAtPosition(fd, 4), data.subarray(first ?? 0, (first ?? 0) + 4), 'the position is offset + sent');
  let sent = first ?? 0;
  let blocked = false;
  for (let i = 0; i < 100 && !blocked; i++) {
    const n = a.sendfile(fd, sent);
    if (n === null) blocked = true;
    else sent += n;
  }
  t.ok(blocked, 'null once the send buffer is full');
  const chunks: Buffer[] = [];
  b.setblocking(false);
  for (let chunk; (chunk = b.recv(1 << 20)) !== null && chunk.length > 0;) chunks.push(chunk);
  t.same(sha(Buffer.concat(chunks)), sha(data.subarray(0, sent)), 'every byte sent arrived, in order');
  const fds = pipe(t);
  t.throws(() => a.sendfile(fds[0]), { code: 'ERR_SENDFILE_UNSUPPORTED' }, 'not from a pipe');
});
