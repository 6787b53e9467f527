/** The datagram dialect: whole frames and lines round-trip; truncated, padded and random datagrams are answered, never thrown. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecodedDatagram,
  decodeDatagramReply,
  decodeDatagramRequest,
  encodeDatagramHelp,
  encodeDatagramReply,
  encodeDatagramRequest,
  encodeFrame,
  FrameType,
  MAX_DATAGRAM_BYTES,
  ProtocolError,
  type Reply,
  type Request,
} from '../src/index.js';

const limits = { maxFrame: 1024 ** 2, maxLine: 64 * 1024 };

const bytesArb = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));
/** Text a line can carry: UTF-8 without LF or CR (a CR before the end would be dropped). */
const lineTextArb = fc.string({ unit: 'grapheme', maxLength: 80 }).filter((s) => !/[\r\n]/.test(s));

const binaryRequestArb: fc.Arbitrary<Request> = fc.oneof(
  bytesArb.map((data) => ({ command: 'ECHO', data }) as const),
  bytesArb.map((token) => ({ command: 'PING', token }) as const),
  fc.record({ iterations: fc.integer({ min: 1, max: 1_000_000 }), data: bytesArb }).map((r) => ({ command: 'WORK', ...r }) as const),
  fc.constant({ command: 'INFO' } as const),
);

const textRequestArb: fc.Arbitrary<Request> = fc.oneof(
  lineTextArb.map((s) => ({ command: 'ECHO', data: Buffer.from(s) }) as const),
  lineTextArb.map((s) => ({ command: 'PING', token: Buffer.from(s) }) as const),
  fc
    .record({ iterations: fc.integer({ min: 1, max: 1_000_000 }), data: lineTextArb })
    .map((r) => ({ command: 'WORK', iterations: r.iterations, data: Buffer.from(r.data) }) as const),
  fc.constant({ command: 'INFO' } as const),
);

const errorCode = (decoded: DecodedDatagram): string | undefined => (decoded.kind === 'error' ? decoded.error.code : undefined);

describe('decodeDatagramRequest', () => {
  it('gives back every served binary request, whole', () => {
    fc.assert(
      fc.property(binaryRequestArb, (request) => {
        expect(decodeDatagramRequest(encodeDatagramRequest('binary', request), limits)).toEqual({
          kind: 'request',
          dialect: 'binary',
          request,
        });
      }),
    );
  });

  it('gives back every served text request, with or without its final LF, with CRLF too', () => {
    fc.assert(
      fc.property(textRequestArb, fc.constantFrom('\n', '', '\r\n'), (request, ending) => {
        const line = encodeDatagramRequest('text', request).subarray(0, -1);
        const decoded = decodeDatagramRequest(Buffer.concat([line, Buffer.from(ending)]), limits);
        expect(decoded).toEqual({ kind: 'request', dialect: 'text', request });
      }),
    );
  });

  it('answers every truncated frame BAD_FRAME', () => {
    fc.assert(
      fc.property(binaryRequestArb, fc.nat(), (request, cut) => {
        const frame = encodeDatagramRequest('binary', request);
        const prefix = frame.subarray(0, 1 + (cut % (frame.length - 1)));
        expect(errorCode(decodeDatagramRequest(prefix, limits))).toBe('BAD_FRAME');
      }),
    );
  });

  it('answers a frame with bytes after it BAD_FRAME: a datagram is one frame', () => {
    fc.assert(
      fc.property(binaryRequestArb, fc.uint8Array({ minLength: 1, maxLength: 50 }), (request, extra) => {
        const datagram = Buffer.concat([encodeDatagramRequest('binary', request), extra]);
        expect(errorCode(decodeDatagramRequest(datagram, limits))).toBe('BAD_FRAME');
      }),
    );
  });

  it('never throws on random bytes, and answers every non-empty one', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, binary) => {
        const datagram = Buffer.from(bytes);
        if (binary && datagram.length > 0) datagram[0] = 0x00;
        const decoded = decodeDatagramRequest(datagram, limits);
        if (decoded.kind === 'error') expect(decoded.error).toBeInstanceOf(ProtocolError);
        if (decoded.kind === 'empty') expect(datagram.toString('latin1')).toMatch(/^\r?\n?$/);
        if (datagram[0] === 0x00) expect(decoded.kind === 'empty' || decoded.dialect === 'binary').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses chat, files and QUIT with UNKNOWN_COMMAND, naming the command', () => {
    const nick = decodeDatagramRequest(encodeFrame(FrameType.NICK, Buffer.from('ann')), limits);
    expect(nick).toMatchObject({ kind: 'error', dialect: 'binary', command: 'NICK', error: { code: 'UNKNOWN_COMMAND' } });
    for (const line of ['JOIN lobby', 'SAY hi', 'WHO', 'LEAVE', 'QUIT', 'LIST', 'GET notes.txt']) {
      expect(errorCode(decodeDatagramRequest(Buffer.from(line), limits))).toBe('UNKNOWN_COMMAND');
    }
    expect(errorCode(decodeDatagramRequest(encodeFrame(0x0c, Buffer.from('notes.txt')), limits))).toBe('UNKNOWN_COMMAND');
  });

  it('answers a zero length, an LF inside a line and invalid UTF-8 BAD_FRAME; an empty line is ignored', () => {
    expect(errorCode(decodeDatagramRequest(Buffer.from([0, 0, 0, 0, 1]), limits))).toBe('BAD_FRAME');
    expect(errorCode(decodeDatagramRequest(Buffer.from('PING a\nPING b'), limits))).toBe('BAD_FRAME');
    expect(errorCode(decodeDatagramRequest(Buffer.from([0x50, 0xff, 0x0a]), limits))).toBe('BAD_FRAME');
    expect(decodeDatagramRequest(Buffer.alloc(0), limits)).toEqual({ kind: 'empty' });
    expect(decodeDatagramRequest(Buffer.from('\r\n'), limits)).toEqual({ kind: 'empty' });
    expect(decodeDatagramRequest(Buffer.from('help'), limits)).toEqual({ kind: 'request', dialect: 'text', request: { command: 'HELP' } });
    expect(encodeDatagramHelp().toString()).toBe('HELP ECHO PING WORK INFO HELP\n');
  });

  it('answers a frame over --max-frame and a line over --max-line TOO_LARGE', () => {
    const small = { maxFrame: 10, maxLine: 16 };
    expect(errorCode(decodeDatagramRequest(encodeFrame(FrameType.ECHO, Buffer.alloc(11)), small))).toBe('TOO_LARGE');
    expect(errorCode(decodeDatagramRequest(encodeFrame(FrameType.ECHO, Buffer.alloc(10)), small))).toBeUndefined();
    expect(errorCode(decodeDatagramRequest(Buffer.from(`ECHO ${'x'.repeat(12)}`), small))).toBe('TOO_LARGE');
  });
});

