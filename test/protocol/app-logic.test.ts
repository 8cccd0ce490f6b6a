import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  BINARY_ENCODING,
  CLIENT_BINARY_TYPE,
  createRequest,
  createResponse,
  encodeMessage,
  FrameParser,
  REQUEST_SEARCH,
  SERVER_BINARY_TYPE,
  type AppRequest,
  type JsonValue,
} from '../../lib/protocol/index.js';

// Frames captured from the real Python app-client.py / app-server.py (see golden.json).
interface GoldenExchange { readonly action: string; readonly value: string; readonly request: string; readonly response: string }
const GOLDEN: readonly GoldenExchange[] = JSON.parse(readFileSync(new URL('./golden.json', import.meta.url), 'utf8')).exchanges;

const json = (content: JsonValue): AppRequest => ({ kind: 'json', content });
const result = (content: JsonValue): unknown => (createResponse(json(content)).content as { result: unknown }).result;

t.test('the search dictionary is libserver.py\'s request_search', async (t) => {
  t.same([...REQUEST_SEARCH], [
    ['morpheus', 'Follow the white rabbit. 🐰'],
    ['ring', 'In the caves beneath the Misty Mountains. 💍'],
    ['🐶', '🐾 Playing ball! 🏐'],
  ]);
  t.equal(REQUEST_SEARCH.get('morpheus'), 'Follow the white rabbit. \u{1f430}');
});

t.test('createRequest is app-client.py\'s create_request', async (t) => {
  t.same(createRequest('search', 'morpheus'), { contentType: 'text/json', contentEncoding: 'utf-8', content: { action: 'search', value: 'morpheus' } });
  t.same(Object.keys(createRequest('search', 'x').content), ['action', 'value'], 'key order of dict(action=..., value=...)');
  const bin = createRequest('double', '100');
  t.equal(bin.contentType, CLIENT_BINARY_TYPE);
  t.equal(bin.contentEncoding, BINARY_ENCODING);
  t.same(bin.content, Buffer.from('double100'));
  t.same(createRequest('x', '🐶').content, Buffer.from('78f09f90b6', 'hex'));
  t.same(createRequest('', '').content, Buffer.alloc(0));
  t.throws(() => createRequest('x', '\ud800'), { code: 'ERR_PROTOCOL_INVALID_CONTENT' });
});

t.test('createResponse: text/json, with libserver.py\'s strings', async (t) => {
  t.equal(result({ action: 'search', value: 'morpheus' }), 'Follow the white rabbit. 🐰');
  t.equal(result({ action: 'search', value: 'ring' }), 'In the caves beneath the Misty Mountains. 💍');
  t.equal(result({ action: 'search', value: '🐶' }), '🐾 Playing ball! 🏐');
  t.equal(result({ action: 'search', value: 'nobody' }), 'No match for "nobody".');
  t.equal(result({ action: 'search', value: 'Morpheus' }), 'No match for "Morpheus".', 'case-sensitive, like a dict');
  t.equal(result({ action: 'search', value: 'constructor' }), 'No match for "constructor".', 'no inherited keys');
  t.equal(result({ action: 'search' }), 'No match for "None".');
  t.equal(result({ action: 'search', value: null }), 'No match for "None".');
  t.equal(result({ action: 'search', value: 5 }), 'No match for "5".');
  t.equal(result({ action: 'search', value: 1.5 }), 'No match for "1.5".');
  t.equal(result({ action: 'search', value: true }), 'No match for "True".');
  t.equal(result({ action: 'double', value: 'x' }), 'Error: invalid action "double".');
  t.equal(result({ value: 'morpheus' }), 'Error: invalid action "None".');
  t.equal(result({}), 'Error: invalid action "None".', 'Python hangs on {}; we answer');
  t.equal(result({ action: ['search'] }), `Error: invalid action "['search']".`);
  t.equal(result({ action: { a: null } }), `Error: invalid action "{'a': None}".`);
  t.equal(result({ action: 'toString' }), 'Error: invalid action "toString".');
  const r = createResponse(json({ action: 'search', value: 'ring' }));
  t.equal(r.contentType, 'text/json');
  t.equal(r.contentEncoding, 'utf-8');
  t.same(Object.keys(r.content), ['result']);
  // Where Python raises (and closes without a reply), we throw.
  for (const bad of [[], ['search'], 'search', 5, null, true]) {
    t.throws(() => createResponse(json(bad)), { code: 'ERR_PROTOCOL_INVALID_CONTENT' }, `request ${JSON.stringify(bad)}`);
  }
  for (const value of [[], ['morpheus'], {}, { k: 1 }] as JsonValue[]) {
    t.throws(() => createResponse(json({ action: 'search', value })), { code: 'ERR_PROTOCOL_INVALID_CONTENT', message: /must be a string/ }, `value ${JSON.stringify(value)}`);
  }
});

t.test('createResponse: binary, the first 10 raw bytes', async (t) => {
  const bin = (s: Buffer): Buffer => createResponse({ kind: 'binary', content: s }).content as Buffer;
  t.same(bin(Buffer.from('double100')), Buffer.from('First 10 bytes of request: double100'));
  t.same(bin(Buffer.from('0123456789abcdef')), Buffer.from('First 10 bytes of request: 0123456789'));
  t.same(bin(Buffer.alloc(0)), Buffer.from('First 10 bytes of request: '), 'Python hangs on empty content; we answer');
  // 10 bytes, not 10 characters: a UTF-8 sequence can be cut.
  t.equal(bin(Buffer.from('x🐶🐶🐶🐶')).toString('hex'), Buffer.from('First 10 bytes of request: ').toString('hex') + '78f09f90b6f09f90b6f0');
  const r = createResponse({ kind: 'binary', content: Buffer.from('ab') });
  t.equal(r.contentType, SERVER_BINARY_TYPE);
  t.equal(r.contentEncoding, 'binary');
});

t.test('golden: parse each Python request, answer it, encode: the Python server\'s bytes', async (t) => {
  for (const g of GOLDEN) {
    const [request] = new FrameParser().push(Buffer.from(g.request, 'hex'));
    const response = encodeMessage({ ...createResponse(request!), byteorder: 'little' });
    t.equal(response.toString('hex'), g.response, `${g.action} ${g.value}`);
  }
});
