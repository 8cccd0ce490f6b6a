/**
 * An incremental HTTP/1.x request parser for the static web server
 * (epoll-web-server): bytes go in as they arrive, in pieces of any size;
 * complete requests come out, several from one read when the client
 * pipelines them. Pure (no I/O), so it is tested byte by byte.
 *
 * It parses what a static file server needs — the request line, the
 * headers, the connection's persistence — and skips a request body framed
 * by Content-Length. Anything it cannot frame safely is an error with the
 * status to answer, after which the connection must be closed.
 */

/** A parsed request head. */
export interface HttpRequest {
  /** The method, case-sensitive (`GET`). */
  readonly method: string;
  /** The request target as sent (`/a%20b.html?x=1`). */
  readonly target: string;
  /** `1.0` or `1.1` (a later 1.x counts as 1.1). */
  readonly version: '1.0' | '1.1';
  /** The request line, for the access log. */
  readonly line: string;
  /** Header values by lower-case name; repeated headers joined with `, `. */
  readonly headers: ReadonlyMap<string, string>;
  /** Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`). */
  readonly keepAlive: boolean;
}

/** A request the server cannot handle: answer `status`, then close. */
export interface HttpRequestError {
  readonly status: 400 | 431 | 501 | 505;
  readonly reason: string;
  /** The request line, when it could be read. */
  readonly line: string | null;
}

/** What {@link RequestParser.next} returns. */
export type ParseResult = { readonly kind: 'request'; readonly request: HttpRequest } | { readonly kind: 'error'; readonly error: HttpRequestError };

/** The most bytes a request head (request line and headers) may take. */
export const MAX_HEAD = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
// Field values: visible ASCII, spaces, tabs and obs-text; no other control characters.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Incremental request parser: `push()` bytes, then call `next()` until it returns null. */
export class RequestParser {
  #buf: Buffer = Buffer.alloc(0);
  #skip = 0;
  #failed = false;

  /** Bytes received and not yet consumed (a partial request, or requests not yet taken). */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Add received bytes. */
  push(data: Buffer): void {
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
  }

  /**
   * The next complete request, an error (then the parser is done: close
   * the connection), or null when more bytes are needed.
   */
  next(): ParseResult | null {
    if (this.#failed) return null;
    if (this.#skip > 0) {
      // The body of the previous request: not used by a static server, skipped.
      const n = Math.min(this.#skip, this.#buf.length);
      this.#buf = this.#buf.subarray(n);
      this.#skip -= n;
      if (this.#skip > 0) return null;
    }
    // RFC 9112 2.2: ignore empty lines before a request line.
    let start = 0;
    while (start < this.#buf.length && (this.#buf[start] === 0x0d || this.#buf[start] === 0x0a)) start++;
    if (start > 0) this.#buf = this.#buf.subarray(start);
    const end = headEnd(this.#buf);
    if (end === null) {
      if (this.#buf.length > MAX_HEAD) return this.#fail(431, 'request head too large', firstLine(this.#buf));
      return null;
    }
    if (end.headLength > MAX_HEAD) return this.#fail(431, 'request head too large', firstLine(this.#buf));
    const head = this.#buf.subarray(0, end.headLength).toString('latin1');
    this.#buf = this.#buf.subarray(end.headLength + end.terminatorLength);
    const result = parseHead(head);
    if ('status' in result) {
      this.#failed = true;
      return { kind: 'error', error: result };
    }
    this.#skip = result.bodyLength;
    return { kind: 'request', request: result.request };
  }

  #fail(status: HttpRequestError['status'], reason: string, line: string | null): ParseResult {
    this.#failed = true;
    return { kind: 'error', error: { status, reason, line } };
  }
}

/**
 * Where the head ends: at the first empty line, whatever the line ends
 * (CRLF CRLF from browsers and curl, LF LF or LF CRLF as `nc` users type).
 */
function headEnd(buf: Buffer): { headLength: number; terminatorLength: number } | null {
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return { headLength: i, terminatorLength: 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headLength: i, terminatorLength: 3 };
  }
  return null;
}

function firstLine(buf: Buffer): string | null {
  const nl = buf.indexOf('\n');
  const line = buf.subarray(0, nl < 0 ? Math.min(buf.length, 200) : nl).toString('latin1').replace(/\r$/, '');
  return line.length > 0 ? line : null;
}

function parseHead(head: string): { request: HttpRequest; bodyLength: number } | HttpRequestError {
  const lines = head.replace(/\r$/, '').split(/\r?\n/);
  const line = lines[0];
  const m = REQUEST_LINE.exec(line);
  if (m === null || !TOKEN.test(m[1])) return { status: 400, reason: 'malformed request line', line };
  const [, method, target, major, minor] = m;
  if (major !== '1') return { status: 505, reason: `HTTP/${major}.${minor} not supported`, line };
  if (/[\x00-\x20\x7f]/.test(target)) return { status: 400, reason: 'malformed request target', line };
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i];
    // Obsolete line folding (a line starting with white space) is rejected (RFC 9112 5.2).
    if (/^[ \t]/.test(text)) return { status: 400, reason: 'folded header line', line };
    const colon = text.indexOf(':');
    if (colon <= 0) return { status: 400, reason: 'malformed header line', line };
    const name = text.slice(0, colon);
    const value = text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return { status: 400, reason: 'malformed header line', line };
    const key = name.toLowerCase();
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  if (headers.has('transfer-encoding')) return { status: 501, reason: 'request bodies with Transfer-Encoding are not supported', line };
  let bodyLength = 0;
  const contentLength = headers.get('content-length');
  if (contentLength !== undefined) {
    // Repeated headers were joined: every copy must be the same number (RFC 9112 6.3).
    const values = new Set(contentLength.split(',').map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) return { status: 400, reason: 'bad Content-Length', line };
    bodyLength = Number(only);
  }
  const version = minor === '0' ? '1.0' : '1.1';
  const tokens = (headers.get('connection') ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const keepAlive = !tokens.includes('close') && (version === '1.1' || tokens.includes('keep-alive'));
  return { request: { method, target, version, line, headers, keepAlive }, bodyLength };
}
