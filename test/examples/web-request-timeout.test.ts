// epoll-web-server --request-timeout: clients that drip a request head one
// byte at a time (each byte well inside --idle-timeout, so the idle timer
// never fires) are answered 408 and closed once the head is late, while a
// keep-alive client is served throughout. The spawned server runs from
// dist/examples on 127.0.0.1 port 0.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResponses, rawConnection, sleep, startServer, type RawConnection } from './http-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'web-request-timeout-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'index.html'), '<h1>ok</h1>\n');

const DRIPPERS = 20;
const REQUEST_TIMEOUT_S = 2;

t.test('a dripping request head gets 408 and is closed; a good client is served throughout', async (t) => {
  const srv = await startServer(t, 'epoll-web-server', ['--root', root, '--idle-timeout', '5', '--request-timeout', String(REQUEST_TIMEOUT_S)]);
  await srv.waitFor(/serving/);
  const drippers: RawConnection[] = [];
  for (let i = 0; i < DRIPPERS; i++) drippers.push(await rawConnection(t, srv.port));
  const good = await rawConnection(t, srv.port);
  const started = Date.now();
  const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
  const closedAt = new Array<number>(DRIPPERS).fill(0);
  const served: number[] = [];
  let sent = 0;
  // Bounded: 12 s at most. One byte per dripper every 400 ms, a request
  // of the good client every 200 ms.
  for (let tick = 0; tick < 60 && (closedAt.includes(0) || tick < 25); tick++) {
    const now = Date.now() - started;
    drippers.forEach((d, i) => {
      if (closedAt[i] === 0 && d.ended()) closedAt[i] = now;
      else if (closedAt[i] === 0 && tick % 2 === 0 && !d.sock.destroyed) d.sock.write(head[Math.min(tick / 2, head.length - 1)]);
    });
    const before = Date.now();
    good.sock.write('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
    sent++;
    await good.waitResponses(sent, [], 2000);
    served.push(Date.now() - before);
    await sleep(200);
  }
  const limitMs = REQUEST_TIMEOUT_S * 1000;
  t.ok(closedAt.every((ms) => ms > 0), `every dripping connection was closed (${closedAt.filter((ms) => ms > 0).length} of ${DRIPPERS})`);
  t.ok(closedAt.every((ms) => ms >= limitMs - 200 && ms <= limitMs + 2500), `within the deadline plus one sweep: ${Math.min(...closedAt)}..${Math.max(...closedAt)} ms`);
  for (const d of drippers.slice(0, 3)) {
    const [res] = parseResponses(d.received());
    t.equal(res?.status, 408, 'answered 408 Request Timeout before the close');
    t.equal(res?.headers.get('connection'), 'close', 'with Connection: close');
  }
  const responses = parseResponses(good.received());
  t.equal(responses.length, sent, `the good client got every answer (${sent})`);
  t.ok(responses.every((r) => r.status === 200), 'all 200');
  t.ok(!good.ended(), 'and its connection is still open');
  t.ok(Math.max(...served) < 2000, `each within 2 s (slowest ${Math.max(...served)} ms)`);
  await srv.waitFor(/request not complete after 2 s: 408, closing/);
  t.equal((await srv.stop()).code, 0);
});
