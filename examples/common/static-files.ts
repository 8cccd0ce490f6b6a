/**
 * The file side of the static web server (epoll-web-server): mapping a
 * request target to a file under the document root without ever leaving
 * it, Content-Type by extension, and the status lines and error pages.
 * No sockets here.
 */

import { realpathSync, statSync, type Stats } from 'node:fs';
import { extname, join, sep } from 'node:path';

/** What a request target maps to. */
export type Resolution =
  | { readonly kind: 'file'; readonly path: string; readonly stats: Stats }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'error'; readonly status: 400 | 403 | 404; readonly reason: string };

/**
 * Map a request target to a file under `root` (which must be a real path:
 * pass it through realpathSync once at start-up).
 *
 * - The target is origin-form (`/a/b.html?q`) or absolute-form
 *   (`http://host/a/b.html`); the query and fragment are dropped, the path
 *   percent-decoded (invalid escapes, NUL bytes → 400).
 * - A `..` segment — typed or encoded (`%2e%2e`, `..%2f`) — is a 403: the
 *   path is never normalised upwards.
 * - The file's real path (symlinks resolved) must lie inside the root: a
 *   symlink that leads out is a 403. A missing file is a 404.
 * - A directory is served by its index.html; `/dir` without the slash is
 *   redirected to `/dir/` so relative links in the page work. Anything
 *   that is neither a regular file nor a directory (a FIFO, a device) is
 *   a 403: opening it could block the server.
 */
