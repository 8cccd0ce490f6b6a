/**
 * Self time per function from a V8 CPU profile (`node --cpu-prof`), the
 * tool used to find where a server's JavaScript time goes per message.
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof dist/examples/multiconn-server.js --quiet 127.0.0.1 5000 &
 *     bench/.build/echo-load-<hash> --port 5000 --conns 100 --size 64 --seconds 5
 *     kill -INT %1
 *     node dist/bench/profile-summary.js /tmp/prof/*.cpuprofile [--top 25] [--per N]
 *
 * Prints each function's self time (ms and share of the profile), its
 * file:line, and with `--per N` (e.g. the load generator's message count)
 * ns of self time per message. `(program)` is native code outside
 * JavaScript (koffi, V8's API glue, the kernel below them); `(idle)` is
 * time blocked in a wait; `(garbage collector)` is V8's GC on the main thread.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from './harness.js';

/** The parts of a `.cpuprofile` read here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Self time in µs per function (name and location), largest first. */
export function selfTimes(profile: CpuProfile): Array<{ name: string; where: string; us: number }> {
  const frameOf = new Map<number, { name: string; where: string }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url === '' ? '' : url.replace(/^file:\/\/.*?\/dist\//, '').replace(/^node:/, 'node:');
    frameOf.set(node.id, { name: functionName === '' ? '(anonymous)' : functionName, where: file === '' ? '' : `${file}:${lineNumber + 1}` });
  }
  const totals = new Map<string, { name: string; where: string; us: number }>();
  // timeDeltas[i] is the time before sample i; charge it to the sample's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = frameOf.get(profile.samples[i]) ?? { name: '?', where: '' };
    const id = `${frame.name} ${frame.where}`;
    const entry = totals.get(id) ?? { ...frame, us: 0 };
    entry.us += Math.max(0, profile.timeDeltas[i] ?? 0);
    totals.set(id, entry);
  }
  return [...totals.values()].sort((a, b) => b.us - a.us);
}

/** The command line (see the file's header). */
export function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, per: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length === 0) {
    console.log('usage: node dist/bench/profile-summary.js FILE.cpuprofile... [--top 25] [--per MESSAGES]');
    return;
  }
  const per = values.per === undefined ? 0 : Number(values.per);
  for (const file of positionals) {
    const rows = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const total = rows.reduce((n, r) => n + r.us, 0);
    const busy = rows.filter((r) => r.name !== '(idle)').reduce((n, r) => n + r.us, 0);
    console.log(`\n${file}: ${(total / 1e3).toFixed(0)} ms sampled, ${(busy / 1e3).toFixed(0)} ms not idle`);
    const head = ['function', 'where', 'self ms', 'share'];
    if (per > 0) head.push('ns/msg');
    const out = rows.slice(0, Number(values.top)).map((r) => {
      const row = [r.name, r.where, (r.us / 1e3).toFixed(1), `${((100 * r.us) / total).toFixed(1)}%`];
      if (per > 0) row.push(((r.us * 1e3) / per).toFixed(0));
      return row;
    });
    table(head, out);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
