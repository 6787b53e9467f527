/** Binary frames: any cutting of the byte stream yields the same frames, and bad lengths fail fast. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBinaryRequest,
  encodeBinaryRequest,
  encodeFrame,
  type Frame,
  FrameDecoder,
  ProtocolError,
  type Request,
} from '../src/index.js';

/** Feeds `stream` cut at `cuts` and collects every frame (copied) or the final error. */
function decodeAll(stream: Buffer, cuts: number[], maxBody = 1024): (Frame | ProtocolError)[] {
  const decoder = new FrameDecoder(maxBody);
  const out: (Frame | ProtocolError)[] = [];
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, stream.length]) {
    decoder.push(stream.subarray(from, to));
    from = to;
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
      if (frame instanceof ProtocolError) return [...out, frame];
      out.push({ type: frame.type, body: Buffer.from(frame.body) });
    }
  }
  return out;
}

const frameArb = fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 300 }) });

describe('FrameDecoder', () => {
  it('yields the same frames however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.body)));
        const whole = decodeAll(stream, []);
        expect(whole).toEqual(frames.map((f) => ({ type: f.type, body: Buffer.from(f.body) })));
        expect(decodeAll(stream, cuts)).toEqual(whole);
      }),
    );
  });

  it('refuses a length over the limit as soon as its four bytes arrive', () => {
    const decoder = new FrameDecoder(10);
    decoder.push(Buffer.from([0, 0, 0, 12]));
    const result = decoder.next();
    expect(result).toBeInstanceOf(ProtocolError);
    expect((result as ProtocolError).code).toBe('TOO_LARGE');
    expect((result as ProtocolError).fatal).toBe(true);
  });

  it('accepts a body of exactly max-frame bytes', () => {
    const decoder = new FrameDecoder(10);
    decoder.push(encodeFrame(1, Buffer.alloc(10, 7)));
    expect(decoder.next()).toEqual({ type: 1, body: Buffer.alloc(10, 7) });
  });

  it('fails with BAD_FRAME on a zero length, and stays failed', () => {
    const decoder = new FrameDecoder(10);
    decoder.push(Buffer.from([0, 0, 0, 0, 1, 2, 3]));
    expect((decoder.next() as ProtocolError).code).toBe('BAD_FRAME');
    decoder.push(encodeFrame(1, Buffer.from('x')));
    expect((decoder.next() as ProtocolError).code).toBe('BAD_FRAME');
  });

  it('never throws on arbitrary bytes: frames or a protocol error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const result = decodeAll(Buffer.from(bytes), cuts, 64);
        for (const item of result.slice(0, -1)) expect(item).not.toBeInstanceOf(ProtocolError);
      }),
    );
  });
});

const requestArb: fc.Arbitrary<Request> = fc.oneof(
  fc.uint8Array({ maxLength: 100 }).map((data) => ({ command: 'ECHO' as const, data: Buffer.from(data) })),
  fc.uint8Array({ maxLength: 20 }).map((token) => ({ command: 'PING' as const, token: Buffer.from(token) })),
  fc.string({ maxLength: 40 }).map((nick) => ({ command: 'NICK' as const, nick })),
  fc.string({ maxLength: 40 }).map((room) => ({ command: 'JOIN' as const, room })),
  fc.string({ maxLength: 40 }).map((text) => ({ command: 'SAY' as const, text })),
  fc
    .tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.uint8Array({ maxLength: 40 }))
    .map(([iterations, data]) => ({ command: 'WORK' as const, iterations, data: Buffer.from(data) })),
  fc.constantFrom<Request>({ command: 'LEAVE' }, { command: 'WHO' }, { command: 'INFO' }, { command: 'QUIT' }),
);

describe('binary requests', () => {
  it('round-trip through encode, the frame decoder and decode', () => {
    fc.assert(
      fc.property(requestArb, (request) => {
        const decoder = new FrameDecoder(1024);
        decoder.push(encodeBinaryRequest(request));
        const frame = decoder.next() as Frame;
        expect(decodeBinaryRequest(frame)).toEqual(request);
      }),
    );
  });

  it('answers an unknown type with UNKNOWN_COMMAND, not fatal', () => {
    const error = decodeBinaryRequest({ type: 0x42, body: Buffer.alloc(0) }) as ProtocolError;
    expect(error.code).toBe('UNKNOWN_COMMAND');
    expect(error.fatal).toBe(false);
  });

  it('refuses WORK with fewer than four body bytes or iterations out of range', () => {
    expect((decodeBinaryRequest({ type: 0x08, body: Buffer.from([0, 1]) }) as ProtocolError).code).toBe('BAD_ARGUMENT');
    const zero = Buffer.from([0, 0, 0, 0]);
    expect((decodeBinaryRequest({ type: 0x08, body: zero }) as ProtocolError).code).toBe('BAD_ARGUMENT');
  });

  it('refuses invalid UTF-8 in a nick as a fatal BAD_FRAME', () => {
    const error = decodeBinaryRequest({ type: 0x03, body: Buffer.from([0xc3, 0x28]) }) as ProtocolError;
    expect(error.code).toBe('BAD_FRAME');
    expect(error.fatal).toBe(true);
  });
});
