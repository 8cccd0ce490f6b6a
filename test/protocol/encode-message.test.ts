import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  createRequest,
  encodeMessage,
  FrameParser,
  SYSTEM_BYTEORDER,
  type EncodeOptions,
} from '../../lib/protocol/index.js';

// Frames captured from the real Python app-client.py / app-server.py (see golden.json).
interface GoldenExchange { readonly action: string; readonly value: string; readonly request: string; readonly response: string }
const GOLDEN: readonly GoldenExchange[] = JSON.parse(readFileSync(new URL('./golden.json', import.meta.url), 'utf8')).exchanges;

t.test('golden: the Python client\'s search morpheus frame is 2 + 103 + 41 bytes, byte for byte', async (t) => {
  const golden = Buffer.from(GOLDEN[0]!.request, 'hex');
  t.equal(golden.length, 2 + 103 + 41);
  const ours = encodeMessage({ ...createRequest('search', 'morpheus'), byteorder: 'little', json: 'python' });
  t.equal(ours.toString('hex'), GOLDEN[0]!.request);
  t.equal(ours.readUInt16BE(0), 103);
  t.equal(
    ours.subarray(2, 105).toString(),
    '{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}',
  );
  t.equal(ours.subarray(105).toString(), '{"action": "search", "value": "morpheus"}');
});

t.test('golden: every captured Python client request', async (t) => {
  for (const g of GOLDEN) {
    const ours = encodeMessage({ ...createRequest(g.action, g.value), byteorder: 'little' });
    t.equal(ours.toString('hex'), g.request, `${g.action} ${g.value}`);
  }
});

t.test('defaults: python JSON style, the system byte order', async (t) => {
  t.equal(SYSTEM_BYTEORDER, process.arch === 's390x' || process.arch === 'ppc64' ? 'big' : 'little');
  const def = encodeMessage(createRequest('search', 'ring'));
  const explicit = encodeMessage({ ...createRequest('search', 'ring'), byteorder: SYSTEM_BYTEORDER, json: 'python' });
  t.ok(def.equals(explicit));
});

