#!/usr/bin/env node
/**
 * The `node-selectors` command: `node-selectors <program> [args]` runs one
 * of the example programs (`node-selectors --help` lists them).
 */

import { PROGRAMS } from './programs.js';
import { exitWith, isMain, runProgram } from './common/program.js';

/** The CLI's help text: every program with its summary. */
export async function listing(): Promise<string> {
  const lines = ['usage: node-selectors <program> [args]   (node-selectors <program> --help for its usage)', ''];
  let seed = '';
  for (const [name, entry] of Object.entries(PROGRAMS)) {
    if (entry.seed !== seed) {
      seed = entry.seed;
      lines.push(`seed ${seed}:`);
    }
    const spec = (await entry.load()).default;
    lines.push(`  ${name.padEnd(23)} ${spec.summary}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Run the CLI with `argv` (the arguments after `node-selectors`); resolves to the exit status. */
export async function cli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await listing());
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(PROGRAMS, name) ? PROGRAMS[name] : undefined;
  if (entry === undefined) {
    process.stderr.write(`node-selectors: unknown program '${name}'\n${await listing()}`);
    return 2;
  }
  return runProgram((await entry.load()).default, rest);
}

if (isMain(import.meta.url)) void cli(process.argv.slice(2)).then(exitWith);
