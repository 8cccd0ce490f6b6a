// The targets table of the benchmark report (bench/targets.ts): figures are
// read from the steps' own Markdown tables by row and column, each target
// is met, missed (with its explanation) or not run. Pure: no benchmark runs.
import t from 'tap';
import { callOverhead, checkTargets, figure, tables, targetsReport, TARGETS, type Target } from '../../bench/targets.js';

const ECHO_MD = `### Echo: 100 connections

| server                        | msgs/s | msgs/s vs C | CPU/msg vs C | errors |
|-------------------------------|--------|-------------|--------------|--------|
| C epoll (reference)           | 191546 | 1.00x       | 1.00x        | 0      |
| bare koffi epoll loop         | 175819 | 0.92x       | 1.09x        | 0      |
| multiconn-server(EchoMessage) | 158694 | 0.82x       | 1.22x        | 0      |

- a note line ends the table

| idle fds | selector / koffi |
|----------|------------------|
| 10000    | 1.05x            |
`;

t.test('tables() splits a Markdown text into its tables', async (t) => {
  const all = tables(ECHO_MD);
  t.equal(all.length, 2);
  t.same(all[0][0], ['server', 'msgs/s', 'msgs/s vs C', 'CPU/msg vs C', 'errors']);
  t.equal(all[0].length, 4, 'header and three rows; the separator line is dropped');
  t.same(all[1][1], ['10000', '1.05x']);
});

t.test('figure() finds a row by its first cell and a column by its header', async (t) => {
  t.equal(figure(ECHO_MD, /^multiconn-server\(EchoMessage\)/, /^CPU\/msg vs C$/), 1.22);
  t.equal(figure(ECHO_MD, /^bare koffi/, /^msgs\/s vs C$/), 0.92);
  t.equal(figure(ECHO_MD, /^10000$/, /^selector \/ koffi$/), 1.05, 'searches every table');
  t.equal(figure(ECHO_MD, /^nobody$/, /^msgs\/s vs C$/), null);
  t.equal(figure(ECHO_MD, /^C epoll/, /^no such column$/), null);
});

t.test('checkTargets() and the report: met, missed with the reason, not run', async (t) => {
  const targets: Target[] = [
    { text: 'rate', step: 'Echo', row: /^multiconn-server\(EchoMessage\)/, column: /^msgs\/s vs C$/, op: '>=', bound: 0.8, floorRow: /^bare koffi/ },
    { text: 'cpu', step: 'Echo', row: /^multiconn-server\(EchoMessage\)/, column: /^CPU\/msg vs C$/, op: '<=', bound: 1.1, floorRow: /^bare koffi/, why: 'echo' },
    { text: 'absent', step: 'HTTP', row: /^howto/, column: /^CPU\/req vs ref$/, op: '<=', bound: 1.25, why: 'howto' },
  ];
  const results = checkTargets(new Map([['Echo', ECHO_MD]]), targets);
  t.same(results.map((r) => [r.value, r.floor, r.met]), [[0.82, 0.92, true], [1.22, 1.09, false], [null, null, null]]);
  const md = targetsReport(results);
  t.match(md, /\| rate +\| 0\.82x +\| 0\.92x +\| met +\|/);
  t.match(md, /\| cpu +\| 1\.22x +\| 1\.09x +\| missed \(explained below\) \|/);
  t.match(md, /\| absent +\| not measured +\| +\| not run +\|/);
  t.match(md, /## Misses explained[\s\S]*missed here: cpu\)/);
  t.notMatch(md, /HTTP Example 3 port \(howto-epoll-lt\)/, 'a target not run is not explained');
});

t.test('every target names a step of the full suite and a known explanation', async (t) => {
  const steps = new Set(['Echo, 10 connections x 64 B', 'Echo, 100 connections x 64 B', 'Echo, 1,000 connections x 64 B',
    'Echo, 100 connections x 4 KiB', 'Echo, 100 connections x 64 B, 16 in flight', 'Echo, connect / echo 1 byte / close, 50 at once',
    'HTTP', 'Memory per connection', 'EpollSelector.select(0) against Python', 'App server (JSON-header protocol)']);
  for (const target of TARGETS) t.ok(steps.has(target.step), `${target.text}: ${target.step}`);
});

t.test('callOverhead() states the run\'s own per-call cost from the wait-scaling table', async (t) => {
  const md = `| method           | N=10 | N=100 |
|------------------|------|-------|
| koffi epoll_wait | 312  | 311   |
| C epoll          | 159  | 159   |
`;
  t.match(callOverhead(md), /159 ns from C and 312 ns through koffi: 153 ns more per call/);
  t.equal(callOverhead(undefined), null);
  t.equal(callOverhead('no table'), null);
  const report = targetsReport(checkTargets(new Map([['Echo', ECHO_MD]]), [
    { text: 'cpu', step: 'Echo', row: /^multiconn-server\(EchoMessage\)/, column: /^CPU\/msg vs C$/, op: '<=', bound: 1.1, why: 'echo' },
  ]), callOverhead(md));
  t.match(report, /"Misses explained"\. In this run one epoll_wait/);
});

t.test('a target against another row of the same table (vsRow): their ratio', async (t) => {
  const md = `| server [mode, concurrency] | req/s | server CPU µs/req |
|---|---|---|
| app-server(keep-alive) [keepalive, 8 conns] | 40000 | 14.6 |
| app-server(keep-alive/uring) [keepalive, 8 conns] | 50000 | 10.5 |
`;
  const [ring] = checkTargets(new Map([['App server (JSON-header protocol)', md]]), TARGETS.filter((x) => x.vsRow !== undefined));
  t.equal(ring.value, 1.25);
  t.equal(ring.met, true);
  const slow = md.replace('| 50000 |', '| 40800 |');
  const [missed] = checkTargets(new Map([['App server (JSON-header protocol)', slow]]), TARGETS.filter((x) => x.vsRow !== undefined));
  t.equal(missed.value, 1.02);
  t.equal(missed.met, false);
  const [absent] = checkTargets(new Map([['App server (JSON-header protocol)', md.split('\n').slice(0, 3).join('\n')]]), TARGETS.filter((x) => x.vsRow !== undefined));
  t.equal(absent.value, null, 'the ring row missing: not measured');
});

t.test('the io_uring_enter calls per message: read from the echo table, reported as a count, not a ratio', async (t) => {
  const md = `| server | msgs/s vs C | CPU/msg vs C | errors | io_uring_enter/msg |
|---|---|---|---|---|
| C epoll (reference) | 1.00x | 1.00x | 0 |  |
| io_uring proactor (lib/uring) | 1.03x | 0.96x | 0 | 0.30 |
`;
  const calls = TARGETS.filter((x) => x.step === 'Echo, 100 connections x 4 KiB' && x.column.test('io_uring_enter/msg'));
  t.equal(calls.length, 1, 'one calls-per-message target per echo step');
  const [low] = checkTargets(new Map([['Echo, 100 connections x 4 KiB', md]]), calls);
  t.equal(low.value, 0.3);
  t.equal(low.met, true);
  t.match(targetsReport([low]), /\| 0\.3 per msg \|/);
  const [high] = checkTargets(new Map([['Echo, 100 connections x 4 KiB', md.replace('| 0.30 |', '| 1.30 |')]]), calls);
  t.equal(high.met, false);
  t.match(targetsReport([high]), /missed \(explained below\)[\s\S]*The io_uring proactor against C/);
});
