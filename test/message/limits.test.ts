// Timeouts, limits, answer order, bounded buffering and graceful shutdown
// of ServerMessage/MessageServer, over loopback with raw client sockets
// (a misbehaving peer is easiest to write by hand).
import t, { type Test } from 'tap';
import { Socket } from '../../lib/socket/index.js';
import { DefaultSelector } from '../../selectors/index.js';
import { MessageServer, ServerMessage, type Message, type MessageServerOptions, type ServerMessageOptions } from '../../lib/message/index.js';
import { createRequest, createResponse, encodeMessage, FrameParser, type Frame } from '../../lib/protocol/index.js';
import { connecting, ENGINE, startServer } from './helpers.js';
import { Proactor } from '../../lib/uring/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function appServer(t: Test, message: ServerMessageOptions, server: Partial<MessageServerOptions> = {}) {
  return startServer(t, { createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, { keepAlive: true, ...message }), ...server });
}

function client(t: Test, port: number): Socket {
  const sock = connecting(port);
  t.teardown(() => sock.close());
  return sock;
}

const search = (value: string): Buffer => encodeMessage(createRequest('search', value));

/** Send all of `data` from a non-blocking socket, yielding to the loop when it would block. */
async function sendAll(sock: Socket, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const n = sock.send(data.subarray(off));
    if (n === null) await sleep(5);
    else off += n;
  }
}

/** Read frames until `count` came or EOF; returns them and whether EOF was seen. */
async function readFrames(sock: Socket, count: number, ms = 10_000): Promise<{ frames: Frame[]; eof: boolean }> {
  const parser = new FrameParser();
  const frames: Frame[] = [];
  const start = performance.now();
  for (;;) {
    let chunk: Buffer | null;
    try {
      chunk = sock.recv(65536);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // ECONNREFUSED: connecting to a server that stopped listening.
      if (code === 'ECONNRESET' || code === 'ECONNREFUSED') return { frames, eof: true };
      throw err;
    }
    if (chunk !== null && chunk.length === 0) return { frames, eof: true };
    if (chunk !== null) frames.push(...parser.push(chunk));
    if (frames.length >= count && count > 0) return { frames, eof: false };
    if (performance.now() - start > ms) throw new Error(`got ${frames.length} of ${count} frames`);
    if (chunk === null) await sleep(5);
  }
}

const resultOf = (f: Frame): unknown => (f.content as { result: unknown }).result;

t.test('idleTimeout closes a silent connection with ERR_IDLE_TIMEOUT; a busy one stays', async (t) => {
  const { server, port } = appServer(t, {}, { idleTimeout: 200, requestTimeout: 0 });
  const errors: string[] = [];
  server.on('clientError', (e) => errors.push((e as { code?: string }).code ?? e.message));
  const silent = client(t, port);
  const chatty = client(t, port);
  await waitFor('two connections', () => server.connections.size === 2);
  for (let i = 0; i < 8; i++) {
    await sleep(50);
    await sendAll(chatty, search('morpheus'));
    t.equal((await readFrames(chatty, 1)).frames.length, 1);
  }
  await waitFor('the silent one to close', () => server.connections.size === 1);
  t.same(errors, ['ERR_IDLE_TIMEOUT']);
  t.equal((await readFrames(silent, 0)).eof, true, 'the silent client sees EOF');
  t.same(server.limits, { idleTimeout: 200, requestTimeout: 0, maxConnections: 10_000 });
});

