/**
 * line-client — the course's stand-in for `nc`: connect to a TCP server,
 * send what you type line by line, print what comes back, and hold the
 * connection open as long as you like.
 *
 * What it teaches: a client is just connect() plus send() and recv(), and
 * a connection stays open until one side closes it. The connect is
 * blocking (with an optional timeout, Python's `settimeout()`): against a
 * server whose listen backlog is full it stalls, because the kernel
 * drops the SYN and retransmits it after 1 s, 3 s, 7 s… Once connected,
 * the socket is made non-blocking and watched with a selector; the
 * selector waits in Node's own loop (`run()`), so typed lines (read by
 * Node's readline) and replies are handled by one thread, in any order.
 * Each line goes out with a `\n`, exactly as nc sends it; every reply is
 * printed as Python would show the bytes. When input ends (Ctrl-D, end of
 * the `--send` lines, or stdin from /dev/null), the client waits
 * `--hold` seconds for more replies, then closes; if the server closes
 * first, it says so and exits.
 *
 * Run:    node-selectors line-client 127.0.0.1 7788            (type lines; Ctrl-D ends)
 *         node-selectors line-client 127.0.0.1 7788 --send hello --send world
 *         node-selectors line-client 127.0.0.1 8080 --send 'GET / HTTP/1.0' --send ''
 *         node-selectors line-client 127.0.0.1 7788 --hold 60 < /dev/null   (hold it open)
 * Needs:  any TCP server: single-process-server, echo-server --forever, …
 * Flags:  --send LINE (repeatable: send these lines, all in one send(),
 *         instead of reading stdin), --hold SECONDS (after the input ends, keep the connection
 *         open this long; default 1), --timeout SECONDS (give up connecting
 *         after this long; default: wait as long as the kernel does), --quiet
 * Exit:   0 when the connection was made, 1 when connecting or sending
 *         failed.
 */

import { createInterface } from 'node:readline';
import { EVENT_READ, SOCK_STREAM, SHUT_WR, Socket, SyscallError, familyOf, formatAddress, pythonRepr } from '../lib/index.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

function seconds(ctx: ProgramContext, name: string, fallback: number | null): number | null {
  const text = ctx.flags[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== 'string' || !Number.isFinite(n) || n < 0) ctx.usageError(`invalid --${name} '${String(text)}'`);
  return n;
}

async function main(ctx: ProgramContext): Promise<number> {
  const [host, portText] = ctx.args;
  const addr: [string, number] = [host, ctx.port(portText)];
  const hold = seconds(ctx, 'hold', 1)!;
  const timeout = seconds(ctx, 'timeout', null);
  const sendLines = ctx.flags.send as unknown as string[] | undefined;

  const sock = new Socket(familyOf(addr), SOCK_STREAM);
  const started = performance.now();
  try {
    sock.settimeout(timeout);
    sock.connect(addr); // blocks: the three-way handshake (or the SYN retransmits)
  } catch (err) {
    sock.close();
    const ms = Math.round(performance.now() - started);
    console.log(`could not connect to ${formatAddress(addr)} after ${(ms / 1000).toFixed(1)} s: ${(err as Error).message}`);
    return 1;
  }
  console.log(`connected to ${formatAddress(sock.getpeername())} from ${formatAddress(sock.getsockname())}`);
  sock.setblocking(false);

  const sel = ctx.selector<null>();
  sel.register(sock, EVENT_READ, null);
  const stop = new AbortController();
  let serverClosed = false;
  let holdTimer: NodeJS.Timeout | undefined;
  const finish = (): void => stop.abort();
  ctx.signal.addEventListener('abort', finish);

  // Input: the --send lines, or stdin line by line. When it ends, hold.
  // A blocking sendall(): it waits while the server's receive buffer is
  // full (chapter 1's exercise). Ctrl-C or a reset ends it: the loop stops
  // and the error is reported below.
  let failure: unknown = null;
  const send = (line: string): void => {
    if (serverClosed || stop.signal.aborted) return;
    try {
      sock.setblocking(true);
      sock.sendall(Buffer.from(`${line}\n`));
      sock.setblocking(false);
    } catch (err) {
      failure = err;
      finish();
    }
  };
  const inputEnded = (): void => {
    if (serverClosed) return;
    holdTimer = setTimeout(finish, hold * 1000);
  };
  let rl: ReturnType<typeof createInterface> | undefined;
  if (sendLines !== undefined) {
    // All of them in one send(): they leave as one segment, as a request would.
    if (sendLines.length > 0) send(sendLines.join('\n'));
    inputEnded();
  } else {
    rl = createInterface({ input: process.stdin, terminal: false });
    rl.on('line', send);
    rl.on('close', inputEnded);
  }

  try {
    // #region run
    await sel.run(
      () => {
        const data = sock.recv(4096);
        if (data === null) return; // spurious readiness: nothing to read after all
        if (data.length === 0) {
          serverClosed = true;
          console.log('the server closed the connection');
          finish();
          return;
        }
        ctx.log('received', pythonRepr(data));
      },
      { signal: stop.signal },
    );
    // #endregion run
  } finally {
    clearTimeout(holdTimer);
    ctx.signal.removeEventListener('abort', finish);
    rl?.close();
    process.stdin.destroy();
    sel.close();
    if (!serverClosed) {
      // Half-close first (the server's recv() returns b''), as nc does at end of input.
      try {
        sock.shutdown(SHUT_WR);
      } catch {
        // already reset by the peer: nothing to tell it
      }
      console.log('closing the connection');
    }
    sock.close();
  }
  if (failure instanceof SyscallError) {
    console.error(`${ctx.name}: error: ${failure.message}`);
    return 1;
  }
  if (failure !== null) throw failure; // KeyboardInterrupt: "caught keyboard interrupt, exiting"
  return 0;
}

const spec: ProgramSpec = {
  name: 'line-client',
  usage: '<host> <port>',
  summary: 'The course: a small nc (connect, send typed lines, print replies, hold the connection open)',
  positionals: { min: 2, max: 2 },
  common: ['quiet', 'backend'],
  options: {
    send: { type: 'string', multiple: true, help: 'send this line instead of reading stdin (repeatable: all go out in one send())' },
    hold: { type: 'string', help: 'seconds to keep the connection open after the input ends (default 1)' },
    timeout: { type: 'string', help: 'seconds to wait for connect() before giving up (default: no limit)' },
  },
  help: 'Type lines; each is sent with a newline. Ctrl-D ends the input, Ctrl-C quits.',
  main,
};

export default spec;
runMain(spec, import.meta.url);