describe('encodeDatagramReply', () => {
  it('fits every reply in one datagram, or sends TOO_LARGE instead', () => {
    const fits = encodeDatagramReply('text', { kind: 'ECHO', data: Buffer.alloc(MAX_DATAGRAM_BYTES - 6, 0x61) }).bytes;
    expect(fits.length).toBe(MAX_DATAGRAM_BYTES);
    expect(decodeDatagramReply(fits)).toEqual({ kind: 'ECHO', data: Buffer.alloc(MAX_DATAGRAM_BYTES - 6, 0x61) });
    const over = encodeDatagramReply('text', { kind: 'ECHO', data: Buffer.alloc(MAX_DATAGRAM_BYTES - 5, 0x61) }).bytes;
    expect(encodeDatagramReply('text', { kind: 'ECHO', data: Buffer.alloc(MAX_DATAGRAM_BYTES - 5) }).tooLarge).toBe(true);
    expect(decodeDatagramReply(over)).toMatchObject({ kind: 'ERR', error: { code: 'TOO_LARGE' } });
    const binary = encodeDatagramReply('binary', { kind: 'ECHO', data: Buffer.alloc(MAX_DATAGRAM_BYTES - 4) }).bytes;
    expect(decodeDatagramReply(binary)).toMatchObject({ kind: 'ERR', error: { code: 'TOO_LARGE' } });
    expect(encodeDatagramReply('binary', { kind: 'ECHO', data: Buffer.alloc(MAX_DATAGRAM_BYTES - 5) }).bytes.length).toBe(
      MAX_DATAGRAM_BYTES,
    );
  });

  it('round-trips replies through decodeDatagramReply in both dialects', () => {
    const replyArb: fc.Arbitrary<Reply> = fc.oneof(
      lineTextArb.map((s) => ({ kind: 'ECHO', data: Buffer.from(s) }) as const),
      lineTextArb.map((s) => ({ kind: 'PONG', token: Buffer.from(s) }) as const),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((d) => ({ kind: 'WORK', digest: Buffer.from(d) }) as const),
      fc.constant({ kind: 'INFO', json: '{"model":"x"}' } as const),
    );
    fc.assert(
      fc.property(replyArb, fc.constantFrom('binary', 'text') as fc.Arbitrary<'binary' | 'text'>, (reply, dialect) => {
        expect(decodeDatagramReply(encodeDatagramReply(dialect, reply).bytes)).toEqual(reply);
      }),
    );
  });

  it('refuses a reply datagram that is not one whole frame', () => {
    const frame = encodeFrame(FrameType.PONG, Buffer.from('t'));
    expect(() => decodeDatagramReply(frame.subarray(0, 5))).toThrow(ProtocolError);
    expect(() => decodeDatagramReply(Buffer.concat([frame, Buffer.from([1])]))).toThrow(ProtocolError);
  });
});
