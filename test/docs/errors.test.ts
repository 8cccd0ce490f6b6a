// docs/errors.md documents exactly the codes of ERROR_CODES, each with its class.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../lib/errors.js';

const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** The rows of the table between the error-codes markers: code → class. */
function documentedCodes(): Map<string, string> {
  const start = page.indexOf('<!-- error-codes:start -->');
  const end = page.indexOf('<!-- error-codes:end -->');
  if (start < 0 || end < start) throw new Error('docs/errors.md lost its <!-- error-codes:start/end --> markers');
  const rows = new Map<string, string>();
  for (const line of page.slice(start, end).split('\n')) {
    const m = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*`([A-Za-z]+)`\s*\|/.exec(line);
    if (m === null) continue;
    if (rows.has(m[1])) throw new Error(`docs/errors.md lists ${m[1]} twice`);
    rows.set(m[1], m[2]);
  }
  return rows;
}

t.test('every ERROR_CODES key is documented, and nothing else', async (t) => {
  const documented = documentedCodes();
  const inCode = Object.keys(ERROR_CODES);
  t.same(inCode.filter((c) => !documented.has(c)), [], 'codes missing from docs/errors.md');
  t.same([...documented.keys()].filter((c) => !(c in ERROR_CODES)), [], 'codes documented but not in ERROR_CODES');
});

t.test('the documented class matches ERROR_CODES', async (t) => {
  const documented = documentedCodes();
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    if (documented.has(code)) t.equal(documented.get(code), info.className, `${code} is a ${info.className}`);
  }
});

t.test('the table keeps the order of ERROR_CODES', async (t) => {
  const documented = [...documentedCodes().keys()];
  const inCode = Object.keys(ERROR_CODES).filter((c) => documented.includes(c));
  t.same(documented.filter((c) => c in ERROR_CODES), inCode);
});
