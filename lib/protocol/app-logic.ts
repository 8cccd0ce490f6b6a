/**
 * The request/response logic of the Real Python app client and server
 * (`app-client.py`'s `create_request`, `libserver.py`'s
 * `_create_response_json_content`/`_create_response_binary_content`), as
 * pure functions from message to message.
 *
 * Pure module: no libc.
 */

import { ProtocolError } from '../errors.js';
import { encodeText } from './text-encoding.js';
import { JSON_CONTENT_TYPE } from './header.js';
import { pythonStr } from './python-repr.js';
import type { BinaryFrame, JsonFrame, JsonValue, MessageSpec } from './types.js';

/** `libserver.py`'s `request_search`: the three entries a `search` can find. */
export const REQUEST_SEARCH: ReadonlyMap<string, string> = new Map([
  ['morpheus', 'Follow the white rabbit. \u{1f430}'],
  ['ring', 'In the caves beneath the Misty Mountains. \u{1f48d}'],
  ['\u{1f436}', '\u{1f43e} Playing ball! \u{1f3d0}'],
]);

/** The content type of a non-search request (`app-client.py`). */
export const CLIENT_BINARY_TYPE = 'binary/custom-client-binary-type';

/** The content type of the reply to a binary request (`libserver.py`). */
export const SERVER_BINARY_TYPE = 'binary/custom-server-binary-type';

/** The content encoding the tutorial declares for bytes (not a text encoding). */
export const BINARY_ENCODING = 'binary';

const BINARY_REPLY_PREFIX = Buffer.from('First 10 bytes of request: ', 'latin1');

/** A JSON message as the app builds it. */
export interface AppJsonMessage extends MessageSpec {
  readonly contentType: 'text/json';
  readonly contentEncoding: 'utf-8';
  readonly content: { readonly [key: string]: JsonValue };
}

/** A binary message as the app builds it. */
export interface AppBinaryMessage extends MessageSpec {
  readonly contentType: string;
  readonly contentEncoding: 'binary';
  readonly content: Buffer;
}

/** What {@link createRequest} and {@link createResponse} return: ready for `encodeMessage`. */
export type AppMessage = AppJsonMessage | AppBinaryMessage;

/** The parts of a received frame {@link createResponse} looks at (a `Frame` will do). */
export type AppRequest = Pick<JsonFrame, 'kind' | 'content'> | Pick<BinaryFrame, 'kind' | 'content'>;

/**
 * `app-client.py`'s `create_request(action, value)`: `search` becomes a
 * `text/json` utf-8 request `{"action": action, "value": value}`; any other
 * action becomes `binary/custom-client-binary-type` content `action + value`
 * in UTF-8, with encoding `'binary'`.
 *
 * @throws {ProtocolError} `ERR_PROTOCOL_INVALID_CONTENT` if a binary
 *   request's text has an unpaired surrogate (Python cannot encode it either).
 */
export function createRequest(action: string, value: string): AppMessage {
  if (action === 'search') {
    return { contentType: JSON_CONTENT_TYPE, contentEncoding: 'utf-8', content: { action, value } };
  }
  return { contentType: CLIENT_BINARY_TYPE, contentEncoding: BINARY_ENCODING, content: encodeText(action + value, 'utf-8') };
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `libserver.py`'s `create_response()` for one request, with the same
 * strings. A `text/json` request gets `{"result": ...}`:
 * `action == "search"` looks `value` up in {@link REQUEST_SEARCH} and
 * answers the entry or `No match for "{value}".`; any other action answers
 * `Error: invalid action "{action}".` (a missing action or value prints as
 * `None`, other values as Python's `str()` would). Any other request gets
 * `binary/custom-server-binary-type` content `First 10 bytes of request: `
 * followed by the request's first 10 bytes, raw.
 *
 * Where Python fails, this fails the same visible way (no reply, the
 * connection is closed) by throwing; where Python silently hangs (a `{}`
 * request, an empty binary request — both falsy in Python, so no reply is
 * ever created) this replies as for any other request.
 *
 * @throws {ProtocolError} `ERR_PROTOCOL_INVALID_CONTENT` if a text/json
 *   request is not a JSON object (Python: `AttributeError`), or a search
 *   value is an array or object (Python: `TypeError: unhashable type`).
 */
export function createResponse(request: AppRequest): AppMessage {
  if (request.kind === 'binary') {
    const head = request.content.subarray(0, 10);
    const content = Buffer.allocUnsafe(BINARY_REPLY_PREFIX.length + head.length);
    BINARY_REPLY_PREFIX.copy(content, 0);
    content.set(head, BINARY_REPLY_PREFIX.length);
    return { contentType: SERVER_BINARY_TYPE, contentEncoding: BINARY_ENCODING, content };
  }
  const body = request.content;
  if (!isObject(body)) {
    throw new ProtocolError('ERR_PROTOCOL_INVALID_CONTENT', `A text/json request must be a JSON object (got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}).`);
  }
  // Object.hasOwn, not `in`: Python's dict.get() sees no inherited keys.
  const action = Object.hasOwn(body, 'action') ? body['action']! : null;
  let result: string;
  if (action === 'search') {
    const query = Object.hasOwn(body, 'value') ? body['value']! : null;
    if (query !== null && typeof query === 'object') {
      throw new ProtocolError('ERR_PROTOCOL_INVALID_CONTENT', `A search value must be a string (got ${Array.isArray(query) ? 'an array' : 'an object'}).`);
    }
    result = (typeof query === 'string' ? REQUEST_SEARCH.get(query) : undefined) ?? `No match for "${pythonStr(query)}".`;
  } else {
    result = `Error: invalid action "${pythonStr(action)}".`;
  }
  return { contentType: JSON_CONTENT_TYPE, contentEncoding: 'utf-8', content: { result } };
}
