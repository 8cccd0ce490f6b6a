/**
 * The Node `http` peer of the HTTP benchmark (bench/http.ts): what a Node
 * user writes without this library. Without --file it answers every request
 * with the epoll howto's "Hello, world!" (text/plain, Content-Length 13);
 * with --file it serves that file's bytes for every path, read once at
 * start (the most favourable case for it: no disk access per request).
 * Keep-alive and Connection: close both work as Node's http does them.
 *
 * usage: node dist/bench/node-http-server.js [--file PATH] HOST PORT
 * Prints "listening on HOST:PORT"; exits 0 on SIGINT/SIGTERM.
 */

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { file: { type: 'string' } } });
const [host = '127.0.0.1', portArg = '0'] = positionals;
const body = values.file !== undefined ? readFileSync(values.file) : Buffer.from('Hello, world!');
const type = values.file !== undefined ? (values.file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream') : 'text/plain';

const server = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.keepAliveTimeout = 60_000;
server.listen({ host, port: Number(portArg), backlog: 4096 }, () => {
  console.log(`listening on ${host}:${(server.address() as AddressInfo).port}`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    server.closeAllConnections();
    server.close(() => console.log('caught signal, exiting'));
  });
}
