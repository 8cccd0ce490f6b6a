// A server keeps serving good clients while others send garbage, stall
// mid-frame, reset the connection, or make a listener throw.
import t, { type Test } from 'tap';
import { ServerMessage, ClientMessage, type Message } from '../../lib/message/index.js';
import { createRequest } from '../../lib/protocol/index.js';
import { ProtocolError } from '../../lib/errors.js';
import { Socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_LINGER } from '../../lib/socket/index.js';
import { clientSelector, connecting, drive, ENGINE, startServer, until } from './helpers.js';

function rawClient(t: Test, port: number): Socket {
  const s = new Socket(AF_INET, SOCK_STREAM);
  t.teardown(() => s.close());
  s.connect(['127.0.0.1', port]);
  return s;
}

async function goodClients(t: Test, port: number, n: number): Promise<number> {
  const sel = clientSelector(t);
  let ok = 0;
  const clients = Array.from({ length: n }, () => {
    const c = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest('search', 'morpheus'));
    c.on('response', (f) => {
      if ((f.content as { result: string }).result === 'Follow the white rabbit. 🐰') ok++;
    });
    return c;
  });
  await drive(sel, clients);
  return ok;
}

const garbage: Array<[string, Buffer, string]> = [
  ['header not JSON', Buffer.concat([Buffer.from([0, 5]), Buffer.from('{nope')]), 'ERR_PROTOCOL_INVALID_HEADER'],
  ['missing header', Buffer.concat([Buffer.from([0, 2]), Buffer.from('{}')]), 'ERR_PROTOCOL_MISSING_HEADER'],
  ['negative length', (() => {
    const h = Buffer.from('{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": -1}');
    const p = Buffer.alloc(2);
    p.writeUInt16BE(h.length);
    return Buffer.concat([p, h]);
  })(), 'ERR_PROTOCOL_INVALID_LENGTH'],
  ['zero-length header', Buffer.from([0, 0, 1, 2, 3]), 'ERR_PROTOCOL_INVALID_HEADER'],
];

for (const [name, bytes, code] of garbage) {
  t.test(`garbage (${name}) closes that connection only, with ${code}`, async (t) => {
    const errors: Array<[Error, Message]> = [];
    const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr) });
    server.on('clientError', (err, m) => errors.push([err, m]));
    const bad = rawClient(t, port);
    bad.sendall(bytes);
    await until(() => errors.length === 1);
    t.ok(errors[0][0] instanceof ProtocolError);
    t.equal((errors[0][0] as ProtocolError).code, code);
    t.ok(errors[0][1].closed);
    bad.settimeout(5);
    t.equal(bad.recv(100)?.length, 0, 'the bad client sees EOF, no reply');
    t.equal(await goodClients(t, port, 5), 5, 'good clients are served');
    t.notOk(server.closed);
  });
}

t.test('a client stalled mid-frame does not hold up the others; EOF mid-frame is TRUNCATED', async (t) => {
  const errors: Error[] = [];
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr) });
  server.on('clientError', (err) => errors.push(err));
  const stalled = rawClient(t, port);
  stalled.sendall(Buffer.from([0, 103, 0x7b, 0x22]));
  t.equal(await goodClients(t, port, 5), 5);
  t.equal(errors.length, 0);
  stalled.close();
  await until(() => errors.length === 1);
  t.equal((errors[0] as ProtocolError).code, 'ERR_PROTOCOL_TRUNCATED');
});

t.test('a client that resets the connection (RST) is dropped quietly', async (t) => {
  const errors: Error[] = [];
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, { keepAlive: true }) });
  server.on('clientError', (err) => errors.push(err));
  const rst = rawClient(t, port);
  await until(() => server.connections.size === 1);
  rst.sendall(Buffer.from([0, 103]));
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0);
  linger.writeInt32LE(0, 4);
  rst.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  rst.close();
  await until(() => server.connections.size === 0);
  t.ok(errors.length <= 1);
  if (errors.length === 1) t.match(errors[0], { code: /ECONNRESET|ERR_PROTOCOL_TRUNCATED/ });
  t.equal(await goodClients(t, port, 3), 3);
});

t.test('a throwing listener closes its connection only', async (t) => {
  let n = 0;
  const errors: Error[] = [];
  const { server, port } = startServer(t, {
    createMessage: (sel, sock, addr) => {
      const m = new ServerMessage(sel, sock, addr);
      if (n++ === 0) m.on('request', () => {
        throw new Error('listener bug');
      });
      return m;
    },
  });
  server.on('clientError', (err) => errors.push(err));
  const sel = clientSelector(t);
  const first = new ClientMessage(sel, connecting(port), ['127.0.0.1', port], createRequest('search', 'ring'));
  let firstErr: Error | undefined;
  first.on('error', (e) => (firstErr = e));
  await drive(sel, [first]);
  t.match(firstErr, { code: 'ERR_PROTOCOL_TRUNCATED' }, 'the client sees the connection end without a reply');
  t.equal(errors[0]?.message, 'listener bug');
  t.equal(await goodClients(t, port, 3), 3);
});

t.test('without an error listener a failing Message still just closes', async (t) => {
  const { server, port } = startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr) });
  server.removeAllListeners('clientError');
  const bad = rawClient(t, port);
  bad.sendall(Buffer.from([0, 1, 0x7b]));
  await until(() => server.accepted === 1 && server.connections.size === 0);
  t.equal(await goodClients(t, port, 2), 2);
});

