// A Socket garbage-collected without close() has its fd closed and a
// ResourceWarning (code ERR_SOCKET_UNCLOSED) emitted; closed, detached
// and borrowed sockets are left alone. Runs in a child with --expose-gc.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { runNode } from '../helpers/run-node.js';

const fixture = fileURLToPath(new URL('../fixtures/socket/unclosed-child.ts', import.meta.url));

interface Result {
  fds: { leaked: number; detached: number; borrowed: number; fromfd: [number, number]; fileLeaked: number };
  before: { leaked: boolean; fileLeaked: boolean };
  after: Record<string, boolean>;
  warnings: { name: string; code?: string; message: string }[];
}

t.test('unclosed sockets are closed by the garbage collector, with a warning', async (t) => {
  const run = await runNode(['--expose-gc', ...process.execArgv, fixture], { cwd: process.cwd(), timeoutMs: 60_000 });
  t.same({ code: run.code, signal: run.signal, timedOut: run.timedOut }, { code: 0, signal: null, timedOut: false }, 'the child ends normally');
  const r = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Result;
  t.same(r.before, { leaked: true, fileLeaked: true }, 'open while referenced');
  t.same(r.after, {
    leaked: false,
    detached: true,
    borrowed: true,
    fromfdOriginal: true,
    fromfdDup: false,
    fileLeaked: false,
  }, 'leaked fds closed; detached and borrowed ones (and the original of a dup) left open');
  const unclosed = r.warnings.filter((w) => w.code === 'ERR_SOCKET_UNCLOSED');
  t.equal(unclosed.length, 3, 'one warning per leaked socket: the bound one, the fromfd() dup, the one held by a file');
  t.equal(r.warnings.length, unclosed.length, 'no other warning (none for closed, detached or borrowed sockets)');
  for (const w of unclosed) t.equal(w.name, 'ResourceWarning');
  const texts = unclosed.map((w) => w.message);
  t.ok(texts.some((m) => m.startsWith(`unclosed <socket fd=${r.fds.leaked}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=('127.0.0.1', `)),
    'Python\'s text: the repr, with the local address read before the fd was closed');
  t.ok(texts.some((m) => m.startsWith(`unclosed <socket fd=${r.fds.fromfd[1]}, family=AF_UNIX`)), 'the dup is named by its own fd');
  t.match(run.stderr, /\[ERR_SOCKET_UNCLOSED\] ResourceWarning: unclosed <socket fd=/, 'printed to stderr, as Node prints warnings');
});
