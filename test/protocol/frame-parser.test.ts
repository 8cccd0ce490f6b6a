import t from 'tap';
import { readFileSync } from 'node:fs';
import { ProtocolError } from '../../lib/errors.js';
import {
  DEFAULT_MAX_CONTENT_LENGTH,
  encodeMessage,
  FrameParser,
  type Frame,
  type FrameParserOptions,
} from '../../lib/protocol/index.js';

// Frames captured from the real Python app-client.py / app-server.py (see golden.json).
interface GoldenExchange { readonly action: string; readonly value: string; readonly request: string; readonly response: string }
const GOLDEN: readonly GoldenExchange[] = JSON.parse(readFileSync(new URL('./golden.json', import.meta.url), 'utf8')).exchanges;

// Hand-made malformed frames, as hex (see bad-frames.json).
interface BadFrame {
  readonly name: string;
  readonly code: ProtocolError['code'];
  readonly hex: string;
  readonly options?: FrameParserOptions;
  readonly message?: string;
}
const BAD_FRAMES: readonly BadFrame[] = JSON.parse(readFileSync(new URL('./bad-frames.json', import.meta.url), 'utf8')).frames;

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// Every fixture the parser must accept, with what it must produce.
interface Good {
  readonly name: string;
  readonly bytes: Buffer;
  readonly kind: 'json' | 'binary';
  readonly content: unknown;
  readonly contentType: string;
  readonly headerLength: number;
}

const GOOD: Good[] = [];
for (const g of GOLDEN) {
  const request = hex(g.request);
  const response = hex(g.response);
  const search = g.action === 'search';
  GOOD.push({
    name: `python request ${g.action} ${g.value}`,
    bytes: request,
    kind: search ? 'json' : 'binary',
    content: search ? { action: g.action, value: g.value } : Buffer.from(g.action + g.value),
    contentType: search ? 'text/json' : 'binary/custom-client-binary-type',
    headerLength: request.readUInt16BE(0),
  });
  GOOD.push({
    name: `python response ${g.action} ${g.value}`,
    bytes: response,
    kind: search ? 'json' : 'binary',
    content: search ? JSON.parse(response.subarray(2 + response.readUInt16BE(0)).toString()) : response.subarray(2 + response.readUInt16BE(0)),
    contentType: search ? 'text/json' : 'binary/custom-server-binary-type',
    headerLength: response.readUInt16BE(0),
  });
}
for (const [name, spec, content] of [
  ['empty binary', { contentType: 'binary/x', contentEncoding: 'binary', content: Buffer.alloc(0) }, Buffer.alloc(0)],
  ['latin-1 json', { contentType: 'text/json', contentEncoding: 'latin-1', content: { s: 'café ÿ' } }, { s: 'café ÿ' }],
  ['utf-16 json', { contentType: 'text/json', contentEncoding: 'utf-16', content: ['🐰', 1] }, ['🐰', 1]],
  ['utf-16-be json', { contentType: 'text/json', contentEncoding: 'UTF-16-BE', content: 'x' }, 'x'],
  ['ascii json compact', { contentType: 'text/json', contentEncoding: 'ascii', content: [null, true], json: 'compact' as const }, [null, true]],
] as const) {
  const bytes = encodeMessage(spec);
  GOOD.push({
    name,
    bytes,
    kind: spec.contentType === 'text/json' ? 'json' : 'binary',
    content,
    contentType: spec.contentType,
    headerLength: bytes.readUInt16BE(0),
  });
}

function check(t: Asserts, frames: Frame[], good: Good, label: string): void {
  t.equal(frames.length, 1, `${label}: one frame`);
  const f = frames[0]!;
  t.equal(f.kind, good.kind, `${label}: kind`);
  t.same(f.content, good.content, `${label}: content`);
  t.equal(f.header.contentType, good.contentType, `${label}: content-type`);
  t.equal(f.headerLength, good.headerLength, `${label}: headerLength`);
  t.equal(f.contentLength, good.bytes.length - 2 - good.headerLength, `${label}: contentLength`);
  t.equal(f.header.contentLength, f.contentLength);
}