export function resolveTarget(root: string, target: string): Resolution {
  let pathPart = target;
  const absolute = /^https?:\/\/[^/?#]*/i.exec(pathPart);
  if (absolute !== null) pathPart = pathPart.slice(absolute[0].length) || '/';
  if (!pathPart.startsWith('/')) return { kind: 'error', status: 400, reason: 'the target is not a path' };
  const cut = pathPart.search(/[?#]/);
  const rawPath = cut < 0 ? pathPart : pathPart.slice(0, cut);
  const query = cut < 0 ? '' : pathPart.slice(cut).replace(/#.*$/, '');
  // #region path-checks
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { kind: 'error', status: 400, reason: 'bad percent-encoding' };
  }
  if (decoded.includes('\0')) return { kind: 'error', status: 400, reason: 'NUL in path' };
  const segments = decoded.split('/');
  if (segments.includes('..')) return { kind: 'error', status: 403, reason: 'path leaves the root' };
  const parts = segments.filter((s) => s !== '' && s !== '.');
  const found = realInside(root, join(root, ...parts));
  if (found.kind === 'error') return found;
  // #endregion path-checks
  if (found.stats.isDirectory()) {
    // Rebuilt from the segments: `//evil.example` must not become a protocol-relative Location.
    if (!decoded.endsWith('/')) {
      const dir = parts.length === 0 ? '/' : `/${parts.map(encodeURIComponent).join('/')}/`;
      return { kind: 'redirect', location: dir + query };
    }
    return resolveIndex(root, found.path);
  }
  if (!found.stats.isFile()) return { kind: 'error', status: 403, reason: 'not a regular file' };
  return found;
}

function resolveIndex(root: string, dir: string): Resolution {
  const found = realInside(root, join(dir, 'index.html'));
  if (found.kind === 'error') return found;
  if (!found.stats.isFile()) return { kind: 'error', status: 404, reason: 'no index.html' };
  return found;
}

/** The real path of `path` and its stats, if it exists and lies inside `root`. */
function realInside(root: string, path: string): { kind: 'file'; path: string; stats: Stats } | { kind: 'error'; status: 403 | 404; reason: string } {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'ELOOP') return { kind: 'error', status: 403, reason: code };
    return { kind: 'error', status: 404, reason: code ?? 'not found' };
  }
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    return { kind: 'error', status: 403, reason: 'a symlink leads out of the root' };
  }
  try {
    return { kind: 'file', path: real, stats: statSync(real) };
  } catch {
    return { kind: 'error', status: 404, reason: 'not found' };
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

/** The Content-Type of a file, by its extension (`application/octet-stream` when unknown). */
export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The reason phrases the server uses. */
export const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page for an error status (the 404 page keeps the seed's message). */
export function errorPage(status: number, detail?: string): Buffer {
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  const text = status === 404 ? 'file not found, 请输入正确的url (please check the URL)' : (detail ?? title);
  return Buffer.from(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>\n` +
      `<body><h1>${title}</h1><p>${escapeHtml(text)}</p><hr><p>node-selectors epoll-web-server</p></body></html>\n`,
  );
}

/** A small file held in memory by {@link FileCache}. */
export interface CachedFile {
  /** The file's real path (inside the root when it was resolved). */
  readonly path: string;
  readonly body: Buffer;
  readonly contentType: string;
  /** Last-Modified, formatted. */
  readonly lastModified: string;
  readonly mtimeMs: number;
  readonly ino: number;
  /** When the request target was last resolved to `path` (ms, monotonic). */
  resolvedAt: number;
}

/**
 * Small hot files kept in memory, so that a request for one costs a single
 * stat() instead of resolving the path (an lstat per component), opening,
 * reading and closing the file. Each hit is revalidated: the file's size,
 * mtime and inode must be what they were when it was read, or the entry is
 * dropped and the request served from disk. The target → real path mapping
 * (the root check) is redone at least every `resolveMs`, so a symlink
 * changed since then is seen within that time; a mapping only ever points
 * at a path that was checked to be inside the root. At most `maxBytes` in
 * all, the oldest entries evicted first.
 */
export class FileCache {
  readonly #entries = new Map<string, CachedFile>();
  readonly #maxBytes: number;
  readonly #resolveMs: number;
  #bytes = 0;

  constructor(maxBytes = 16 * 1024 * 1024, resolveMs = 1000) {
    this.#maxBytes = maxBytes;
    this.#resolveMs = resolveMs;
  }

  /** The cached file for a request target, if its entry is still valid. */
  get(target: string, now: number): CachedFile | undefined {
    const entry = this.#entries.get(target);
    if (entry === undefined) return undefined;
    const stats = now - entry.resolvedAt < this.#resolveMs ? statSync(entry.path, { throwIfNoEntry: false }) : undefined;
    if (stats !== undefined && stats.isFile() && stats.size === entry.body.length && stats.mtimeMs === entry.mtimeMs && stats.ino === entry.ino) return entry;
    this.#drop(target, entry);
    return undefined;
  }

  /** Remember a file just read from disk for `target`. */
  set(target: string, path: string, stats: Stats, body: Buffer, now: number): void {
    if (body.length > this.#maxBytes) return;
    const old = this.#entries.get(target);
    if (old !== undefined) this.#drop(target, old);
    while (this.#bytes + body.length > this.#maxBytes) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, CachedFile];
      this.#drop(oldest, entry);
    }
    this.#entries.set(target, {
      path, body, contentType: contentType(path), lastModified: stats.mtime.toUTCString(), mtimeMs: stats.mtimeMs, ino: stats.ino, resolvedAt: now,
    });
    this.#bytes += body.length;
  }

  #drop(target: string, entry: CachedFile): void {
    this.#entries.delete(target);
    this.#bytes -= entry.body.length;
  }
}

let dateSecond = -1;
let dateText = '';

/** The Date header's value: formatted once a second at most. */
function httpDate(): string {
  const ms = Date.now();
  const second = Math.floor(ms / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(ms).toUTCString();
  }
  return dateText;
}

/** A response head: status line, the given headers, a Date and Server header, the blank line. */
export function responseHead(status: number, headers: Array<[string, string | number]>): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\nServer: node-selectors-epoll-web-server\r\nDate: ${httpDate()}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}
