/** HTTP requests through http-parser-js, with the protocol's limits and transfer-coding rules. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHttpResponse, type HttpEvent, type HttpRequest, HttpRequestDecoder, ProtocolError } from '../src/index.js';

const limits = { maxHead: 512, maxBody: 64 };

function decode(raw: string | Buffer, cuts: number[] = []): (HttpEvent | ProtocolError)[] {
  const stream = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  const decoder = new HttpRequestDecoder(limits);
  const out: (HttpEvent | ProtocolError)[] = [];
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, stream.length]) {
    decoder.push(stream.subarray(from, to));
    from = to;
    for (let event = decoder.next(); event !== undefined; event = decoder.next()) {
      out.push(event);
      if (event instanceof ProtocolError) return out;
    }
  }
  return out;
}

const requests = (events: (HttpEvent | ProtocolError)[]): HttpRequest[] =>
  events.flatMap((e) => (!(e instanceof ProtocolError) && e.kind === 'request' ? [e.request] : []));
const errorOf = (events: (HttpEvent | ProtocolError)[]): ProtocolError => events.at(-1) as ProtocolError;

describe('HttpRequestDecoder', () => {
  const pipelined =
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
    'GET /work?n=3 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Nick: bob\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';

  it('decodes pipelined requests in order, chunked bodies included, however the bytes are cut', () => {
    const whole = requests(decode(pipelined));
    expect(whole.map((r) => [r.method, r.path, r.body.toString()])).toEqual([
      ['POST', '/echo', 'hello'],
      ['GET', '/work', ''],
      ['POST', '/rooms/lobby/messages', 'abcde'],
    ]);
    expect(whole[1]?.query.get('n')).toBe('3');
    expect(whole[2]?.headers.get('x-nick')).toBe('bob');
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        expect(requests(decode(pipelined, cuts)).map((r) => r.body.toString())).toEqual(['hello', '', 'abcde']);
      }),
    );
  });

  it('keeps HTTP/1.1 alive unless Connection: close; HTTP/1.0 only when asked', () => {
    const keep = (raw: string) => requests(decode(raw))[0]?.keepAlive;
    expect(keep('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(true);
    expect(keep('GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe(false);
    expect(keep('GET /ping HTTP/1.0\r\n\r\n')).toBe(false);
    expect(keep('GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')).toBe(true);
  });

  it('announces Expect: 100-continue before the body', () => {
    const events = decode('POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi');
    expect(events.map((e) => (e instanceof ProtocolError ? e.code : e.kind))).toEqual(['continue', 'request']);
  });

  it('refuses both Transfer-Encoding and Content-Length, and other codings than chunked', () => {
    expect(errorOf(decode('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n')).code).toBe(
      'BAD_FRAME',
    );
    expect(errorOf(decode('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n')).httpStatus).toBe(400);
  });

  it('refuses a body over max-frame with 413 and a head over max-line with 431', () => {
    expect(errorOf(decode('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n')).httpStatus).toBe(413);
    const chunked = `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'20\r\n'}${'x'.repeat(32)}\r\n${'21\r\n'}${'x'.repeat(33)}\r\n0\r\n\r\n`;
    expect(errorOf(decode(chunked)).httpStatus).toBe(413);
    expect(errorOf(decode(`GET /ping HTTP/1.1\r\nX-Big: ${'a'.repeat(600)}\r\n\r\n`)).httpStatus).toBe(431);
    expect(errorOf(decode(`GET /ping HTTP/1.1\r\nX-Big: ${'a'.repeat(600)}`, [100, 300])).httpStatus).toBe(431);
  });

  describe('is strict where RFC 9112 says a server MUST refuse (400, fatal)', () => {
    const post = (head: string, body = '') => `POST /echo HTTP/1.1\r\nHost: x\r\n${head}\r\n${body}`;
    const chunked = (body: string) => post('Transfer-Encoding: chunked\r\n', body);
    const refused: Record<string, string> = {
      'a negative chunk size': chunked('-5\r\nhello\r\n0\r\n\r\n'),
      'a chunk size that is not hex': chunked('zz\r\nhello\r\n0\r\n\r\n'),
      'a chunk size with junk after its digits': chunked('5zz\r\nhello\r\n0\r\n\r\n'),
      'an empty chunk size': chunked('\r\nhello\r\n0\r\n\r\n'),
      'a chunk not followed by CRLF': chunked('5\r\nhelloXX\r\n0\r\n\r\n'),
      'a header line without a colon': post('X-Broken\r\n'),
      'whitespace between a header name and its colon': post('Content-Length : 5\r\n', 'hello'),
      'a tab between a header name and its colon': post('Transfer-Encoding\t: chunked\r\n', '0\r\n\r\n'),
      'an obs-folded header': post('X-Long: a\r\n b\r\n'),
      'a header name that is not a token': post('X(y): 1\r\n'),
      'a NUL in a header value': post('X-Nul: a\u0000b\r\n'),
      'HTTP/1.1 without Host': 'GET /ping HTTP/1.1\r\n\r\n',
      'two Host headers': 'GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'Content-Length and Transfer-Encoding': post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
      'two Content-Lengths': post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'),
      'Transfer-Encoding: chunked, identity': post('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n'),
      'two Transfer-Encoding headers': post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
      'HTTP/2.0 in a request line': 'GET /ping HTTP/2.0\r\nHost: x\r\n\r\n',
    };
    for (const [what, raw] of Object.entries(refused)) {
      it(`refuses ${what}`, () => {
        const events = decode(raw);
        expect(requests(events)).toEqual([]);
        expect(errorOf(events).code).toBe('BAD_FRAME');
        expect(errorOf(events).httpStatus).toBe(400);
      });
    }

    it('accepts what the grammar allows: OWS around values, chunk extensions, leading zeros, trailers, HTTP/1.0 without Host', () => {
      const ok = requests(decode(chunked('005;name=value\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n')));
      expect(ok.map((r) => r.body.toString())).toEqual(['hello']);
      expect(requests(decode(post('X-Spaced: \t padded \t\r\nContent-Length: 2\r\n', 'hi')))[0]?.headers.get('x-spaced')).toBe('padded');
      expect(requests(decode('GET /ping HTTP/1.0\r\n\r\n')).length).toBe(1);
    });

    it('bounds what the library does not: a chunk line or trailers that never end', () => {
      const decoder = new HttpRequestDecoder(limits);
      decoder.push(Buffer.from(chunked('')));
      for (let i = 0; i < 100 && !(decoder.next() instanceof ProtocolError); i++) decoder.push(Buffer.from('0'.repeat(64)));
      expect(decoder.next()).toBeInstanceOf(ProtocolError);
      const trailers = decode(chunked(`0\r\n${'X-T: v\r\n'.repeat(100)}\r\n`));
      expect(errorOf(trailers).httpStatus).toBe(431);
      expect(errorOf(decode(chunked('fffffffffffffffffffffffff\r\n'))).httpStatus).toBe(413);
    });

    it('refuses every negative or non-hex chunk size, however the bytes are cut, in bounded time', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.integer({ min: -0xffff, max: -1 }).map(String), fc.stringMatching(/^[0-9a-f]{0,3}[g-z+\-. ][0-9a-z]{0,3}$/)),
          fc.array(fc.nat(), { maxLength: 6 }),
          (size, cuts) => {
            const events = decode(chunked(`${size}\r\nhello\r\n0\r\n\r\n`), cuts);
            expect(errorOf(events).code).toBe('BAD_FRAME');
          },
        ),
      );
    });
  });

  it('turns malformed requests and arbitrary bytes into BAD_FRAME, never an exception', () => {
    expect(errorOf(decode('GET /ping HTTP/9\r\n\r\n')).code).toBe('BAD_FRAME');
    expect(errorOf(decode('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n')).code).toBe('BAD_FRAME');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        void decode(Buffer.concat([Buffer.from('POST '), Buffer.from(bytes)]), cuts);
      }),
    );
  });
});

describe('encodeHttpResponse', () => {
  it('frames a response with Content-Length, and HEAD without a body', () => {
    const response = { status: 200, contentType: 'text/plain', body: 'pong' };
    expect(encodeHttpResponse(response, { version: '1.1', keepAlive: true, headOnly: false }).toString()).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\npong',
    );
    expect(encodeHttpResponse(response, { version: '1.1', keepAlive: false, headOnly: true }).toString()).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\n',
    );
  });
});