// The assertions check() needs (a subtest's t has them all).
interface Asserts {
  readonly equal: typeof t.equal;
  readonly same: typeof t.same;
}

t.test('each fixture whole, byte by byte, and split at every offset', async (t) => {
  for (const good of GOOD) {
    const whole = new FrameParser();
    check(t, whole.push(good.bytes), good, `${good.name} whole`);
    t.equal(whole.bufferedLength, 0);
    t.notOk(whole.inFrame);
    whole.end();

    const bytewise = new FrameParser();
    const frames: Frame[] = [];
    for (let i = 0; i < good.bytes.length; i++) {
      frames.push(...bytewise.push(good.bytes.subarray(i, i + 1)));
      if (i < good.bytes.length - 1) t.equal(frames.length, 0);
    }
    check(t, frames, good, `${good.name} byte by byte`);
    bytewise.end();

    let ok = true;
    for (let i = 0; i <= good.bytes.length && ok; i++) {
      const p = new FrameParser();
      const a = p.push(good.bytes.subarray(0, i));
      const b = p.push(good.bytes.subarray(i));
      const got = [...a, ...b];
      ok = got.length === 1 && a.length === (i === good.bytes.length ? 1 : 0) && Buffer.isBuffer(got[0]!.content) === (good.kind === 'binary');
      if (ok) {
        const f = got[0]!;
        ok = JSON.stringify(f.content) === JSON.stringify(good.content) && f.header.contentType === good.contentType && p.bufferedLength === 0;
      }
      if (!ok) t.fail(`${good.name}: two-piece split at ${i}`);
    }
    t.ok(ok, `${good.name}: every two-piece split`);
  }
});

t.test('three-piece splits at every pair of offsets (small fixtures)', async (t) => {
  for (const good of GOOD.filter((g) => g.bytes.length <= 150)) {
    const n = good.bytes.length;
    let failures = 0;
    for (let i = 0; i <= n; i++) {
      for (let j = i; j <= n; j++) {
        const p = new FrameParser();
        const got = [...p.push(good.bytes.subarray(0, i)), ...p.push(good.bytes.subarray(i, j)), ...p.push(good.bytes.subarray(j))];
        if (got.length !== 1 || JSON.stringify(got[0]!.content) !== JSON.stringify(good.content) || p.inFrame) failures++;
      }
    }
    t.equal(failures, 0, `${good.name}: ${((n + 1) * (n + 2)) / 2} three-piece splits`);
  }
});

t.test('several frames in one chunk all come out of one push, in order', async (t) => {
  const all = Buffer.concat(GOOD.map((g) => g.bytes));
  const p = new FrameParser();
  const frames = p.push(all);
  t.equal(frames.length, GOOD.length);
  frames.forEach((f, i) => t.same(f.content, GOOD[i]!.content, GOOD[i]!.name));
  t.equal(p.bufferedLength, 0);

  // Three frames plus the start of a fourth: three now, the fourth later.
  const three = Buffer.concat([GOOD[0]!.bytes, GOOD[1]!.bytes, GOOD[2]!.bytes, GOOD[3]!.bytes.subarray(0, 50)]);
  const q = new FrameParser();
  t.equal(q.push(three).length, 3);
  t.equal(q.bufferedLength, 48, 'the 2-byte prefix of the fourth frame is already consumed');
  t.ok(q.inFrame);
  const rest = q.push(GOOD[3]!.bytes.subarray(50));
  t.equal(rest.length, 1);
  t.same(rest[0]!.content, GOOD[3]!.content);

  // The same stream re-chunked at odd sizes gives the same frames.
  for (const size of [1, 2, 3, 7, 64, 101, 4096]) {
    const r = new FrameParser();
    const got: Frame[] = [];
    for (let i = 0; i < all.length; i += size) got.push(...r.push(all.subarray(i, i + size)));
    t.equal(got.length, GOOD.length, `chunk size ${size}`);
    t.same(got.map((f) => f.content), GOOD.map((g) => g.content), `chunk size ${size}: contents`);
  }
});

