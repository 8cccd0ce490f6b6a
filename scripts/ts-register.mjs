// `node --import ./scripts/ts-register.mjs file.ts` runs a TypeScript file
// on Node 20 (20.6 or later) with nothing but the project's dependencies;
// `npm run ts -- file.ts` is the same command. Save the file inside the
// clone, so that `import ... from 'node-selectors'` finds the built package
// (run `npm run build` first). See docs/README.md ("Running a snippet
// yourself").
import * as nodeModule from 'node:module';

if (typeof nodeModule.register !== 'function') {
  throw new Error(`running TypeScript this way needs Node 20.6 or later (module.register); this is Node ${process.versions.node}`);
}
nodeModule.register('./ts-hooks.mjs', import.meta.url);