t.test('requestTimeout closes half-sent requests (ERR_REQUEST_TIMEOUT) while a good client is served', async (t) => {
  const { server, port } = appServer(t, {}, { idleTimeout: 0, requestTimeout: 300, backlog: 256 });
  const codes = new Map<string, number>();
  server.on('clientError', (e) => {
    const code = (e as { code?: string }).code ?? e.message;
    codes.set(code, (codes.get(code) ?? 0) + 1);
  });
  const frame = search('morpheus');
  const slow = Array.from({ length: 50 }, () => client(t, port));
  await waitFor('50 connections', () => server.connections.size === 50);
  for (const s of slow) await sendAll(s, frame.subarray(0, 20));
  const good = client(t, port);
  const start = performance.now();
  let served = 0;
  while ((codes.get('ERR_REQUEST_TIMEOUT') ?? 0) < 50 && performance.now() - start < 10_000) {
    await sendAll(good, frame);
    const { frames } = await readFrames(good, 1);
    t.equal(resultOf(frames[0]), 'Follow the white rabbit. 🐰');
    served++;
    await sleep(20);
  }
  t.equal(codes.get('ERR_REQUEST_TIMEOUT'), 50, 'every half-sent request timed out');
  t.ok(served > 3, `the good client was served throughout (${served} answers)`);
  for (const s of slow) t.equal((await readFrames(s, 0)).eof, true);
});

t.test('maxConnections: the connection beyond it is accepted and closed at once', async (t) => {
  const { server, port } = appServer(t, {}, { maxConnections: 2 });
  const rejected: string[] = [];
  server.on('rejected', (err) => rejected.push(err.code));
  const a = client(t, port);
  const b = client(t, port);
  await waitFor('two connections', () => server.connections.size === 2);
  const c = client(t, port);
  t.equal((await readFrames(c, 0)).eof, true, 'the third client is closed');
  t.same(rejected, ['ERR_TOO_MANY_CONNECTIONS']);
  await sendAll(a, search('ring'));
  t.equal(resultOf((await readFrames(a, 1)).frames[0]), 'In the caves beneath the Misty Mountains. 💍');
  b.close();
  await waitFor('a free slot', () => server.connections.size === 1);
  const d = client(t, port);
  await sendAll(d, search('morpheus'));
  t.equal((await readFrames(d, 1)).frames.length, 1, 'a slot freed: served again');
});

t.test('answers produced in reverse order go out in request order', async (t) => {
  const handles: Array<[Frame, (r: ReturnType<typeof createResponse>) => void]> = [];
  const { port } = appServer(t, {
    respond: (request, message) => {
      handles.push([request, message.defer()]);
      return null;
    },
  });
  const sock = client(t, port);
  await sendAll(sock, Buffer.concat(['morpheus', 'ring', '🐶'].map(search)));
  await waitFor('three requests', () => handles.length === 3);
  for (const [request, reply] of [...handles].reverse()) reply(createResponse(request as never));
  handles[0][1]({ content: { result: 'a second reply is ignored' } } as never);
  const { frames } = await readFrames(sock, 3);
  t.same(frames.map(resultOf), ['Follow the white rabbit. 🐰', 'In the caves beneath the Misty Mountains. 💍', '🐾 Playing ball! 🏐']);
});

t.test('message.respond() answers the oldest request not taken by defer()', async (t) => {
  let messageRef: ServerMessage | null = null;
  const requests: Frame[] = [];
  let deferred: ((r: ReturnType<typeof createResponse>) => void) | null = null;
  const { port } = appServer(t, {
    respond: (request, message) => {
      messageRef = message;
      requests.push(request);
      if (requests.length === 1) deferred = message.defer();
      return null;
    },
  });
  const sock = client(t, port);
  await sendAll(sock, Buffer.concat(['morpheus', 'ring'].map(search)));
  await waitFor('two requests', () => requests.length === 2);
  const m = messageRef as unknown as ServerMessage;
  t.equal(m.pendingRequests, 2);
  m.respond(createResponse(requests[1] as never)); // the second: the first is deferred
  deferred!(createResponse(requests[0] as never));
  const { frames } = await readFrames(sock, 2);
  t.same(frames.map(resultOf), ['Follow the white rabbit. 🐰', 'In the caves beneath the Misty Mountains. 💍']);
  t.throws(() => m.defer(), { code: 'ERR_NO_CURRENT_REQUEST' });
});

