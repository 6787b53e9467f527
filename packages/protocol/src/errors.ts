/** Protocol errors are values, not exceptions: each carries the code the client sees. */

/** Every error code of PROTOCOL.md, with whether it closes the connection and its HTTP status. */
export const ERROR_CODES = {
  UNKNOWN_COMMAND: { fatal: false, httpStatus: 404 },
  BAD_ARGUMENT: { fatal: false, httpStatus: 400 },
  NICK_TAKEN: { fatal: false, httpStatus: 409 },
  NOT_IN_ROOM: { fatal: false, httpStatus: 409 },
  BAD_FRAME: { fatal: true, httpStatus: 400 },
  TOO_LARGE: { fatal: true, httpStatus: 413 },
  BUSY: { fatal: true, httpStatus: 503 },
  TIMEOUT: { fatal: true, httpStatus: 408 },
  SLOW_CONSUMER: { fatal: true, httpStatus: 503 },
  SHUTTING_DOWN: { fatal: true, httpStatus: 503 },
  UNAVAILABLE: { fatal: false, httpStatus: 503 },
  NOT_FOUND: { fatal: false, httpStatus: 404 },
} as const satisfies Record<string, { fatal: boolean; httpStatus: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (value: string): value is ErrorCode => Object.hasOwn(ERROR_CODES, value);

/** An error the server reports to a client: `ERR <code> <message>` on the wire. */
export class ProtocolError {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    /** Overrides the code's usual HTTP status (431 for an oversized request head). */
    readonly httpStatus: number = ERROR_CODES[code].httpStatus,
  ) {}

  /** A fatal error closes the connection once it has been sent. */
  get fatal(): boolean {
    return ERROR_CODES[this.code].fatal;
  }

  /** The `CODE message` text carried by ERR in every dialect. */
  toString(): string {
    return this.message === '' ? this.code : `${this.code} ${this.message}`;
  }
}

export const isProtocolError = (value: unknown): value is ProtocolError => value instanceof ProtocolError;
