/**
 * What the six servers of the epoll howto (seed 000) share: the fixed
 * HTTP/1.0 response, the end-of-request test, and how a request is printed.
 */

import type { ProgramContext } from './program.js';

/** End of the request headers for clients that send bare `\n` line ends (nc). */
export const EOL1 = Buffer.from('\n\n');
/** End of the request headers for clients that send `\r\n` (browsers, curl). */
export const EOL2 = Buffer.from('\n\r\n');

/** The seed's response, byte for byte: the same for every request. */
export const RESPONSE = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n' +
    'Hello, world!',
);

/**
 * The most a request may grow to before the server gives up on it (the
 * seed has no limit: a client that never sends a blank line would make it
 * grow forever).
 */
export const MAX_REQUEST = 1024 * 1024;

/** The seed's `EOL1 in request or EOL2 in request`. */
export function requestComplete(request: Buffer): boolean {
  return request.includes(EOL1) || request.includes(EOL2);
}

/** The seed's `print('-'*40 + '\n' + request.decode()[:-2])`. */
export function printRequest(ctx: ProgramContext, request: Buffer): void {
  ctx.log(`${'-'.repeat(40)}\n${request.toString('utf8').slice(0, -2)}`);
}

/** The `--backlog` help of the howto servers: why the seed's 1 is kept, and when to raise it. */
export const BACKLOG_HELP = `The listen backlog defaults to 1, as in the howto: at most one or two
finished handshakes wait for accept(), and further clients see their SYN
dropped and retried (a delay of a second or more). The howto measured that
100 concurrent clients (ab -c 100) need a backlog of 50 or more; tests and
benchmarks pass --backlog 128.`;

/** What the howto servers say about their default host. */
export const HOST_HELP = `The howto binds 0.0.0.0 (every IPv4 address); the default here is
127.0.0.1, so that trying an example does not expose it to the network.
Pass 0.0.0.0 to do as the howto does, or port 0 for a free port (the
"listening on" line shows it).`;