t.test('pending requests are bounded: parsing and reading pause at maxPendingRequests', async (t) => {
  const waiting: Array<() => void> = [];
  const { server, port } = appServer(t, {
    maxPendingRequests: 4,
    respond: (request, message) => {
      const reply = message.defer();
      waiting.push(() => reply(createResponse(request as never)));
      return null;
    },
  });
  const sock = client(t, port);
  await sendAll(sock, Buffer.concat(Array.from({ length: 20 }, () => search('morpheus'))));
  await waitFor('four requests', () => waiting.length === 4);
  await sleep(100);
  const m = [...server.connections][0] as ServerMessage;
  t.equal(waiting.length, 4, 'no more requests parsed at the bound');
  t.equal(m.pendingRequests, 4);
  let answered = 0;
  while (answered < 20) {
    const batch = waiting.splice(0);
    for (const answer of batch) answer();
    answered += batch.length;
    if (answered < 20) await waitFor('more requests', () => waiting.length > 0);
  }
  t.equal((await readFrames(sock, 20)).frames.length, 20);
});

t.test('a pipelining client that never reads costs about the high-water mark', async (t) => {
  const highWaterMark = 64 * 1024;
  const { server, port } = appServer(t, { highWaterMark });
  const sock = client(t, port);
  sock.setsockopt(1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, 4096);
  const frame = search('morpheus');
  const burst = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  // Send until the server stops taking requests (its reading paused).
  let stalled = 0;
  let sent = 0;
  while (stalled < 20 && sent < 200 * 1024 * 1024) {
    // Whole frames only: after a partial send, go on from where it stopped.
    const n = sock.send(burst.subarray(sent % burst.length));
    if (n === null) {
      stalled++;
      await sleep(20);
    } else {
      stalled = 0;
      sent += n;
    }
  }
  const m = [...server.connections][0] as ServerMessage;
  // The server stopped reading: paused at the high-water mark, or holding
  // its turn until the socket is writable again.
  t.ok(m.pendingBytes <= highWaterMark + 64 * 1024, `queued output ${m.pendingBytes} <= high-water mark + one read's answers`);
  t.ok(m.bufferedInput <= 64 * 1024 + frame.length, `buffered input ${m.bufferedInput} <= one read`);
  t.ok(m.pendingRequests <= 32);
  t.ok(sent > 10 * highWaterMark, `the client did pipeline ${sent} bytes`);
});

t.test('shutdown() answers every request in flight, closes idle connections, then closes', async (t) => {
  const { server, port } = appServer(t, {
    respond: (request, message) => {
      const reply = message.defer();
      setTimeout(() => reply(createResponse(request as never)), 200);
      return null;
    },
  });
  const codes: string[] = [];
  server.on('clientError', (e) => codes.push((e as { code?: string }).code ?? e.message));
  const busy = client(t, port);
  const idle = client(t, port);
  await waitFor('two connections', () => server.connections.size === 2);
  await sendAll(busy, Buffer.concat(['morpheus', 'ring', '🐶'].map(search)));
  await waitFor('three requests pending', () => [...server.connections].some((m) => (m as ServerMessage).pendingRequests === 3));
  const done = server.shutdown(5000);
  t.equal(server.draining, true);
  t.equal((await readFrames(idle, 0)).eof, true, 'the idle keep-alive connection closed at once');
  idle.close();
  const late = client(t, port);
  t.equal((await readFrames(late, 0)).eof, true, 'no new connection is served');
  const { frames, eof } = await readFrames(busy, 3);
  t.equal(frames.length, 3, 'every in-flight answer delivered');
  t.equal(eof || (await readFrames(busy, 0)).eof, true, 'then closed');
  busy.close(); // the server lingers until its peer closes (or the deadline)
  await done;
  t.equal(server.closed, true);
  t.same(codes, [], 'nothing failed');
});

t.test('shutdown() deadline: what is still open fails with ERR_SERVER_SHUTDOWN', async (t) => {
  const { server, port } = appServer(t, { respond: () => null });
  const codes: string[] = [];
  server.on('clientError', (e: Error, _m: Message) => codes.push((e as { code?: string }).code ?? ''));
  const sock = client(t, port);
  await sendAll(sock, search('morpheus'));
  await waitFor('a pending request', () => [...server.connections].some((m) => (m as ServerMessage).pendingRequests === 1));
  await server.shutdown(100);
  t.same(codes, ['ERR_SERVER_SHUTDOWN']);
  t.equal((await readFrames(sock, 0)).eof, true);
});

