/**
 * The whole benchmark suite in one command (`npm run bench`, or
 * `npm run bench -- --quick` for a smoke run under a minute): wait scaling,
 * the hot-path wrappers, select(0) against Python, echo at several
 * connection counts and sizes, pipelined and connect/echo/close, HTTP (the
 * epoll howto's server and the static web server), the workers curve (one
 * loop per core: 1 and 2 loops on one port), the app server, and
 * memory per connection with 10,000 held, each against its peers in the
 * same run. Writes a Markdown
 * report, headed by the targets table (bench/targets.ts: each target met,
 * or missed with its explanation), (default `bench/RESULTS.md`; with --quick `bench/.build/RESULTS-quick.md`)
 * and SVG charts beside it (`charts/`), and prints the report.
 *
 *   node dist/bench/run.js [--quick] [--out FILE]
 */

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUILD_DIR, environmentLine, helpWanted, REPO_ROOT } from './net.js';
import { barChart } from './svg.js';
import { callOverhead, checkTargets, targetsReport } from './targets.js';

/** One benchmark program of the suite and the arguments of this run. */
interface Step {
  title: string;
  script: string;
  args: string[];
  /** Echo runs: the JSON file whose results become a bar chart. */
  chart?: string;
}

function steps(quick: boolean, charts: string): Step[] {
  const net = quick ? ['--seconds', '1', '--warmup', '0.5', '--rounds', '1', '--quiet-wait', '0'] : ['--seconds', '3', '--warmup', '1', '--rounds', '3'];
  const echo = (title: string, chart: string | undefined, ...extra: string[]): Step => ({ title, script: 'echo.js', args: [...net, ...extra], chart });
  const list: Step[] = [
    { title: 'Wait scaling', script: 'wait-scaling.js', args: [...(quick ? ['--quick', '--sizes', '10,1000'] : []), '--svg', join(charts, 'wait-scaling.svg')] },
    echo('Echo, 100 connections x 64 B', 'echo-100x64', '--conns', '100', '--size', '64'),
    echo('Echo, connect / echo 1 byte / close, 50 at once', undefined, '--connect', '--conns', '50', '--no-python'),
    { title: 'HTTP', script: 'http.js', args: net },
    // The workers curve (issue 13): 1 and 2 loops under the same echo load; the app server's keep-alive too in the full run.
    { title: 'One loop per core', script: 'workers.js', args: [...net, '--workers', '1,2', '--conns', '100', '--size', '64', ...(quick ? [] : ['--app', '--flags=', '--flags=--engine uring'])] },
  ];
  if (quick) return list;
  return [
    ...list,
    { title: 'Hot-path wrappers', script: 'syscalls.js', args: [] },
    { title: 'EpollSelector.select(0) against Python', script: 'selectors-select.js', args: [] },
    echo('Echo, 10 connections x 64 B', undefined, '--conns', '10', '--size', '64'),
    echo('Echo, 1,000 connections x 64 B', 'echo-1000x64', '--conns', '1000', '--size', '64'),
    echo('Echo, 100 connections x 4 KiB', undefined, '--conns', '100', '--size', '4096'),
    echo('Echo, 100 connections x 64 B, 16 in flight', undefined, '--conns', '100', '--size', '64', '--pipeline', '16', '--no-python'),
    { title: 'App server (JSON-header protocol)', script: 'app-server.js', args: net },
    { title: 'Memory per connection', script: 'memory.js', args: ['--conns', '10000'] },
  ];
}

/** Run `node dist/bench/<script> args`; its stdout (stderr passes through). */
function run(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** A bar chart of an echo run's msgs/s per server, from its --json file. */
function echoChart(jsonFile: string, title: string): string {
  const data = JSON.parse(readFileSync(jsonFile, 'utf8')) as { results: Array<{ name: string; rate?: number; failed?: boolean }> };
  const bars = data.results.filter((r) => r.rate !== undefined).map((r) => ({ label: r.name, value: Math.round(r.rate!), highlight: /EchoMessage|selectors loop/.test(r.name) }));
  return barChart({ title, unit: 'msgs/s', bars });
}

/** Run the suite; resolves to the number of steps that failed. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  if (helpWanted(argv, 'usage: npm run bench [-- --quick] [-- --out FILE]   (or node dist/bench/run.js [--quick] [--out FILE])\n'
    + '  the whole suite; writes bench/RESULTS.md and bench/charts/*.svg (--quick: one short round each, to bench/.build/RESULTS-quick.md)')) return 0;
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const quick = values.quick;
  const out = values.out ?? (quick ? join(BUILD_DIR, 'RESULTS-quick.md') : join(REPO_ROOT, 'bench', 'RESULTS.md'));
  const charts = join(dirname(out), 'charts');
  mkdirSync(charts, { recursive: true });
  const sections: string[] = [];
  const outputs = new Map<string, string>();
  let failed = 0;
  const started = new Date();
  for (const step of steps(quick, charts)) {
    const json = step.chart !== undefined ? join(BUILD_DIR, `${step.chart}.json`) : undefined;
    process.stderr.write(`bench: ${step.title} (node dist/bench/${step.script} ${step.args.join(' ')})\n`);
    const res = await run(step.script, json !== undefined ? [...step.args, '--json', json] : step.args);
    // The program's own headings become subheadings of the step's.
    const body = res.out.trim().replace(/^## /gm, '### ');
    if (res.code === 0) outputs.set(step.title, body);
    let section = `## ${step.title}\n\n\`node dist/bench/${step.script} ${step.args.map((a) => (a.startsWith('/') ? relative(REPO_ROOT, a) : a)).join(' ')}\`\n\n${body}\n`;
    if (res.code !== 0) {
      failed++;
      section += `\n**Failed** (exit ${res.code}).\n`;
    } else if (step.script === 'wait-scaling.js') {
      section += '\n![wait scaling](charts/wait-scaling.svg)\n';
    } else if (json !== undefined && step.chart !== undefined) {
      const file = join(charts, `${step.chart}.svg`);
      writeFileSync(file, echoChart(json, step.title));
      section += `\n![${step.title}](charts/${basename(file)})\n`;
    }
    sections.push(section);
  }
  const head = `# Benchmark results${quick ? ' (quick smoke run: one short round each, not for comparison)' : ''}\n\n`
    + `Made by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC.\n`
    + `${environmentLine('no CPU pinning')}\n\n`
    + 'Every table measures its peers in the same run, rounds interleaved; ratios are against the first peer of the table '
    + '(the C server, or raw koffi calls). Server CPU per message is the steadier figure on a shared 2-core machine. '
    + 'See bench/README.md for what each benchmark does.\n\n';
  writeFileSync(out, `${head}${targetsReport(checkTargets(outputs), callOverhead(outputs.get('Wait scaling')))}\n${sections.join('\n')}`);
  console.log(readFileSync(out, 'utf8'));
  process.stderr.write(`bench: wrote ${relative(REPO_ROOT, out)}${failed > 0 ? `; ${failed} step(s) failed` : ''}\n`);
  return failed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then((failed) => {
    process.exitCode = failed > 0 ? 1 : 0;
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
