/**
 * epoll-web-server — the static web server on epoll of "select, poll and
 * epoll in Python" (seed 003), made into a real one: it serves a directory
 * over HTTP/1.1 with persistent connections, one thread, one epoll object.
 *
 * What it teaches: a complete non-blocking server. Each connection has an
 * input side (bytes are fed to an incremental request parser, so a request
 * split across reads, or several pipelined in one read, are both handled)
 * and an output queue (response heads, small files from memory — kept in
 * a cache revalidated by stat() — and large files handed to the kernel
 * with sendfile(2) as the socket drains). The loop asks epoll for
 * EPOLLOUT only while a connection has output pending — a socket is
 * almost always writable, so watching it for ever would spin — and stops
 * reading from a connection whose queue is full, so a client that sends
 * requests without reading the answers is slowed down by TCP instead of
 * filling the server's memory. Keep-alive needs Content-Length on every
 * response: it is how the client knows where one response ends. The seed
 * registered the server socket edge-triggered but accepted once per
 * event, which loses connections that arrive together; this loop is
 * level-triggered and accepts until accept() would block.
 *
 * HTTP: GET and HEAD (other methods: 405); HTTP/1.1 connections persist
 * unless the client sends `Connection: close`, HTTP/1.0 ones only with
 * `Connection: keep-alive`; Content-Type by extension; `/` and directories
 * serve index.html; 404 page; 400 for malformed requests (then the
 * connection closes). Paths are percent-decoded and never leave the root:
 * `..` segments (also as %2e%2e) and symlinks that lead outside are 403.
 * Bad input costs its own connection only; idle connections are closed
 * after --idle-timeout seconds, and a request head begun must be complete
 * within --request-timeout seconds (408, then the connection closes), so a
 * client that drips one byte at a time cannot hold a connection for ever.
 * Both are checked by one sweep a second: no timer per request.
 *
 * Run:    node-selectors epoll-web-server                  (127.0.0.1:7890, the sample site)
 *         node-selectors epoll-web-server 7890             (the seed's `python3 xxx.py 7890`)
 *         node-selectors epoll-web-server --root ./public 0.0.0.0 8000
 * Talk:   open http://127.0.0.1:7890/ in a browser
 *         curl -v http://127.0.0.1:7890/ http://127.0.0.1:7890/style.css   (one connection, reused)
 *         printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 7890
 * Flags:  --root DIR, --idle-timeout SECONDS (default 60), --request-timeout
 *         SECONDS (default 30), --backlog N (default 128, as the seed),
 *         --trace, --quiet (no access log)
 */

import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync, constants as fsConstants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  familyOf,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  KeyboardInterrupt,
  SHUT_WR,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  Socket,
  SyscallError,
  select,
  type SocketAddress,
} from '../lib/index.js';
import { RequestParser, type ParseResult } from './common/http-request.js';
import { contentType, errorPage, FileCache, resolveTarget, responseHead } from './common/static-files.js';
import { epollEventNames, printListening, traceEvent } from './common/raw-loop.js';
import { runMain, type ProgramContext, type ProgramSpec } from './common/program.js';

/** Bytes asked of recv() per read. */
const READ_SIZE = 64 * 1024;
/** Files up to this size are read whole and sent with their head in one piece. */
const SMALL_FILE = 64 * 1024;
/** Output items a connection may have queued before the server stops reading its requests. */
const MAX_QUEUED = 16;
/** How long a connection that was answered and shut down may take to close its side. */
const LINGER_MS = 2000;

/** A file being sent with sendfile(2), a piece at a time, as the socket takes them. */
interface FileBody {
  readonly fd: number;
  position: number;
  remaining: number;
}

type OutItem = Buffer | FileBody;

/** One client connection. */
class Connection {
  readonly parser = new RequestParser();
  /** Output not yet handed to the kernel, in order. */
  readonly out: OutItem[] = [];
  /** The last response said `Connection: close`: no more requests are read. */
  closeAfterOutput = false;
  /** Everything is sent and the write side shut down: waiting for the client to close. */
  draining = false;
  /** The client shut down its side (recv returned no bytes). */
  peerClosed = false;
  /** The mask the fd is registered with. */
  mask = EPOLLIN;
  closed = false;
  lastActive: number;
  /** When the bytes of a request not yet complete started to arrive (0: none pending). */
  requestSince = 0;

  constructor(
    readonly sock: Socket,
    readonly fd: number,
    readonly address: SocketAddress,
    readonly peer: string,
    now: number,
  ) {
    this.lastActive = now;
  }
}

