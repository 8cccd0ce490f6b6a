// The example frames of docs/protocol.md raise the codes the page says.
//
// Every fenced block with the info string `hex <CODE>` (or `hex <CODE> end`)
// is one frame in hex (whitespace ignored). It is pushed to a fresh
// FrameParser with default limits (then `end()` is called, for `end`), and
// must throw a ProtocolError with that code. Every ERR_PROTOCOL_* code must
// have at least one example.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, ProtocolError } from '../../lib/errors.js';
import { FrameParser } from '../../lib/protocol/frame-parser.js';

const page = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

interface Example {
  line: number;
  code: string;
  end: boolean;
  hex: string;
}

function examples(): Example[] {
  const out: Example[] = [];
  const re = /^```hex[ \t]+([A-Z_]+)([ \t]+end)?[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = re.exec(page); m !== null; m = re.exec(page)) {
    out.push({ line: page.slice(0, m.index).split('\n').length, code: m[1], end: m[2] !== undefined, hex: m[3].replace(/\s+/g, '') });
  }
  return out;
}

const all = examples();

t.test('every ERR_PROTOCOL_* code has an example frame', async (t) => {
  const codes = Object.keys(ERROR_CODES).filter((c) => c.startsWith('ERR_PROTOCOL_'));
  t.ok(codes.length > 0);
  t.same(codes.filter((c) => !all.some((e) => e.code === c)), [], 'codes without an example in docs/protocol.md');
  t.same(all.filter((e) => !codes.includes(e.code)).map((e) => `${e.code} (line ${e.line})`), [], 'examples for unknown codes');
});

for (const ex of all) {
  t.test(`docs/protocol.md:${ex.line} ${ex.code}${ex.end ? ' (then end())' : ''}`, async (t) => {
    t.match(ex.hex, /^(?:[0-9a-f]{2})+$/, 'well-formed hex');
    const parser = new FrameParser();
    let thrown: unknown = null;
    try {
      parser.push(Buffer.from(ex.hex, 'hex'));
      if (ex.end) {
        t.equal(parser.error, null, 'the frame itself is fine until the stream ends');
        parser.end();
      }
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof ProtocolError, 'throws a ProtocolError');
    t.equal((thrown as ProtocolError | null)?.code, ex.code);
  });
}
