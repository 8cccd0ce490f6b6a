// Module hooks that let Node 20 run a TypeScript file: `.ts`, `.mts` and
// `.cts` files are transpiled with the project's own TypeScript (a
// devDependency) before Node loads them. Types are stripped, not checked:
// `npm run typecheck` and the docs' snippet test do the checking.
// Registered by ts-register.mjs; see docs/README.md ("Running a snippet
// yourself").
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const TS_FILE = /\.[cm]?ts$/;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(new URL(url).pathname)) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const { outputText, diagnostics = [] } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      inlineSourceMap: true,
      inlineSources: true,
    },
  });
  // Syntax errors, said with the TypeScript file's own line and column.
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const where = (d) => {
      if (d.file === undefined || d.start === undefined) return fileName;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${fileName}:${line + 1}:${character + 1}`;
    };
    throw new SyntaxError(errors.map((d) => `${where(d)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`).join('\n'));
  }
  return { format: 'module', source: outputText, shortCircuit: true };
}