function peerText(address: SocketAddress): string {
  if (Array.isArray(address)) return String(address[0]).includes(':') ? `[${address[0]}]:${address[1]}` : `${address[0]}:${address[1]}`;
  return String(address);
}

/** Printable text for the access log (a request line may hold any byte). */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/"/g, '\\"');
}

/** The seed's WSGIServer: a listening socket, an epoll object, and the connections by fd. */
class StaticServer {
  readonly #ctx: ProgramContext;
  readonly #root: string;
  readonly #server: Socket;
  readonly #serverfd: number;
  readonly #epoll: select.Epoll;
  readonly #idleMs: number;
  readonly #requestMs: number;
  readonly #conns = new Map<number, Connection>();
  // Small hot files, revalidated by stat() on every hit (see FileCache).
  readonly #cache = new FileCache();
  #now = Date.now();
  #lastSweep = this.#now;
  #acceptPausedUntil = 0;

  constructor(ctx: ProgramContext, root: string, server: Socket, epoll: select.Epoll, idleMs: number, requestMs: number) {
    this.#ctx = ctx;
    this.#root = root;
    this.#server = server;
    this.#serverfd = server.fileno();
    this.#epoll = epoll;
    this.#idleMs = idleMs;
    this.#requestMs = requestMs;
    epoll.register(this.#serverfd, EPOLLIN);
  }

  /** Run the loop until Ctrl-C (KeyboardInterrupt out of epoll.poll()). */
  runForever(): void {
    for (;;) {
      // Wake at least once a second to close idle and too slow connections.
      const events = this.#epoll.poll(1);
      this.#now = Date.now();
      for (const [fd, event] of events) {
        if (fd === this.#serverfd) {
          traceEvent(this.#ctx, fd, 'listening socket', epollEventNames(event));
          this.#acceptAll();
          continue;
        }
        const conn = this.#conns.get(fd);
        if (conn === undefined) continue;
        traceEvent(this.#ctx, fd, conn.address, epollEventNames(event));
        try {
          if (event & (EPOLLHUP | EPOLLERR)) {
            // Reset, or both sides shut down: nothing more can be sent.
            this.#close(conn);
            continue;
          }
          if (event & EPOLLIN) this.#onReadable(conn);
          if (!conn.closed && event & EPOLLOUT) this.#pump(conn);
          if (!conn.closed) this.#updateInterest(conn);
        } catch (err) {
          this.#fail(conn, err);
        }
      }
      if (this.#now - this.#lastSweep >= 1000) this.#sweep();
    }
  }

  /** Close every connection and the epoll object's registrations. */
  close(): void {
    for (const conn of [...this.#conns.values()]) this.#close(conn);
    try {
      this.#epoll.unregister(this.#serverfd);
    } catch {
      // already gone
    }
  }

  #acceptAll(): void {
    // Level-triggered: accepting until would-block is not required, but saves a wait per connection.
    for (let i = 0; i < 64; i++) {
      let accepted: [Socket, SocketAddress] | null;
      try {
        accepted = this.#server.accept();
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        console.log(`error: accept: ${err.message}`);
        if (['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM'].includes(err.code)) {
          // Out of fds: the pending connection stays queued and the socket stays readable.
          // Stop watching it for a second rather than spin.
          this.#epoll.modify(this.#serverfd, 0);
          this.#acceptPausedUntil = this.#now + 1000;
        }
        return;
      }
      if (accepted === null) return;
      const [sock, address] = accepted;
      sock.setblocking(false);
      const conn = new Connection(sock, sock.fileno(), address, peerText(address), this.#now);
      this.#epoll.register(conn.fd, EPOLLIN);
      this.#conns.set(conn.fd, conn);
    }
  }

  #onReadable(conn: Connection): void {
    const data = conn.sock.recv(READ_SIZE);
    if (data === null) return;
    if (data.length === 0) {
      conn.peerClosed = true;
      // Answers still queued for a client that only shut down its sending side are still sent.
      if (conn.draining || conn.out.length === 0) this.#close(conn);
      return;
    }
    // After Connection: close, the rest is ignored (and does not keep a lingering connection alive).
    if (conn.draining || conn.closeAfterOutput) return;
    conn.lastActive = this.#now;
    // The first bytes of a request start its deadline (see #sweep).
    if (conn.parser.buffered === 0) conn.requestSince = this.#now;
    conn.parser.push(data);
    this.#pump(conn);
  }

  /** Answer the buffered requests and send, as long as both make progress. */
  #pump(conn: Connection): void {
    for (;;) {
      let added = 0;
      while (!conn.closeAfterOutput && conn.out.length < MAX_QUEUED) {
        const result = conn.parser.next();
        if (result === null) break;
        // A whole request: the next one's deadline starts now, if its bytes are here already.
        conn.requestSince = conn.parser.buffered > 0 ? this.#now : 0;
        this.#dealWithRequest(conn, result);
        added++;
      }
      // Stopped by the queue limit, not by a lack of whole requests: once the
      // queue drains, answer on. Pipelined requests already read wait in the
      // parser, and no EPOLLIN would come for them.
      const full = conn.out.length >= MAX_QUEUED;
      const drained = this.#flush(conn);
      if (!drained || (added === 0 && !full)) return;
    }
  }

  /** Hand queued output to the kernel until it is all sent or send() would block; true when all is sent. */
  #flush(conn: Connection): boolean {
    const { out, sock } = conn;
    while (out.length > 0) {
      const item = out[0];
      if (Buffer.isBuffer(item)) {
        const sent = sock.send(item);
        if (sent === null) return false; // the send buffer is full: wait for EPOLLOUT
        conn.lastActive = this.#now;
        if (sent < item.length) {
          out[0] = item.subarray(sent);
          return false;
        }
        out.shift();
        continue;
      }
      if (item.remaining === 0) {
        closeSync(item.fd);
        out.shift();
        continue;
      }
      // sendfile(2): the kernel copies from the page cache to the socket, no pass through JavaScript.
      const n = sock.sendfile(item.fd, item.position, item.remaining);
      if (n === null) return false; // the send buffer is full: wait for EPOLLOUT
      // Content-Length is promised: a file that shrank leaves the response unfinishable.
      if (n === 0) throw new Error('file shrank while being sent');
      conn.lastActive = this.#now;
      item.position += n;
      item.remaining -= n;
    }
    return true;
  }

  /** Watch for EPOLLIN while requests are wanted, EPOLLOUT only while output is pending. */
  #updateInterest(conn: Connection): void {
    if (conn.out.length === 0) {
      if (conn.closeAfterOutput && !conn.draining) {
        // Everything is sent: shut down our side and let the client close first, so that
        // unread request bytes cannot make the kernel reset the connection under the response.
        conn.sock.shutdown(SHUT_WR);
        conn.draining = true;
        conn.lastActive = this.#now;
      }
      if (conn.peerClosed) {
        this.#close(conn);
        return;
      }
    }
    const wantRead =
      !conn.peerClosed &&
      (conn.draining ||
        (!conn.closeAfterOutput && (conn.out.length === 0 || (conn.out.length < MAX_QUEUED && conn.parser.buffered < 4 * READ_SIZE))));
    const mask = (wantRead ? EPOLLIN : 0) | (conn.out.length > 0 ? EPOLLOUT : 0);
    if (mask !== conn.mask) {
      this.#epoll.modify(conn.fd, mask);
      conn.mask = mask;
    }
  }

  /** The seed's deal_with_request: queue the response to one request (or parse error). */
  #dealWithRequest(conn: Connection, result: ParseResult): void {
    if (result.kind === 'error') {
      const { status, reason, line } = result.error;
      conn.closeAfterOutput = true;
      this.#queueError(conn, line, status, false, [], reason);
      return;
    }
    const request = result.request;
    const head = request.method === 'HEAD';
    if (!request.keepAlive) conn.closeAfterOutput = true;
    const connection: Array<[string, string]> = conn.closeAfterOutput
      ? [['Connection', 'close']]
      : request.version === '1.0'
        ? [['Connection', 'keep-alive']]
        : [];
    if (request.method !== 'GET' && !head) {
      this.#queueError(conn, request.line, 405, false, [['Allow', 'GET, HEAD'], ...connection]);
      return;
    }
    const now = performance.now();
    const cached = this.#cache.get(request.target, now);
    if (cached !== undefined) {
      const headers: Array<[string, string | number]> = [
        ['Content-Type', cached.contentType], ['Content-Length', cached.body.length], ['Last-Modified', cached.lastModified], ...connection,
      ];
      this.#log(conn, request.line, 200, head ? 0 : cached.body.length);
      conn.out.push(head ? responseHead(200, headers) : Buffer.concat([responseHead(200, headers), cached.body]));
      return;
    }
    const found = resolveTarget(this.#root, request.target);
    if (found.kind === 'error') {
      this.#queueError(conn, request.line, found.status, head, connection, found.reason);
      return;
    }
    if (found.kind === 'redirect') {
      const body = Buffer.from(`<!doctype html>\n<title>301 Moved Permanently</title><p>See <a href="${found.location}">${found.location}</a></p>\n`);
      this.#queue(conn, request.line, 301, head, [['Location', found.location], ['Content-Type', 'text/html; charset=utf-8'], ...connection], body);
      return;
    }
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO swapped in since resolveTarget() must not block the server.
      fd = openSync(found.path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      // Gone since resolveTarget(): 404; not allowed: 403; out of fds (a transient state): 503.
      const status = ['ENOENT', 'ENOTDIR'].includes(code) ? 404 : ['EACCES', 'EPERM', 'ELOOP'].includes(code) ? 403 : ['EMFILE', 'ENFILE'].includes(code) ? 503 : 500;
      this.#queueError(conn, request.line, status, head, status === 503 ? [['Retry-After', '1'], ...connection] : connection, code);
      return;
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) {
        this.#queueError(conn, request.line, 403, head, connection, 'not a regular file');
        return;
      }
      const headers: Array<[string, string | number]> = [
        ['Content-Type', contentType(found.path)],
        ['Content-Length', stats.size],
        ['Last-Modified', stats.mtime.toUTCString()],
        ...connection,
      ];
      this.#log(conn, request.line, 200, head ? 0 : stats.size);
      if (head) {
        conn.out.push(responseHead(200, headers));
      } else if (stats.size <= SMALL_FILE) {
        const body = Buffer.allocUnsafe(stats.size);
        let got = 0;
        while (got < body.length) {
          const n = readSync(fd, body, got, body.length - got, got);
          if (n === 0) break;
          got += n;
        }
        if (got < body.length) throw new Error('file shrank while being read');
        this.#cache.set(request.target, found.path, stats, body, now);
        conn.out.push(Buffer.concat([responseHead(200, headers), body]));
      } else {
        conn.out.push(responseHead(200, headers), { fd, position: 0, remaining: stats.size });
        fd = -1; // now owned by the output queue
      }
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  #queueError(conn: Connection, line: string | null, status: number, head: boolean, headers: Array<[string, string]>, reason?: string): void {
    const body = errorPage(status, reason);
    const closing: Array<[string, string]> = conn.closeAfterOutput && !headers.some(([n]) => n === 'Connection') ? [['Connection', 'close']] : [];
    this.#queue(conn, line, status, head, [['Content-Type', 'text/html; charset=utf-8'], ...headers, ...closing], body);
  }

  #queue(conn: Connection, line: string | null, status: number, head: boolean, headers: Array<[string, string]>, body: Buffer): void {
    this.#log(conn, line, status, head ? 0 : body.length);
    const bytes = responseHead(status, [...headers, ['Content-Length', body.length]]);
    conn.out.push(head ? bytes : Buffer.concat([bytes, body]));
  }

  /** The access log: `127.0.0.1:50312 "GET /style.css HTTP/1.1" 200 412`. */
  #log(conn: Connection, line: string | null, status: number, bytes: number): void {
    this.#ctx.log(`${conn.peer} "${line === null ? '-' : printable(line)}" ${status} ${bytes}`);
  }

