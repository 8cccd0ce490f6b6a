import t from 'tap';
import {
  decodeText,
  encodedLength,
  encodeText,
  normalizeEncoding,
  requireEncoding,
} from '../../lib/protocol/index.js';

t.test('names: case-insensitive, -, _ and spaces ignored, Python aliases', async (t) => {
  const table: [string, string | undefined][] = [
    ['utf-8', 'utf-8'], ['UTF-8', 'utf-8'], ['utf8', 'utf-8'], ['utf_8', 'utf-8'], ['U8', 'utf-8'], ['utf 8', 'utf-8'],
    ['UTF-8 ', 'utf-8'], ['cp65001', 'utf-8'], ['utf-8-sig', 'utf-8-sig'],
    ['ascii', 'ascii'], ['US-ASCII', 'ascii'], ['646', 'ascii'],
    ['latin-1', 'latin-1'], ['latin1', 'latin-1'], ['Latin1', 'latin-1'], ['iso-8859-1', 'latin-1'], ['ISO8859_1', 'latin-1'],
    ['l1', 'latin-1'], ['cp819', 'latin-1'],
    ['utf-16', 'utf-16'], ['u16', 'utf-16'], ['utf-16-le', 'utf-16-le'], ['UTF_16LE', 'utf-16-le'], ['utf-16-be', 'utf-16-be'],
    ['binary', undefined], ['utf-9', undefined], ['', undefined], ['latin-2', undefined],
  ];
  for (const [name, canonical] of table) t.equal(normalizeEncoding(name), canonical, JSON.stringify(name));
  t.throws(() => requireEncoding('binary'), { code: 'ERR_PROTOCOL_UNKNOWN_ENCODING', message: 'Unknown content-encoding "binary".' });
  t.throws(() => encodeText('x', 'binary'), { code: 'ERR_PROTOCOL_UNKNOWN_ENCODING' });
  t.throws(() => decodeText(Buffer.from('x'), 'ebcdic'), { code: 'ERR_PROTOCOL_UNKNOWN_ENCODING' });
});

t.test('encode: bytes as Python writes them', async (t) => {
  const table: [string, string, string][] = [
    ['utf-8', 'a🐰é', '61f09f90b0c3a9'],
    ['utf-8-sig', 'a', 'efbbbf61'],
    ['ascii', 'a~\x7f', '617e7f'],
    ['latin-1', 'aéÿ', '61e9ff'],
    ['utf-16', 'ab', 'fffe61006200'],
    ['utf-16-le', 'a🐰', '61003dd830dc'],
    ['utf-16-be', 'a🐰', '0061d83ddc30'],
    ['utf-8', '', ''],
  ];
  for (const [enc, text, hex] of table) {
    t.equal(encodeText(text, enc).toString('hex'), hex, `${enc} ${JSON.stringify(text)}`);
    t.equal(encodedLength(text, requireEncoding(enc)), hex.length / 2);
  }
  const bad: [string, string][] = [['é', 'ascii'], ['Ā', 'latin-1'], ['a\ud800', 'utf-8'], ['\udc00b', 'utf-16'], ['\ud800', 'utf-16-be']];
  for (const [text, enc] of bad) {
    t.throws(() => encodeText(text, enc), { code: 'ERR_PROTOCOL_INVALID_CONTENT', name: 'ProtocolError' }, `${enc} ${JSON.stringify(text)}`);
  }
  t.throws(() => encodeText('é'.repeat(50), 'ascii'), { message: /^Cannot encode "é{37}\.\.\." as ascii: character outside ASCII\.$/ });
});

t.test('decode: strict, like Python', async (t) => {
  const good: [string, string, string][] = [
    ['utf-8', '61f09f90b0', 'a🐰'],
    ['utf-8', 'efbbbf61', '\ufeffa'], // Python's utf-8 keeps the BOM
    ['utf-8-sig', 'efbbbf61', 'a'],
    ['utf-8-sig', '61', 'a'],
    ['ascii', '617f', 'a\x7f'],
    ['latin-1', '61e9ff80', 'aéÿ\x80'],
    ['utf-16', '61006200', 'ab'], // no BOM: little-endian, as Python on x86-64
    ['utf-16', 'fffe61006200', 'ab'],
    ['utf-16', 'feff00610062', 'ab'],
    ['utf-16-le', 'fffe6100', '\ufeffa'],
    ['utf-16-le', '3dd830dc', '🐰'],
    ['utf-16-be', '0061d83ddc30', 'a🐰'],
    ['utf-16', '', ''],
  ];
  for (const [enc, hex, text] of good) {
    t.equal(decodeText(Buffer.from(hex, 'hex'), enc), text, `${enc} ${hex}`);
  }
  // A plain Uint8Array view into a larger buffer decodes only its own bytes.
  const backing = new Uint8Array([0x7a, 0x61, 0xe9, 0x7a]);
  t.equal(decodeText(backing.subarray(1, 3), 'latin-1'), 'aé');
  t.equal(decodeText(backing.subarray(1, 2), 'ascii'), 'a');

  const bad: [string, string][] = [
    ['utf-8', 'ff'], ['utf-8', 'c3'], ['utf-8', 'eda080'], ['utf-8-sig', 'efbb'],
    ['ascii', '6180'], ['ascii', 'ff'],
    ['utf-16', 'fffe61'], ['utf-16', '00d8'], ['utf-16-le', '610062'], ['utf-16-be', 'd800'], ['utf-16-be', '006100'],
    ['utf-16', 'feff00'],
  ];
  for (const [enc, hex] of bad) {
    t.throws(() => decodeText(Buffer.from(hex, 'hex'), enc), { code: 'ERR_PROTOCOL_INVALID_CONTENT', name: 'ProtocolError' }, `${enc} ${hex}`);
  }
  t.throws(() => decodeText(Buffer.from('6180', 'hex'), 'ascii'), { message: 'Content is not valid ascii: byte 0x80 at position 1.' });
  t.throws(() => decodeText(Buffer.from('610062', 'hex'), 'utf-16-le'), { message: /odd number of bytes/ });
  t.throws(() => decodeText(Buffer.from('00d8', 'hex'), 'utf-16-le'), { message: /unpaired surrogate/ });
  // The caller's bytes are untouched by big-endian decoding.
  const be = Buffer.from('0061', 'hex');
  decodeText(be, 'utf-16-be');
  t.equal(be.toString('hex'), '0061');
});
