/**
 * Binary frames: `length u32 BE | type u8 | body`. The decoder is incremental, so a
 * stream cut anywhere (half a frame, several frames) yields the same frames.
 */
import { ProtocolError } from './errors.js';

export const FrameType = {
  ECHO: 0x01,
  PING: 0x02,
  NICK: 0x03,
  JOIN: 0x04,
  LEAVE: 0x05,
  SAY: 0x06,
  WHO: 0x07,
  WORK: 0x08,
  INFO: 0x09,
  QUIT: 0x0a,
  LIST: 0x0b,
  GET: 0x0c,
  PUT: 0x0d,
  ECHO_REPLY: 0x81,
  PONG: 0x82,
  NICK_OK: 0x83,
  JOIN_OK: 0x84,
  LEAVE_OK: 0x85,
  WHO_REPLY: 0x87,
  WORK_RESULT: 0x88,
  INFO_REPLY: 0x89,
  BYE: 0x8a,
  LIST_REPLY: 0x8b,
  FILE_DATA: 0x8c,
  PUT_OK: 0x8d,
  MSG: 0xc0,
  JOINED: 0xc1,
  LEFT: 0xc2,
  ERR: 0xff,
} as const;

export type FrameTypeName = keyof typeof FrameType;

/** Bytes before the body: the u32 length and the type byte. */
export const FRAME_HEADER_BYTES = 5;

/** `max-frame + 1` must stay below 2^24 so that a frame's first byte is always 0x00. */
export const MAX_FRAME_LIMIT = 2 ** 24 - 2;

export interface Frame {
  readonly type: number;
  /** A view into the decoder's input: copy it to keep it past the next `push`. */
  readonly body: Buffer;
}

/** Encodes one frame into a fresh buffer. */
export function encodeFrame(type: number, body: Uint8Array = EMPTY): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length + 1, 0);
  frame[4] = type;
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

const EMPTY = new Uint8Array(0);

/**
 * Pull-based frame decoder: `push` bytes as they arrive, then call `next` until it
 * returns `undefined` (more bytes needed). A `ProtocolError` is final: the stream is
 * not in sync any more, and every later call returns the same error.
 */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  private failure: ProtocolError | undefined;

  constructor(private readonly maxBody: number) {
    if (!Number.isInteger(maxBody) || maxBody < 0 || maxBody > MAX_FRAME_LIMIT) {
      throw new RangeError(`max frame must be an integer in 0..${MAX_FRAME_LIMIT}, got ${maxBody}`);
    }
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.offset === this.buffer.length) {
      this.buffer = bytes;
    } else {
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), bytes]);
    }
    this.offset = 0;
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.buffer.length - this.offset;
  }

  next(): Frame | ProtocolError | undefined {
    if (this.failure !== undefined) return this.failure;
    const available = this.buffer.length - this.offset;
    if (available < 4) return undefined;
    const length = this.buffer.readUInt32BE(this.offset);
    if (length === 0) return this.fail(new ProtocolError('BAD_FRAME', 'frame length 0'));
    if (length > this.maxBody + 1) {
      return this.fail(new ProtocolError('TOO_LARGE', `frame of ${length - 1} bytes over the limit of ${this.maxBody}`));
    }
    if (available < 4 + length) return undefined;
    const start = this.offset;
    this.offset = start + 4 + length;
    return { type: this.buffer[start + 4] as number, body: this.buffer.subarray(start + FRAME_HEADER_BYTES, this.offset) };
  }

  private fail(error: ProtocolError): ProtocolError {
    this.failure = error;
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    return error;
  }
}