t.test('compact style and byteorder big', async (t) => {
  const f = encodeMessage({ contentType: 'text/json', contentEncoding: 'utf-8', content: { a: [1, 2.5] }, json: 'compact', byteorder: 'big' });
  const h = f.readUInt16BE(0);
  t.equal(f.subarray(2, 2 + h).toString(), '{"byteorder":"big","content-type":"text/json","content-encoding":"utf-8","content-length":13}');
  t.equal(f.subarray(2 + h).toString(), '{"a":[1,2.5]}');
  t.throws(() => encodeMessage({ contentType: 'text/json', contentEncoding: 'utf-8', content: undefined, json: 'compact' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => encodeMessage({ contentType: 'text/json', contentEncoding: 'utf-8', content: () => 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
});

t.test('round trip encode → parse, text/json in every encoding and style, and binary', async (t) => {
  const values = [
    { action: 'search', value: '🐶' },
    ['a', 1, 2.5, -3, null, true, false, { nested: { deep: [] } }],
    'just a string with "quotes" and \\ and \n and é',
    42,
    null,
    {},
  ];
  for (const enc of ['utf-8', 'UTF8', 'utf_8', 'utf-8-sig', 'utf-16', 'utf-16-le', 'utf-16-be', 'latin-1', 'ascii']) {
    for (const json of ['python', 'compact'] as const) {
      for (const value of values) {
        if (enc === 'ascii' && JSON.stringify(value).includes('é')) continue;
        if ((enc === 'ascii' || enc === 'latin-1') && JSON.stringify(value).includes('🐶')) continue;
        const frame = encodeMessage({ contentType: 'text/json', contentEncoding: enc, content: value, json });
        const [f] = new FrameParser().push(frame);
        t.equal(f!.kind, 'json');
        t.same(f!.content, value, `${enc} ${json} ${JSON.stringify(value)}`);
        t.equal(f!.header.contentEncoding, enc);
      }
    }
  }
  for (const content of [Buffer.alloc(0), Buffer.from([0, 1, 2, 255]), new Uint8Array([9, 8, 7]), Buffer.alloc(70000, 7)]) {
    const frame = encodeMessage({ contentType: 'binary/custom-client-binary-type', contentEncoding: 'binary', content });
    const [f] = new FrameParser().push(frame);
    t.equal(f!.kind, 'binary');
    t.ok(Buffer.from(content).equals(f!.content as Buffer));
  }
  // String content for a non-JSON type is encoded in its (text) encoding.
  for (const [enc, hex] of [['utf-8', '68c3a96c6c6f'], ['latin-1', '68e96c6c6f'], ['utf-16-be', '006800e9006c006c006f']]) {
    const [f] = new FrameParser().push(encodeMessage({ contentType: 'text/plain', contentEncoding: enc!, content: 'héllo' }));
    t.equal(f!.kind, 'binary', 'only text/json is decoded');
    t.equal((f!.content as Buffer).toString('hex'), hex, enc!);
  }
});

t.test('exactly one allocation-shaped result: header, then content, nothing else', async (t) => {
  const f = encodeMessage({ contentType: 'a', contentEncoding: 'utf-16', content: 'x' });
  const h = f.readUInt16BE(0);
  t.equal(f.length, 2 + h + 4);
  t.same([...f.subarray(2 + h)], [0xff, 0xfe, 0x78, 0x00], 'utf-16 writes a little-endian BOM like Python');
  const be = encodeMessage({ contentType: 'a', contentEncoding: 'utf-16-be', content: 'x🐰' });
  t.equal(be.subarray(2 + be.readUInt16BE(0)).toString('hex'), '0078d83ddc30');
  const sig = encodeMessage({ contentType: 'a', contentEncoding: 'utf-8-sig', content: 'x' });
  t.equal(sig.subarray(2 + sig.readUInt16BE(0)).toString('hex'), 'efbbbf78');
});

t.test('argument errors', async (t) => {
  const base = { contentType: 'text/json', contentEncoding: 'utf-8', content: {} };
  const cases: [Record<string, unknown>, string, string][] = [
    [{ contentType: 5 }, 'ERR_INVALID_ARG_TYPE', 'TypeError'],
    [{ contentEncoding: null }, 'ERR_INVALID_ARG_TYPE', 'TypeError'],
    [{ byteorder: 'middle' }, 'ERR_INVALID_ARG_VALUE', 'TypeError'],
    [{ json: 'pretty' }, 'ERR_INVALID_ARG_VALUE', 'TypeError'],
    [{ contentType: 'binary/x', content: 5 }, 'ERR_INVALID_ARG_TYPE', 'TypeError'],
    [{ contentType: 'binary/x', content: { a: 1 } }, 'ERR_INVALID_ARG_TYPE', 'TypeError'],
    [{ contentEncoding: 'binary' }, 'ERR_PROTOCOL_UNKNOWN_ENCODING', 'ProtocolError'],
    [{ contentType: 'binary/x', contentEncoding: 'binary', content: 'text needs a text encoding' }, 'ERR_PROTOCOL_UNKNOWN_ENCODING', 'ProtocolError'],
    [{ contentEncoding: 'ascii', content: 'é' }, 'ERR_PROTOCOL_INVALID_CONTENT', 'ProtocolError'],
    [{ contentType: 'x', contentEncoding: 'utf-8', content: '\ud800' }, 'ERR_PROTOCOL_INVALID_CONTENT', 'ProtocolError'],
    [{ contentType: 'x'.repeat(70000), content: Buffer.alloc(1) }, 'ERR_PROTOCOL_TOO_LARGE', 'ProtocolError'],
    [{ contentType: 'text/json', contentEncoding: 'é'.repeat(40000) }, 'ERR_PROTOCOL_UNKNOWN_ENCODING', 'ProtocolError'],
  ];
  for (const [patch, code, name] of cases) {
    t.throws(() => encodeMessage({ ...base, ...patch } as unknown as EncodeOptions), { code, name }, JSON.stringify(patch).slice(0, 80));
  }
  // A lone surrogate inside JSON content is escaped by the serializer, so it encodes.
  const f = encodeMessage({ ...base, content: '\ud800' });
  t.same(new FrameParser().push(f)[0]!.content, '\ud800');
});
