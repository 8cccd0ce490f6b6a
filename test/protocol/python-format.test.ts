import t from 'tap';
import { pythonFloatRepr, pythonJson, pythonRepr, pythonStr } from '../../lib/protocol/index.js';

// Expected strings produced by python3 3.11: repr(x) / json.dumps(x) for floats.
const FLOATS: [number, string][] = [
  [0.1, '0.1'], [1.5, '1.5'], [-2.5, '-2.5'], [1e16, '1e+16'], [1e15, '1000000000000000.0'],
  [123456789012345678.0, '1.2345678901234568e+17'], [0.0001, '0.0001'], [0.00001, '1e-05'], [1.5e-7, '1.5e-07'],
  [1e21, '1e+21'], [1e22, '1e+22'], [-2.5e-5, '-2.5e-05'], [5e-324, '5e-324'],
  [1.7976931348623157e308, '1.7976931348623157e+308'], [9007199254740992.0, '9007199254740992.0'],
  [9007199254740994.0, '9007199254740994.0'], [1e300, '1e+300'], [12345.678, '12345.678'], [0.3, '0.3'],
  [2.5e-5, '2.5e-05'], [1.2345e-10, '1.2345e-10'], [100.5, '100.5'], [-0, '-0.0'],
];

t.test('pythonFloatRepr matches repr(float)', async (t) => {
  for (const [x, s] of FLOATS) t.equal(pythonFloatRepr(x), s, String(x));
  t.equal(pythonFloatRepr(NaN), 'nan');
  t.equal(pythonFloatRepr(Infinity), 'inf');
  t.equal(pythonFloatRepr(-Infinity), '-inf');
  t.equal(pythonFloatRepr(3), '3.0');
});

t.test('pythonJson matches json.dumps(ensure_ascii=False)', async (t) => {
  const obj = {
    a: [1, 2, { b: null }], c: true, d: 'x"\\\n\t\u0001\u007f\u2028é🐰\b\f\r/', e: {}, f: [], g: false, h: -7, i: 0.5,
    nested: { k: [[], [{}]] },
  };
  // json.dumps(obj, ensure_ascii=False).encode().hex() from python3 3.11
  const expected = '7b2261223a205b312c20322c207b2262223a206e756c6c7d5d2c202263223a20747275652c202264223a2022785c225c5c5c6e5c745c75303030317fe280a8c3a9f09f90b05c625c665c722f222c202265223a207b7d2c202266223a205b5d2c202267223a2066616c73652c202268223a202d372c202269223a20302e352c20226e6573746564223a207b226b223a205b5b5d2c205b7b7d5d5d7d7d';
  t.equal(Buffer.from(pythonJson(obj)).toString('hex'), expected);
  // Floats inside JSON: safe integers as ints, the rest as Python floats.
  t.equal(pythonJson(FLOATS.map(([x]) => x)), `[${FLOATS.map(([x, s]) => (Number.isSafeInteger(x) ? String(x) : s)).join(', ')}]`);
  t.equal(pythonJson([1e15, -0, 2.0]), '[1000000000000000, 0, 2]', 'safe integers are written as Python ints');
  t.equal(pythonJson([NaN, Infinity, -Infinity]), '[NaN, Infinity, -Infinity]');
  t.equal(pythonJson({ k: 10n ** 21n, big: 2n ** 64n }), '{"k": 1000000000000000000000, "big": 18446744073709551616}');
  t.equal(pythonJson(null), 'null');
  t.equal(pythonJson('s'), '"s"');
  t.equal(pythonJson(3), '3');
  // What Python has no counterpart of follows JSON.stringify.
  t.equal(pythonJson({ u: undefined, f: () => 1, s: Symbol('x'), ok: 1 }), '{"ok": 1}');
  t.equal(pythonJson([undefined, () => 1]), '[null, null]');
  t.equal(pythonJson({ d: new Date(0) }), '{"d": "1970-01-01T00:00:00.000Z"}');
  t.equal(pythonJson({ j: { toJSON: (key: string) => `key=${key}` } }), '{"j": "key=j"}');
  t.equal(pythonJson([Object(1.5), Object('s'), Object(false), Object(true)]), '[1.5, "s", false, true]');
  t.equal(pythonJson(Buffer.from([1, 2])), '{"type": "Buffer", "data": [1, 2]}');
  t.equal(pythonJson('\ud800'), '"\\ud800"');
  const shared = { x: 1 };
  t.equal(pythonJson([shared, shared]), '[{"x": 1}, {"x": 1}]', 'a repeated object is not a cycle');
  const cyc: Record<string, unknown> = {};
  cyc['self'] = cyc;
  t.throws(() => pythonJson(cyc), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
  t.throws(() => pythonJson(undefined), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => pythonJson(() => 1), { code: 'ERR_INVALID_ARG_VALUE' });
});

t.test('pythonRepr / pythonStr match repr() / str()', async (t) => {
  const r = {
    a: [1, 2.5, null, true, false], "it's": 'say "hi"', 'both\'"': '\x00\x7f\x80\xa0é\u2028🐰\ud800\u{e0001}\u200b\t\n\r\\',
    zwj: '\u00ad', sp: '\u3000 x', e: {}, l: [],
  };
  t.equal(
    pythonRepr(r),
    `{'a': [1, 2.5, None, True, False], "it's": 'say "hi"', 'both\\'"': '\\x00\\x7f\\x80\\xa0é\\u2028🐰\\ud800\\U000e0001\\u200b\\t\\n\\r\\\\', 'zwj': '\\xad', 'sp': '\\u3000 x', 'e': {}, 'l': []}`,
  );
  const bytes: [Uint8Array, string][] = [
    [Buffer.from([0, 9, 10, 13, 0x27, 0x22, 0x5c, 0x61, 0x62, 0x7f, 0x80, 0xff]), `b'\\x00\\t\\n\\r\\'"\\\\ab\\x7f\\x80\\xff'`],
    [Buffer.from("it's"), `b"it's"`],
    [Buffer.from('it\'s "x"'), `b'it\\'s "x"'`],
    [new Uint8Array(0), "b''"],
  ];
  for (const [b, s] of bytes) t.equal(pythonRepr(b), s);
  t.equal(pythonRepr('it\'s "x"'), `'it\\'s "x"'`);
  t.equal(pythonRepr("it's"), `"it's"`);
  t.equal(pythonRepr(''), "''");
  t.equal(pythonRepr('\\'), "'\\\\'");
  t.equal(pythonRepr('plain'), "'plain'");
  t.equal(pythonRepr(undefined), 'None');
  t.equal(pythonRepr(NaN), 'nan');
  t.equal(pythonRepr(12n), '12');
  t.equal(pythonRepr(1e16), '1e+16');
  t.equal(pythonRepr(Symbol.for('s')), 'Symbol(s)');
  t.same([null, true, [1, 'a'], { k: null }, 5, 1.5, 's'].map(pythonStr), ['None', 'True', "[1, 'a']", "{'k': None}", '5', '1.5', 's']);
  // The tutorial's log line for the morpheus request.
  t.equal(
    pythonRepr(Buffer.from('00677b22', 'hex')),
    `b'\\x00g{"'`,
  );
});
