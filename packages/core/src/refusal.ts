/**
 * The one reply a connection gets when the server turns it away before any session took
 * it (it waited too long for a thread or a child): ERR in the dialect its first bytes
 * name, text while they name none, as PROTOCOL.md says for an unknown dialect.
 */
import {
  type ErrorCode,
  encodeBinaryMessage,
  encodeHttpResponse,
  encodeTextMessage,
  ProtocolError,
  SNIFF_BYTES,
  sniffDialect,
} from '@echoplex/protocol';

export function refusalBytes(firstBytes: Uint8Array, code: ErrorCode, message: string): Buffer {
  const error = new ProtocolError(code, message);
  const dialect = sniffDialect(firstBytes.subarray(0, SNIFF_BYTES)) ?? 'text';
  if (dialect === 'binary') return encodeBinaryMessage({ kind: 'ERR', error });
  if (dialect === 'text') return encodeTextMessage({ kind: 'ERR', error });
  return encodeHttpResponse(
    { status: error.httpStatus, contentType: 'text/plain', body: error.toString() },
    { version: '1.1', keepAlive: false, headOnly: false },
  );
}