t.test('the handler form delivers frames in order and returns the count', async (t) => {
  const p = new FrameParser();
  const seen: unknown[] = [];
  const n = p.push(Buffer.concat([GOOD[0]!.bytes, GOOD[2]!.bytes]), (f) => seen.push(f.content));
  t.equal(n, 2);
  t.same(seen, [GOOD[0]!.content, GOOD[2]!.content]);
  t.equal(p.push(Buffer.alloc(0), () => t.fail('no frame')), 0);
});

t.test('frames before a malformed one are delivered by the handler form', async (t) => {
  const bad = hex(BAD_FRAMES.find((b) => b.name === 'header is an array')!.hex);
  const p = new FrameParser();
  const seen: unknown[] = [];
  t.throws(() => p.push(Buffer.concat([GOOD[0]!.bytes, GOOD[1]!.bytes, bad]), (f) => seen.push(f.content)), { code: 'ERR_PROTOCOL_INVALID_HEADER' });
  t.same(seen, [GOOD[0]!.content, GOOD[1]!.content]);
  // The array form loses them (documented) but throws the same way.
  const q = new FrameParser();
  t.throws(() => q.push(Buffer.concat([GOOD[0]!.bytes, bad])), { code: 'ERR_PROTOCOL_INVALID_HEADER' });
});

t.test('a handler that throws does not kill the parser', async (t) => {
  const p = new FrameParser();
  const boom = new Error('handler failed');
  t.throws(() => p.push(Buffer.concat([GOOD[0]!.bytes, GOOD[2]!.bytes]), () => { throw boom; }), boom);
  t.equal(p.error, null);
  // The second frame is still buffered and comes out next time.
  const frames = p.push(Buffer.alloc(0));
  t.equal(frames.length, 1);
  t.same(frames[0]!.content, GOOD[2]!.content);
  // Even a ProtocolError from the handler (e.g. createResponse) is the handler's, not the parser's.
  t.throws(() => p.push(GOOD[0]!.bytes, () => { throw new ProtocolError('ERR_PROTOCOL_INVALID_CONTENT', 'app says no'); }), { code: 'ERR_PROTOCOL_INVALID_CONTENT' });
  t.equal(p.error, null);
  t.equal(p.push(GOOD[1]!.bytes).length, 1);
});