t.test('fairness: a pipelining connection is parsed in turns', async (t) => {
  const { server, port } = appServer(t, {});
  const flood = client(t, port);
  const other = client(t, port);
  await waitFor('two connections', () => server.connections.size === 2);
  const frame = search('x');
  const many = Buffer.concat(Array.from({ length: 400 }, () => frame));
  await sendAll(flood, many);
  await sendAll(other, search('morpheus'));
  const { frames } = await readFrames(other, 1);
  t.equal(resultOf(frames[0]), 'Follow the white rabbit. 🐰');
  t.equal((await readFrames(flood, 400)).frames.length, 400, 'the flood is answered in full, in turns');
});

t.test('option validation, limits and nextTick', async (t) => {
  const make = (o: Partial<MessageServerOptions>) => () => new MessageServer(['127.0.0.1', 0], { engine: ENGINE, createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr), ...o }).close();
  t.throws(make({ idleTimeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(make({ requestTimeout: Number.NaN }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(make({ maxConnections: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(make({ maxConnections: 'many' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  // The engine and what drives it must agree; n loops are MessageServerWorkers' (a thread cannot get a function).
  t.throws(make({ engine: 'kqueue' as never }), { code: 'ERR_INVALID_ARG_VALUE' });
  const selector = new DefaultSelector();
  t.throws(make({ engine: 'uring', selector }), { code: 'ERR_INVALID_ARG_VALUE' });
  selector.close();
  const proactor = new Proactor();
  t.throws(make({ engine: 'epoll', proactor }), { code: 'ERR_INVALID_ARG_VALUE' });
  proactor.close();
  t.throws(make({ workers: 2 } as never), { code: 'ERR_INVALID_ARG_VALUE', message: /MessageServerWorkers/ });
  const off = new MessageServer(['127.0.0.1', 0], { engine: ENGINE, createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr), idleTimeout: Infinity, requestTimeout: 0 });
  t.same(off.limits, { idleTimeout: 0, requestTimeout: 0, maxConnections: 10_000 });
  t.equal(off.nextTick, null, 'no timeouts: nothing scheduled');
  t.equal(off.tick(), true);
  off.close();
  const on = new MessageServer(['127.0.0.1', 0], { engine: ENGINE, createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, { maxPendingRequests: 1 }), idleTimeout: 400 });
  const next = on.nextTick!;
  t.ok(next > 0 && next <= 0.1, `the sweep is due within a quarter of the smaller timeout (${next} s)`);
  t.throws(() => on.shutdown('soon' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await on.shutdown(1000);
  t.equal(on.closed, true, 'no connections: shutdown closes at once');
  t.equal(on.tick(), false);
  await on.shutdown(); // again: resolved
  const sock = connecting(1);
  const sel = new DefaultSelector();
  t.throws(() => new ServerMessage(sel, sock, ['127.0.0.1', 1], { maxPendingRequests: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  sel.close();
  sock.close();
});

t.test('a custom blocking loop: serveForever() sweeps the timeouts itself', async (t) => {
  const server = new MessageServer(['127.0.0.1', 0], {
    engine: ENGINE,
    createMessage: (sel, sock, addr) => new ServerMessage(sel, sock, addr, { keepAlive: true }),
    idleTimeout: 100,
    requestTimeout: 0,
  });
  const port = server.address()[1] as number;
  const sock = connecting(port);
  const codes: string[] = [];
  server.on('clientError', (e) => {
    codes.push((e as { code?: string }).code ?? '');
    server.close();
  });
  // Blocks this thread until the silent client timed out and the handler closed the server.
  server.serveForever(5);
  t.same(codes, ['ERR_IDLE_TIMEOUT']);
  sock.close();
});