  #fail(conn: Connection, err: unknown): void {
    if (err instanceof KeyboardInterrupt) throw err;
    // One connection's failure (a reset, a bug triggered by its input) never stops the server.
    const message = err instanceof SyscallError ? err.message : `internal error: ${err instanceof Error ? err.message : String(err)}`;
    this.#ctx.log(`error: ${conn.peer}: ${message}`);
    this.#close(conn);
  }

  #close(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.#conns.delete(conn.fd);
    try {
      this.#epoll.unregister(conn.fd);
    } catch {
      // not registered any more
    }
    conn.sock.close();
    for (const item of conn.out) if (!Buffer.isBuffer(item)) closeSync(item.fd);
    conn.out.length = 0;
  }

  /**
   * Close connections idle for too long (and lingering ones after
   * LINGER_MS); answer 408 to those whose request head is still incomplete
   * after --request-timeout; resume accepting.
   */
  #sweep(): void {
    this.#lastSweep = this.#now;
    if (this.#acceptPausedUntil !== 0 && this.#now >= this.#acceptPausedUntil) {
      this.#acceptPausedUntil = 0;
      this.#epoll.modify(this.#serverfd, EPOLLIN);
    }
    for (const conn of [...this.#conns.values()]) {
      const limit = conn.draining ? LINGER_MS : this.#idleMs;
      if (this.#now - conn.lastActive > limit) {
        if (!conn.draining) this.#ctx.log(`${conn.peer} idle for ${Math.round(limit / 1000)} s: closing`);
        this.#close(conn);
        continue;
      }
      // Only while the server waits on the client: nothing of ours is queued.
      if (conn.requestSince !== 0 && conn.out.length === 0 && !conn.closeAfterOutput && this.#now - conn.requestSince > this.#requestMs) {
        this.#ctx.log(`${conn.peer} request not complete after ${Math.round(this.#requestMs / 1000)} s: 408, closing`);
        conn.requestSince = 0;
        conn.closeAfterOutput = true;
        try {
          this.#queueError(conn, null, 408, false, [], 'the request took too long to arrive');
          this.#flush(conn);
          this.#updateInterest(conn);
        } catch (err) {
          this.#fail(conn, err);
        }
      }
    }
  }
}

