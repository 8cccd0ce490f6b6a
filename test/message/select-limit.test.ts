// A MessageServer on a select() selector cannot watch an fd >= 1024: such a
// connection is refused ('rejected', ERR_FD_OUT_OF_RANGE) and closed, and
// everyone else goes on being served.
import t from 'tap';
import { closeSync, openSync } from 'node:fs';
import { SelectSelector } from '../../selectors/index.js';
import { EchoMessage, type Message } from '../../lib/message/index.js';
import { connecting, startServer } from './helpers.js';
import type { Socket } from '../../lib/socket/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Send `text` and read it back (an echo), within the time limit. */
async function echo(sock: Socket, text: string): Promise<string> {
  await until('connected', () => { try { sock.getpeername(); return true; } catch { return false; } });
  sock.send(text);
  let got = '';
  await until(`echo of ${text}`, () => {
    const chunk = sock.recv(100);
    if (chunk !== null) got += chunk.toString();
    return got.length >= text.length;
  });
  return got;
}

t.test('fds select() cannot watch are refused, one connection each', async (t) => {
  const rejected: Array<{ code: string }> = [];
  const { server, port } = startServer(t, {
    selector: new SelectSelector(),
    createMessage: (sel, sock, addr) => new EchoMessage(sel, sock, addr) as Message,
  });
  server.on('rejected', (err) => rejected.push(err));
  const good = connecting(port);
  t.teardown(() => good.close());
  t.equal(await echo(good, 'before'), 'before');

  // Take every free fd below 1030: the next accepted connection lands above FD_SETSIZE.
  const filler: number[] = [];
  t.teardown(() => { for (const fd of filler) closeSync(fd); });
  for (let fd = openSync('/dev/null', 'r'); ; fd = openSync('/dev/null', 'r')) {
    filler.push(fd);
    if (fd >= 1030) break;
  }
  const high = connecting(port);
  t.teardown(() => high.close());
  t.ok(high.fileno() >= 1024, `the client's fd is ${high.fileno()}`);
  await until('the refusal', () => rejected.length === 1);
  t.equal(rejected[0].code, 'ERR_FD_OUT_OF_RANGE');
  t.equal(await echo(good, 'during'), 'during', 'the connection already open is still served');

  for (const fd of filler.splice(0)) closeSync(fd);
  const late = connecting(port);
  t.teardown(() => late.close());
  t.equal(await echo(late, 'after'), 'after', 'a new connection with a low fd is served');
  t.equal(rejected.length, 1);
});
