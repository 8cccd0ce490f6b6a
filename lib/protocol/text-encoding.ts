/**
 * The text encodings a `content-encoding` header may name, with Python's
 * strictness: decoding invalid bytes and encoding unencodable text are
 * errors (Python raises `UnicodeDecodeError`/`UnicodeEncodeError`), never
 * silent replacement characters.
 *
 * Names are matched case-insensitively with `-`, `_` and whitespace ignored,
 * over a subset of Python's codec aliases (`UTF8`, `utf_8`, `u8`, `latin1`,
 * `ISO-8859-1`, `us-ascii`, `utf-16-le`, ...). Pure module: no libc.
 */

import { ProtocolError } from '../errors.js';

/** Canonical names of the supported text encodings. */
export type TextEncodingName = 'utf-8' | 'utf-8-sig' | 'ascii' | 'latin-1' | 'utf-16' | 'utf-16-le' | 'utf-16-be';

const ALIASES: ReadonlyMap<string, TextEncodingName> = new Map<string, TextEncodingName>([
  ['utf8', 'utf-8'], ['u8', 'utf-8'], ['utf', 'utf-8'], ['cp65001', 'utf-8'],
  ['utf8sig', 'utf-8-sig'],
  ['ascii', 'ascii'], ['usascii', 'ascii'], ['us', 'ascii'], ['646', 'ascii'], ['cp367', 'ascii'],
  ['ibm367', 'ascii'], ['iso646us', 'ascii'], ['csascii', 'ascii'],
  ['latin1', 'latin-1'], ['latin', 'latin-1'], ['l1', 'latin-1'], ['iso88591', 'latin-1'], ['88591', 'latin-1'],
  ['8859', 'latin-1'], ['cp819', 'latin-1'], ['ibm819', 'latin-1'], ['isoir100', 'latin-1'], ['csisolatin1', 'latin-1'],
  ['utf16', 'utf-16'], ['u16', 'utf-16'],
  ['utf16le', 'utf-16-le'], ['unicodelittleunmarked', 'utf-16-le'],
  ['utf16be', 'utf-16-be'], ['unicodebigunmarked', 'utf-16-be'],
]);

/**
 * The canonical name of a text encoding, or `undefined` if it is not one
 * this library knows (`'binary'`, the tutorial's marker for bytes, is not).
 */
export function normalizeEncoding(name: string): TextEncodingName | undefined {
  return ALIASES.get(name.toLowerCase().replace(/[\s_-]+/g, ''));
}

/**
 * Like {@link normalizeEncoding}, but an unknown name is an error.
 *
 * @throws {ProtocolError} `ERR_PROTOCOL_UNKNOWN_ENCODING` if the encoding is unknown.
 */
export function requireEncoding(name: string): TextEncodingName {
  const encoding = normalizeEncoding(name);
  if (encoding === undefined) {
    throw new ProtocolError('ERR_PROTOCOL_UNKNOWN_ENCODING', `Unknown content-encoding ${JSON.stringify(name)}.`);
  }
  return encoding;
}

// \p{Cs} under the u flag matches only surrogates that are not part of a pair.
const LONE_SURROGATE = /\p{Cs}/u;
const NON_ASCII = /[^\x00-\x7f]/;
const NON_LATIN1 = /[^\x00-\xff]/;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

function unencodable(text: string, encoding: TextEncodingName, why: string): ProtocolError {
  const shown = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return new ProtocolError('ERR_PROTOCOL_INVALID_CONTENT', `Cannot encode ${JSON.stringify(shown)} as ${encoding}: ${why}.`);
}

/**
 * The number of bytes `text` takes in `encoding` (byte-order marks included
 * for `utf-16` and `utf-8-sig`), after checking that it can be encoded.
 *
 * @throws {ProtocolError} `ERR_PROTOCOL_INVALID_CONTENT` if `text` has a
 *   character the encoding cannot represent (a non-ASCII character for
 *   ascii, above U+00FF for latin-1, an unpaired surrogate for UTF-8/16).
 */
export function encodedLength(text: string, encoding: TextEncodingName): number {
  switch (encoding) {
    case 'ascii':
      if (NON_ASCII.test(text)) throw unencodable(text, encoding, 'character outside ASCII');
      return text.length;
    case 'latin-1':
      if (NON_LATIN1.test(text)) throw unencodable(text, encoding, 'character above U+00FF');
      return text.length;
    default:
      if (LONE_SURROGATE.test(text)) throw unencodable(text, encoding, 'unpaired surrogate');
      if (encoding === 'utf-8') return Buffer.byteLength(text, 'utf8');
      if (encoding === 'utf-8-sig') return 3 + Buffer.byteLength(text, 'utf8');
      return (encoding === 'utf-16' ? 2 : 0) + 2 * text.length;
  }
}

