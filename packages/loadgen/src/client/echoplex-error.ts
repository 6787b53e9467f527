/** A server's ERR reply raised by the client's convenience methods, carrying the protocol code. */
import type { ErrorCode, ProtocolError } from '@echoplex/protocol';

export class EchoplexError extends Error {
  override readonly name = 'EchoplexError';
  readonly code: ErrorCode;

  constructor(readonly error: ProtocolError) {
    super(error.toString());
    this.code = error.code;
  }
}

/** The connection closed, or never opened, before the reply came. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}