t.test('a frame spanning many chunks is copied once, at the end', async (t) => {
  const content = Buffer.alloc(1_000_000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
  const frame = encodeMessage({ contentType: 'application/octet-stream', contentEncoding: 'binary', content });
  const p = new FrameParser();
  let got: Frame[] = [];
  let pushes = 0;
  for (let i = 0; i < frame.length; i += 4096) {
    got = got.concat(p.push(frame.subarray(i, i + 4096)));
    pushes++;
    if (i + 4096 < frame.length) t.equal(got.length, 0);
  }
  t.ok(pushes > 200);
  t.equal(got.length, 1);
  t.ok(content.equals(got[0]!.content as Buffer));
  t.equal(p.bufferedLength, 0);
});

t.test('zero-copy: a piece inside one chunk is a view of it', async (t) => {
  const frame = encodeMessage({ contentType: 'binary/x', contentEncoding: 'binary', content: Buffer.from('hello') });
  const p = new FrameParser();
  const [f] = p.push(frame);
  t.equal(f!.kind, 'binary');
  t.equal((f!.content as Buffer).buffer, frame.buffer, 'content shares the chunk memory');
  t.equal((f!.content as Buffer).byteOffset, frame.byteOffset + frame.length - 5);
  // A plain Uint8Array chunk works too.
  const u8 = new Uint8Array(frame);
  const [g] = new FrameParser().push(u8);
  t.same(g!.content, Buffer.from('hello'));
  t.equal((g!.content as Buffer).buffer, u8.buffer);
});

t.test('content at and just over the limit', async (t) => {
  const limit = DEFAULT_MAX_CONTENT_LENGTH;
  const big = Buffer.alloc(limit, 0x61);
  const frame = encodeMessage({ contentType: 'binary/x', contentEncoding: 'binary', content: big });
  const p = new FrameParser();
  const got: Frame[] = [];
  for (let i = 0; i < frame.length; i += 1 << 16) got.push(...p.push(frame.subarray(i, i + (1 << 16))));
  t.equal(got.length, 1);
  t.equal(got[0]!.contentLength, limit);

  const json = encodeMessage({ contentType: 'text/json', contentEncoding: 'utf-8', content: 'x'.repeat(limit - 2) });
  t.equal(json.length - 2 - json.readUInt16BE(0), limit);
  const [j] = new FrameParser().push(json);
  t.equal((j!.content as string).length, limit - 2);

  const over = encodeMessage({ contentType: 'binary/x', contentEncoding: 'binary', content: Buffer.alloc(limit + 1) });
  const q = new FrameParser();
  // Detected from the header alone, before any content is buffered.
  const headerOnly = over.subarray(0, 2 + over.readUInt16BE(0));
  t.throws(() => q.push(headerOnly), { code: 'ERR_PROTOCOL_TOO_LARGE' });

  const small = new FrameParser({ maxContentLength: 5 });
  t.equal(small.push(encodeMessage({ contentType: 'b', contentEncoding: 'binary', content: Buffer.alloc(5) })).length, 1);
  t.throws(() => small.push(encodeMessage({ contentType: 'b', contentEncoding: 'binary', content: Buffer.alloc(6) })), { code: 'ERR_PROTOCOL_TOO_LARGE' });
  const zero = new FrameParser({ maxContentLength: 0 });
  t.equal(zero.push(GOOD.find((g) => g.name === 'empty binary')!.bytes).length, 1);
});

t.test('header length limit', async (t) => {
  const frame = GOOD[0]!.bytes;
  const h = frame.readUInt16BE(0);
  t.equal(new FrameParser({ maxHeaderLength: h }).push(frame).length, 1);
  const p = new FrameParser({ maxHeaderLength: h - 1 });
  t.throws(() => p.push(frame.subarray(0, 2)), { code: 'ERR_PROTOCOL_TOO_LARGE', message: /103 bytes is over the limit of 102/ });
  // The maximum the prefix allows is accepted by default.
  const base = encodeMessage({ contentType: '', contentEncoding: 'binary', content: Buffer.from('z') }).readUInt16BE(0);
  const wide = encodeMessage({ contentType: 'x'.repeat(65535 - base), contentEncoding: 'binary', content: Buffer.from('z') });
  t.equal(wide.readUInt16BE(0), 65535);
  const [f] = new FrameParser().push(wide);
  t.equal(f!.headerLength, 65535);
});

t.test('every ProtocolError code from a hand-made hex frame, whole and byte by byte', async (t) => {
  const seen = new Set<string>();
  for (const bad of BAD_FRAMES) {
    const bytes = hex(bad.hex);
    for (const mode of ['whole', 'bytewise'] as const) {
      const p = new FrameParser(bad.options);
      let err: unknown;
      try {
        if (mode === 'whole') p.push(bytes);
        else for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
      } catch (e) {
        err = e;
      }
      t.ok(err instanceof ProtocolError, `${bad.name} (${mode}) throws a ProtocolError`);
      const pe = err as ProtocolError;
      t.equal(pe.code, bad.code, `${bad.name} (${mode}): ${pe.message}`);
      t.equal(pe.name, 'ProtocolError');
      if (bad.message !== undefined) t.equal(pe.message, bad.message);
      // Dead: the same error again, from push and from end.
      t.equal(p.error, pe);
      t.throws(() => p.push(GOOD[0]!.bytes), pe);
      t.throws(() => p.end(), pe);
      seen.add(pe.code);
    }
    // Preceded by a good frame (small enough for every option set) in the
    // same chunk: the good frame first, then the error.
    const q = new FrameParser(bad.options);
    const frames: Frame[] = [];
    const small = encodeMessage({ contentType: 'b', contentEncoding: 'binary', content: Buffer.alloc(0), json: 'compact' });
    t.throws(() => q.push(Buffer.concat([small, bytes]), (f) => frames.push(f)), { code: bad.code });
    t.equal(frames.length, 1);
  }
  seen.add(truncatedCode());
  t.same([...seen].sort(), [
    'ERR_PROTOCOL_INVALID_CONTENT',
    'ERR_PROTOCOL_INVALID_HEADER',
    'ERR_PROTOCOL_INVALID_LENGTH',
    'ERR_PROTOCOL_MISSING_HEADER',
    'ERR_PROTOCOL_TOO_LARGE',
    'ERR_PROTOCOL_TRUNCATED',
    'ERR_PROTOCOL_UNKNOWN_ENCODING',
  ]);
});

function truncatedCode(): string {
  const p = new FrameParser();
  p.push(hex('00'));
  try {
    p.end();
  } catch (e) {
    return (e as ProtocolError).code;
  }
  return 'none';
}

t.test('TRUNCATED on end() mid-frame at every offset; clean end between frames', async (t) => {
  for (const good of GOOD) {
    let failures = 0;
    for (let i = 1; i < good.bytes.length; i++) {
      const p = new FrameParser();
      t.equal(p.push(good.bytes.subarray(0, i)).length, 0);
      if (!p.inFrame) failures++;
      try {
        p.end();
        failures++;
      } catch (e) {
        if ((e as ProtocolError).code !== 'ERR_PROTOCOL_TRUNCATED') failures++;
        if (p.error !== e) failures++;
      }
    }
    t.equal(failures, 0, `${good.name}: ${good.bytes.length - 1} truncation points`);
  }
  const p = new FrameParser();
  p.end(); // nothing received at all
  p.push(GOOD[0]!.bytes);
  p.end(); // right after a frame
  t.equal(p.push(GOOD[1]!.bytes).length, 1, 'still usable after a clean end()');

  // Header complete, content announced but none arrived.
  const q = new FrameParser();
  const b = GOOD[0]!.bytes;
  q.push(b.subarray(0, 2 + b.readUInt16BE(0)));
  t.equal(q.bufferedLength, 0);
  t.ok(q.inFrame);
  t.throws(() => q.end(), { code: 'ERR_PROTOCOL_TRUNCATED', message: 'Connection closed inside a frame: 0 of 41 bytes of the content.' });
  const r = new FrameParser();
  r.push(b.subarray(0, 1));
  t.throws(() => r.end(), { message: 'Connection closed inside a frame: 1 of 2 bytes of the length prefix.' });
  const s = new FrameParser();
  s.push(b.subarray(0, 12));
  t.throws(() => s.end(), { message: 'Connection closed inside a frame: 10 of 103 bytes of the JSON header.' });
});

t.test('prefix split across chunks and empty chunks are fine', async (t) => {
  const b = GOOD[0]!.bytes;
  const p = new FrameParser();
  t.same(p.push(Buffer.alloc(0)), []);
  p.push(b.subarray(0, 1));
  p.push(new Uint8Array(0));
  p.push(b.subarray(1, 2));
  t.equal(p.bufferedLength, 0, 'prefix consumed');
  t.equal(p.push(b.subarray(2)).length, 1);
});

t.test('argument and option validation', async (t) => {
  const p = new FrameParser();
  t.throws(() => p.push('abc' as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
  t.equal(p.error, null, 'a bad argument does not kill the parser');
  const bad: FrameParserOptions[] = [
    { maxContentLength: -1 }, { maxContentLength: 1.5 }, { maxContentLength: Infinity },
    { maxHeaderLength: 0 }, { maxHeaderLength: 65536 }, { maxHeaderLength: 2.5 },
  ];
  for (const o of bad) t.throws(() => new FrameParser(o), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }, JSON.stringify(o));
});

t.test('header details: raw keeps extra keys, aliases, byteorder big, integral float length', async (t) => {
  const header = '{"byteorder": "big", "content-type": "text/json", "content-encoding": "UTF8", "content-length": 2.0, "x-extra": [1]}';
  const h = Buffer.from(header);
  const frame = Buffer.concat([Buffer.from([0, h.length]), h, Buffer.from('{}')]);
  const [f] = new FrameParser().push(frame);
  t.equal(f!.header.byteorder, 'big');
  t.equal(f!.header.contentEncoding, 'UTF8');
  t.equal(f!.header.contentLength, 2);
  t.same(f!.header.raw['x-extra'], [1]);
  t.same(f!.content, {});
});

t.test('large contents are gathered in one buffer of their own, whatever the chunking', (t) => {
  const big = Buffer.alloc(1_000_003);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const frames = Buffer.concat([
    encodeMessage({ contentType: 'binary/x', contentEncoding: 'binary', content: big }),
    encodeMessage({ contentType: 'text/json', contentEncoding: 'utf-8', content: { value: 'v'.repeat(300_000) } }),
    encodeMessage({ contentType: 'binary/x', contentEncoding: 'binary', content: big.subarray(0, 70_000) }),
    encodeMessage({ contentType: 'text/json', contentEncoding: 'utf-8', content: { small: 1 } }),
  ]);
  for (const size of [1, 1000, 65536, 65537, 300_001, frames.length]) {
    const p = new FrameParser();
    const got: Frame[] = [];
    let maxBuffered = 0;
    for (let off = 0; off < frames.length; off += size) {
      got.push(...p.push(Buffer.from(frames.subarray(off, off + size))));
      maxBuffered = Math.max(maxBuffered, p.bufferedLength);
    }
    t.equal(got.length, 4, `chunks of ${size}: four frames`);
    t.ok(Buffer.isBuffer(got[0].content) && big.equals(got[0].content as Buffer), `chunks of ${size}: the 1 MB content is intact`);
    // Arrived in pieces: a buffer of its own (no view keeping a received chunk alive); in one chunk: a view of it.
    const own = (got[0].content as Buffer).buffer.byteLength === big.length;
    t.equal(own, size < frames.length, `chunks of ${size}: own buffer ${own}`);
    t.same(got[1].content, { value: 'v'.repeat(300_000) });
    t.ok(big.subarray(0, 70_000).equals(got[2].content as Buffer), `chunks of ${size}: the 70 kB content is intact`);
    t.same(got[3].content, { small: 1 });
    t.equal(p.bufferedLength, 0);
    t.ok(maxBuffered < big.length + size, 'never more than one content and one chunk buffered');
    t.equal(p.inFrame, false);
  }
  // A header announcing 16 MiB, then a few bytes: the bytes are counted, EOF is a truncation.
  const p = new FrameParser();
  const head = encodeMessage({ contentType: 'binary/x', contentEncoding: 'binary', content: Buffer.alloc(16 * 1024 * 1024 - 1) }).subarray(0, 200);
  t.same(p.push(head), []);
  t.ok(p.inFrame);
  t.ok(p.bufferedLength > 0 && p.bufferedLength < 200);
  t.throws(() => p.end(), { code: 'ERR_PROTOCOL_TRUNCATED' });
  t.end();
});