t.test('a throwing clientError or close listener neither stops the server nor leaks the connection', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const { server, port } = startServer(t, {
    createMessage: (sel, sock, addr) => {
      const m = new ServerMessage(sel, sock, addr);
      m.on('close', () => {
        throw new Error('close listener bug');
      });
      return m;
    },
  });
  server.on('clientError', () => {
    throw new Error('clientError listener bug');
  });
  const bad = rawClient(t, port);
  bad.sendall(Buffer.from([0, 1, 0x7b]));
  await until(() => server.accepted === 1 && server.connections.size === 0);
  t.equal(await goodClients(t, port, 3), 3, 'still serving');
  t.equal(server.connections.size, 0, 'every connection forgotten');
  await until(() => warnings.length >= 2);
  t.ok(warnings.some((w) => /clientError listener bug/.test(w.message)));
  t.ok(warnings.some((w) => /close listener bug/.test(w.message)));
});

t.test('respond() from a timer after the client left fails the Message instead of throwing', async (t) => {
  const outcomes: string[] = [];
  let clientLeft = (): void => {};
  const left = new Promise<void>((resolve) => (clientLeft = resolve));
  const { port } = startServer(t, {
    createMessage: (sel, sock, addr) => {
      const m = new ServerMessage(sel, sock, addr, {
        keepAlive: true,
        respond: (_req, message) => {
          outcomes.push('request');
          // Answer 100 ms after the client reset the connection.
          void left.then(() => setTimeout(() => {
            const big = { contentType: 'binary/x', contentEncoding: 'binary', content: Buffer.alloc(512 * 1024) };
            try {
              message.respond(big);
              message.respond(big);
              outcomes.push('no throw');
            } catch (err) {
              outcomes.push(`threw ${(err as Error).message}`);
            }
          }, 100));
          return null;
        },
      });
      m.on('error', (e) => outcomes.push(`error ${(e as { code?: string }).code}`));
      return m;
    },
  });
  const c = rawClient(t, port);
  const frame = (await import('../../lib/protocol/index.js')).encodeMessage(createRequest('search', 'ring'));
  c.sendall(frame);
  // The client leaves (a reset) once the server has read its request: a reset
  // that overtakes the request would leave nothing to answer.
  await until(() => outcomes.includes('request'));
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0);
  c.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  c.close();
  clientLeft();
  await until(() => outcomes.includes('no throw'));
  t.notOk(outcomes.some((o) => o.startsWith('threw')));
});

t.test('keep-alive: a client that half-closes still gets answers given later', async (t) => {
  const { port } = startServer(t, {
    createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, {
      keepAlive: true,
      respond: (req, message) => {
        setTimeout(() => message.respond({ contentType: 'text/json', contentEncoding: 'utf-8', content: { late: (req.content as { value: string }).value } }), 50);
        return null;
      },
    }),
  });
  const c = rawClient(t, port);
  const { encodeMessage } = await import('../../lib/protocol/index.js');
  const { FrameParser } = await import('../../lib/protocol/index.js');
  c.sendall(Buffer.concat([encodeMessage(createRequest('search', 'a')), encodeMessage(createRequest('search', 'b'))]));
  c.shutdown(1);
  // The server runs in this process: read without blocking the thread.
  c.setblocking(false);
  const parser = new FrameParser();
  const got: unknown[] = [];
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const data = c.recv(65536);
    if (data === null) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    if (data.length === 0) break;
    parser.push(data, (f) => got.push(f.content));
  }
  t.same(got, [{ late: 'a' }, { late: 'b' }], 'both late answers, then EOF');
});

t.test('MessageServer picks the family from the address: IPv6 and AF_UNIX', async (t) => {
  const { MessageServer } = await import('../../lib/message/index.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { AF_INET, AF_INET6, AF_UNIX, familyOf } = await import('../../lib/socket/index.js');
  t.equal(familyOf(['127.0.0.1', 0]), AF_INET);
  t.equal(familyOf(['localhost', 0]), AF_INET, 'a host name: AF_INET');
  t.equal(familyOf(['::1', 0, 0, 0]), AF_INET6);
  t.equal(familyOf('/tmp/app.sock'), AF_UNIX);
  t.equal(familyOf(Buffer.from('\0abstract')), AF_UNIX);
  const dir = mkdtempSync(join(tmpdir(), 'ns-ms-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'app.sock');
  const unix = new MessageServer(path, { engine: ENGINE, createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr) });
  t.teardown(() => unix.close());
  t.equal(unix.socket.family, AF_UNIX);
  t.equal(unix.address(), path);
  t.equal(unix.tick(), true);
  t.equal(unix.pauseRemaining, null);
  let v6: InstanceType<typeof MessageServer> | undefined;
  try {
    v6 = new MessageServer(['::1', 0], { engine: ENGINE, createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr) });
  } catch (err) {
    t.comment(`no ::1 here: ${(err as Error).message}`);
  }
  if (v6 !== undefined) {
    t.teardown(() => v6!.close());
    t.equal(v6.socket.family, AF_INET6);
    t.equal(v6.address()[0], '::1');
  }
});
