// Module resolve hooks for the child process of purity.test.ts (registered
// with module.register): resolving koffi, or any module of this repository
// outside the codec (lib/protocol/ and lib/errors.ts), throws. node:
// built-ins and the test runner's own packages resolve as usual.
let root = '';

export function initialize(data) {
  root = data.root;
}

function allowed(url) {
  return !url.startsWith(root) || url.includes('/node_modules/') || url.startsWith(`${root}lib/protocol/`) || url === `${root}lib/errors.ts`;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'koffi' || specifier.startsWith('koffi/')) throw new Error(`denied: koffi, imported from ${context.parentURL}`);
  const result = await nextResolve(specifier, context);
  if (!allowed(result.url)) throw new Error(`denied: ${result.url.slice(root.length)}, imported from ${context.parentURL}`);
  return result;
}