/**
 * Writes `text` in `encoding` into `target` at `offset`; returns the number
 * of bytes written. The text must have passed {@link encodedLength} and the
 * target must have room for that many bytes. `utf-16` is written like
 * Python's codec on a little-endian machine: BOM `FF FE`, then UTF-16LE.
 */
export function writeEncoded(target: Buffer, offset: number, text: string, encoding: TextEncodingName): number {
  switch (encoding) {
    case 'utf-8':
      return target.write(text, offset, 'utf8');
    case 'utf-8-sig':
      target[offset] = UTF8_BOM[0];
      target[offset + 1] = UTF8_BOM[1];
      target[offset + 2] = UTF8_BOM[2];
      return 3 + target.write(text, offset + 3, 'utf8');
    case 'ascii':
    case 'latin-1':
      return target.write(text, offset, 'latin1');
    case 'utf-16':
      target[offset] = 0xff;
      target[offset + 1] = 0xfe;
      return 2 + target.write(text, offset + 2, 'utf16le');
    case 'utf-16-le':
      return target.write(text, offset, 'utf16le');
    case 'utf-16-be': {
      const written = target.write(text, offset, 'utf16le');
      target.subarray(offset, offset + written).swap16();
      return written;
    }
  }
}

/**
 * `text` encoded in the named encoding, in a new Buffer.
 *
 * @throws {ProtocolError} `ERR_PROTOCOL_UNKNOWN_ENCODING` if the encoding is
 *   unknown; `ERR_PROTOCOL_INVALID_CONTENT` if the text cannot be encoded.
 */
export function encodeText(text: string, encoding: string): Buffer {
  const name = requireEncoding(encoding);
  const out = Buffer.allocUnsafe(encodedLength(text, name));
  writeEncoded(out, 0, text, name);
  return out;
}

// ignoreBOM: true keeps a BOM as U+FEFF, as Python's 'utf-8' and 'utf-16-le'
// codecs do (JSON.parse then rejects it, like Python's json).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf16leDecoder = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

function undecodable(encoding: string, why: string): ProtocolError {
  return new ProtocolError('ERR_PROTOCOL_INVALID_CONTENT', `Content is not valid ${encoding}: ${why}.`);
}

function decodeUtf16le(bytes: Uint8Array, encoding: string): string {
  try {
    return utf16leDecoder.decode(bytes);
  } catch {
    throw undecodable(encoding, bytes.length % 2 === 0 ? 'unpaired surrogate' : 'odd number of bytes');
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes `bytes` as text in the named encoding, strictly.
 *
 * `utf-16` without a BOM is read as little-endian (what Python does on a
 * little-endian machine); with `FF FE` or `FE FF` the BOM picks the order and
 * is dropped. `utf-8-sig` drops a leading UTF-8 BOM; plain `utf-8` keeps it.
 *
 * @throws {ProtocolError} `ERR_PROTOCOL_UNKNOWN_ENCODING` if the encoding is
 *   unknown; `ERR_PROTOCOL_INVALID_CONTENT` if the bytes are not valid text
 *   in it (bad UTF-8, a byte >= 0x80 in ascii, odd-length or unpaired UTF-16).
 */
export function decodeText(bytes: Uint8Array, encoding: string): string {
  const name = requireEncoding(encoding);
  switch (name) {
    case 'utf-8':
    case 'utf-8-sig': {
      let view = bytes;
      if (name === 'utf-8-sig' && bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2]) {
        view = bytes.subarray(3);
      }
      try {
        return utf8Decoder.decode(view);
      } catch {
        throw undecodable(name, 'invalid byte sequence');
      }
    }
    case 'ascii':
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i]! >= 0x80) throw undecodable(name, `byte 0x${bytes[i]!.toString(16)} at position ${i}`);
      }
      return asBuffer(bytes).toString('latin1');
    case 'latin-1':
      return asBuffer(bytes).toString('latin1');
    case 'utf-16-le':
      return decodeUtf16le(bytes, name);
    case 'utf-16':
      if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16be(bytes.subarray(2), name);
      return decodeUtf16le(bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2) : bytes, name);
    case 'utf-16-be':
      return decodeUtf16be(bytes, name);
  }
}

function decodeUtf16be(bytes: Uint8Array, encoding: string): string {
  if (bytes.length % 2 !== 0) throw undecodable(encoding, 'odd number of bytes');
  // A copy, byte-swapped: the caller's bytes stay untouched.
  return decodeUtf16le(Buffer.from(bytes).swap16(), encoding);
}
