/**
 * The Node `net` peer of the echo benchmark (bench/echo.ts): what a Node
 * user writes without this library, `net.createServer` echoing each 'data'
 * chunk back with `socket.write`, TCP_NODELAY on as in the other peers.
 *
 * usage: node dist/bench/node-echo-server.js HOST PORT   (PORT 0: any)
 * Prints "listening on HOST:PORT"; exits 0 on SIGINT/SIGTERM.
 */

import { createServer, type AddressInfo, type Socket } from 'node:net';

const [host = '127.0.0.1', portArg = '0'] = process.argv.slice(2);
const sockets = new Set<Socket>();
const server = createServer({ noDelay: true }, (sock) => {
  sockets.add(sock);
  sock.on('data', (chunk) => sock.write(chunk));
  sock.on('error', () => sock.destroy());
  sock.on('close', () => sockets.delete(sock));
});
server.listen({ host, port: Number(portArg), backlog: 4096 }, () => {
  console.log(`listening on ${host}:${(server.address() as AddressInfo).port}`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const s of sockets) s.destroy();
    server.close(() => console.log('caught signal, exiting'));
  });
}
