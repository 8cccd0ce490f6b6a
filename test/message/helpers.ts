// Shared by the Message suites: a server running in Node's loop, clients
// driven by their own selector, raw sockets for misbehaving peers.
import type { Test } from 'tap';
import { Socket, AF_INET, SOCK_STREAM } from '../../lib/socket/index.js';
import { DefaultSelector, type BaseSelector } from '../../selectors/index.js';
import { Message, MessageServer, type MessageLoop, type MessageServerOptions } from '../../lib/message/index.js';
import { Proactor } from '../../lib/uring/index.js';

/**
 * The engine these suites run on: `TEST_MESSAGE_ENGINE=uring` (set by the
 * wrappers in test/message/uring/) puts servers and clients on a Proactor;
 * otherwise selectors (epoll).
 */
export const ENGINE: 'epoll' | 'uring' = process.env.TEST_MESSAGE_ENGINE === 'uring' ? 'uring' : 'epoll';

/** A MessageServer on 127.0.0.1:<ephemeral>, running until teardown. */
export function startServer(t: Test, options: MessageServerOptions): { server: MessageServer; port: number; done: Promise<void> } {
  const server = new MessageServer(['127.0.0.1', 0], ENGINE === 'uring' && options.selector === undefined ? { engine: 'uring', ...options } : options);
  const port = server.address()[1] as number;
  const ac = new AbortController();
  const done = server.run({ signal: ac.signal });
  t.teardown(async () => {
    ac.abort();
    await done;
    server.close();
  });
  return { server, port, done };
}

/** A non-blocking socket connecting to 127.0.0.1:port (connect in progress). */
export function connecting(port: number): Socket {
  const sock = new Socket(AF_INET, SOCK_STREAM);
  sock.setblocking(false);
  sock.connectEx(['127.0.0.1', port]);
  return sock;
}

/** A selector (or, on the uring engine, a Proactor) for client Messages, closed at teardown. */
export function clientSelector(t: Test): MessageLoop {
  const sel = ENGINE === 'uring' ? new Proactor() : new DefaultSelector();
  t.teardown(() => sel.close());
  return sel;
}

/**
 * Drive client Messages on `sel` until every one of `messages` closed (or
 * `ms` passed: then the remaining ones are closed and the promise rejects).
 */
export async function drive(sel: MessageLoop, messages: Message[], ms = 10_000): Promise<void> {
  let open = messages.filter((m) => !m.closed).length;
  if (open === 0) return;
  const ac = new AbortController();
  for (const m of messages) m.on('close', () => {
    if (--open === 0) ac.abort();
  });
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, ms);
  if (sel instanceof Proactor) {
    sel.start(); // may finish everything at once (a refused connect)
    if (!ac.signal.aborted) await new Promise((resolve) => ac.signal.addEventListener('abort', resolve, { once: true }));
    sel.stop();
  } else {
    await sel.run((key, mask) => (key.data as Message).processEvents(mask), { signal: ac.signal });
  }
  clearTimeout(guard);
  if (timedOut) {
    for (const m of messages) m.close();
    throw new Error(`clients still open after ${ms} ms`);
  }
}

/** Wait until `cond()` holds, polling Node's loop (bounded). */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Run `sel` synchronously (100 ms waits, at most `turns` of them) until `cond()` holds. */
export function pumpUntil(sel: MessageLoop, cond: () => boolean, turns = 50): void {
  for (let i = 0; i < turns && !cond(); i++) {
    if (sel instanceof Proactor) sel.turn(100);
    else for (const [key, mask] of sel.select(0.1)) (key.data as Message).processEvents(mask);
  }
  // What the callbacks queued (an echo's send) goes to the kernel with the next enter.
  if (sel instanceof Proactor) sel.turn(0);
}
