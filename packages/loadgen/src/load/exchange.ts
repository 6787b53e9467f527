/**
 * The pre-encoded request and the exact reply expected for it, built once per run, so the hot path
 * only writes the same bytes and compares what comes back.
 */
import { encodeFrame, FrameType, iteratedSha256 } from '@echoplex/protocol';
import type { LoadOptions } from './load-options.js';

export interface Exchange {
  readonly request: Buffer;
  readonly reply: Buffer;
  /** Bytes of payload the reply carries back (for MB/s). */
  readonly payloadBytes: number;
}

/** A payload that is not all zeroes, so a byte dropped, doubled or flipped anywhere shows. */
export function patternBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

export function buildExchange(options: Pick<LoadOptions, 'scenario' | 'size' | 'workIterations' | 'mirror'>): Exchange {
  const payload = patternBytes(options.size);
  switch (options.scenario) {
    case 'echo':
    case 'churn': {
      const request = encodeFrame(FrameType.ECHO, payload);
      return { request, reply: options.mirror ? request : encodeFrame(FrameType.ECHO_REPLY, payload), payloadBytes: options.size };
    }
    case 'ping': {
      const request = encodeFrame(FrameType.PING, payload);
      return { request, reply: options.mirror ? request : encodeFrame(FrameType.PONG, payload), payloadBytes: options.size };
    }
    case 'work': {
      const body = Buffer.allocUnsafe(4 + payload.length);
      body.writeUInt32BE(options.workIterations, 0);
      payload.copy(body, 4);
      const request = encodeFrame(FrameType.WORK, body);
      const reply = options.mirror ? request : encodeFrame(FrameType.WORK_RESULT, iteratedSha256(payload, options.workIterations));
      return { request, reply, payloadBytes: reply.length - 5 };
    }
    case 'chat':
    case 'fanout':
      throw new RangeError(`${options.scenario} has no fixed exchange: members build their own messages`);
    case 'get':
      throw new RangeError('get has no fixed exchange: a download is a stream of frames (get-stream.ts)');
  }
}
