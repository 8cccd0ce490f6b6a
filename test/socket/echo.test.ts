import t from 'tap';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { Socket } from '../../lib/socket/socket.js';
import * as C from '../../lib/sys/constants.js';
import { portOf, since, track } from '../fixtures/socket/helpers.js';

interface Ready { port: number }
interface Done { done: true; addr: [string, number]; total: number; chunks: number }

t.test('blocking echo: seed 004 server in a worker thread, blocking client here', async (t) => {
  // A blocking server cannot share the JS thread with its client. koffi's
  // synchronous calls block only the calling thread, so the server runs in
  // a worker_threads Worker. Workers cannot load .ts by themselves: passing
  // process.execArgv hands them the same --import loader flags that tap
  // gave this process (@tapjs/typescript), so the fixture is plain .ts.
  const worker = new Worker(new URL('../fixtures/socket/blocking-echo-server.ts', import.meta.url), { execArgv: process.execArgv });
  const messages: unknown[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  worker.on('message', (m) => { messages.push(m); wake?.(); });
  worker.on('error', (e) => { failure = e; wake?.(); });
  const next = async (): Promise<unknown> => {
    const start = performance.now();
    while (messages.length === 0 && failure === null && since(start) < 20000) {
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 100); });
    }
    if (failure !== null) throw failure;
    return messages.shift();
  };
  let port = 0;
  t.teardown(async () => {
    // If anything failed early, unblock the worker's accept()/recv() so it
    // can finish (a thread inside a blocking call cannot be terminated).
    if (port !== 0 && messages.length === 0) {
      try {
        const s = new Socket();
        s.settimeout(1);
        s.connect(['127.0.0.1', port]);
        s.close();
      } catch {
        // already gone
      }
    }
    await worker.terminate();
  });

  port = ((await next()) as Ready).port;
  t.ok(port > 0, 'server listening');
  const client = track(t, new Socket(C.AF_INET, C.SOCK_STREAM));
  client.settimeout(10);
  client.connect(['127.0.0.1', port]);
  client.sendall('hello, echo');
  let reply = Buffer.alloc(0);
  for (let i = 0; i < 100 && reply.length < 11; i++) reply = Buffer.concat([reply, client.recv(1024) as Buffer]);
  t.equal(reply.toString(), 'hello, echo', 'a message comes back');

  const payload = Buffer.alloc(20000);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  client.sendall(payload);
  client.shutdown(C.SHUT_WR);
  const parts: Buffer[] = [];
  let got = 0;
  for (let i = 0; i < 10000; i++) {
    const chunk = client.recv(4096) as Buffer;
    if (chunk.length === 0) break;
    parts.push(chunk);
    got += chunk.length;
  }
  t.equal(got, payload.length);
  t.ok(Buffer.concat(parts).equals(payload), 'every byte echoed in order');
  const done = (await next()) as Done;
  t.equal(done.total, 11 + payload.length, 'the server saw every byte');
  t.ok(done.chunks >= Math.ceil(payload.length / 1024), 'in recv(1024) chunks');
  t.same(done.addr, client.getsockname(), 'accept() reported the client address');
});

t.test('non-blocking echo pair in one thread', async (t) => {
  const srv = track(t, new Socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK));
  srv.bind(['127.0.0.1', 0]);
  srv.listen();
  const client = track(t, new Socket(C.AF_INET, C.SOCK_STREAM));
  client.setblocking(false);
  t.equal(client.connectEx(['127.0.0.1', portOf(srv)]), C.EINPROGRESS);
  let conn: Socket | null = null;
  const start = performance.now();
  for (let i = 0; i < 10000 && conn === null && since(start) < 5000; i++) {
    const acc = srv.accept();
    if (acc === null) await sleep(1);
    else conn = track(t, acc[0]);
  }
  t.ok(conn, 'accepted');
  const server = conn as Socket;
  server.setblocking(false);

  const payload = Buffer.alloc(300 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 256;
  let sentOff = 0;
  const pending: Buffer[] = [];
  const received: Buffer[] = [];
  let receivedLen = 0;
  let nulls = 0;
  const buf = Buffer.alloc(16 * 1024);
  for (let i = 0; i < 200000 && receivedLen < payload.length && since(start) < 10000; i++) {
    if (sentOff < payload.length) {
      const n = client.send(payload.subarray(sentOff, sentOff + 32 * 1024));
      if (n === null) nulls++;
      else sentOff += n;
    }
    const data = server.recv(16 * 1024);
    if (data === null) nulls++;
    else if (data.length > 0) pending.push(data);
    while (pending.length > 0) {
      const n = server.send(pending[0]);
      if (n === null) { nulls++; break; }
      if (n === pending[0].length) pending.shift();
      else pending[0] = pending[0].subarray(n);
    }
    const n = client.recvInto(buf);
    if (n === null) nulls++;
    else if (n > 0) {
      received.push(Buffer.from(buf.subarray(0, n)));
      receivedLen += n;
    }
    if (i % 64 === 63) await sleep(0);
  }
  t.equal(receivedLen, payload.length, 'all bytes came back');
  t.ok(Buffer.concat(received).equals(payload), 'in order');
  t.ok(nulls > 0, 'would-block showed up as null, not as errors');
  client.close();
  let eof: Buffer | null = null;
  for (let i = 0; i < 1000 && eof === null; i++) {
    eof = server.recv(10);
    if (eof === null) await sleep(1);
  }
  t.equal(eof?.length, 0, 'EOF after the client closed');
});
