// Module hooks that let Node 20 run a TypeScript file: `.ts`, `.mts` and
// `.cts` files are transpiled with the project's own TypeScript (a
// devDependency) before Node loads them. Types are stripped, not checked:
// `npm run typecheck` and the docs' snippet test do the checking.
// Registered by ts-register.mjs; see docs/README.md ("Running a snippet").
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const TS_FILE = /\.[cm]?ts$/;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(new URL(url).pathname)) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      inlineSourceMap: true,
      inlineSources: true,
    },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