/** The sample site: examples/site, next to this file (source) or two levels up (dist/examples). */
function defaultRoot(): string {
  for (const relative of ['./site/', '../../examples/site/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('./site/', import.meta.url));
}

function main(ctx: ProgramContext): void {
  // `epoll-web-server 7890` is the seed's `python3 xxx.py 7890`: one number is the port.
  const args = ctx.args.length === 1 && /^\d+$/.test(ctx.args[0]) ? ['127.0.0.1', ctx.args[0]] : ctx.args;
  const [host = '127.0.0.1', portText] = args;
  const port = portText === undefined ? 7890 : ctx.port(portText);
  const idle = ctx.flags['idle-timeout'] === undefined ? 60 : Number(ctx.flags['idle-timeout']);
  if (!(idle > 0)) ctx.usageError(`invalid --idle-timeout '${String(ctx.flags['idle-timeout'])}'`);
  const requestTimeout = ctx.flags['request-timeout'] === undefined ? 30 : Number(ctx.flags['request-timeout']);
  if (!(requestTimeout > 0)) ctx.usageError(`invalid --request-timeout '${String(ctx.flags['request-timeout'])}'`);
  const rootArg = typeof ctx.flags.root === 'string' ? ctx.flags.root : defaultRoot();
  let root: string;
  try {
    root = realpathSync(rootArg);
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch {
    return ctx.usageError(`--root: '${rootArg}' is not a directory`);
  }

  const serverSocket = new Socket(familyOf([host, port]), SOCK_STREAM);
  let epoll: select.Epoll | null = null;
  let server: StaticServer | null = null;
  try {
    serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    serverSocket.bind([host, port]);
    serverSocket.listen(ctx.backlog(128));
    serverSocket.setblocking(false);
    epoll = select.epoll();
    server = new StaticServer(ctx, root, serverSocket, epoll, idle * 1000, requestTimeout * 1000);
    // Printed once everything is set up: tests (and scripts) may connect as soon as they see it.
    printListening(serverSocket, host);
    console.log('serving', root);
    server.runForever();
  } finally {
    server?.close();
    epoll?.close();
    serverSocket.close();
  }
}

const spec: ProgramSpec = {
  name: 'epoll-web-server',
  usage: '[host] [port]',
  summary: 'static web server on epoll (HTTP/1.1 keep-alive, HEAD, 404, pipelining)',
  positionals: { min: 0, max: 2 },
  common: ['trace', 'quiet', 'backlog'],
  traceEvents: 'EPOLLIN/EPOLLOUT/EPOLLHUP…',
  options: {
    root: { type: 'string', help: 'the directory to serve (default: the sample site, examples/site)' },
    'idle-timeout': { type: 'string', help: 'close a connection idle for this many seconds (default 60)' },
    'request-timeout': { type: 'string', help: 'a request head begun must be complete within this many seconds, else 408 and close (default 30)' },
  },
  help: `Open http://127.0.0.1:7890/ in a browser, or: curl -v http://127.0.0.1:7890/

Defaults: 127.0.0.1:7890 (the seed's example port; it binds every address,
pass 0.0.0.0 for that), backlog 128 as in the seed. A single number is taken
as the port, like the seed's "python3 xxx.py 7890". Port 0 picks a free port.
The access log (one line per response) goes to stdout; --quiet silences it.`,
  main,
};

export default spec;
runMain(spec, import.meta.url);
