/** The file service's codecs: text PUT's raw bytes, binary PUT and GET frames, HTTP's streamed PUT body, however the bytes are cut. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBinaryFileReply,
  decodeBinaryRequest,
  encodeBinaryFileData,
  encodeBinaryList,
  encodeBinaryPutAccepted,
  encodeBinaryRequest,
  encodeHttpHead,
  encodeHttpResponse,
  encodeTextFileHead,
  encodeTextList,
  encodeTextPutAccepted,
  FrameDecoder,
  formatTextRequest,
  type HttpEvent,
  HttpRequestDecoder,
  LineDecoder,
  ProtocolError,
  parseFileList,
  parseTextFileHead,
  parseTextRequest,
} from '../src/index.js';

/** Cuts `stream` at the given points (mod its length), feeding each piece to `push`. */
function feed(stream: Buffer, cuts: number[], push: (piece: Buffer) => void): void {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, stream.length]) {
    push(stream.subarray(from, to));
    from = to;
  }
}

/** What a text server reads: lines, and after `PUT name size` that many raw bytes. */
function readText(stream: Buffer, cuts: number[]): (string | { raw: string })[] {
  const decoder = new LineDecoder(100);
  const out: (string | { raw: string })[] = [];
  let raw: Buffer[] | undefined;
  feed(stream, cuts, (piece) => {
    decoder.push(piece);
    for (;;) {
      if (raw !== undefined) {
        const bytes = decoder.nextRaw();
        if (bytes !== undefined) raw.push(Buffer.from(bytes));
        if (decoder.rawRemaining > 0) return;
        out.push({ raw: Buffer.concat(raw).toString('latin1') });
        raw = undefined;
      }
      const line = decoder.next();
      if (line === undefined) return;
      if (line instanceof ProtocolError) throw line;
      const request = parseTextRequest(line);
      out.push(line.toString('utf8'));
      if (request !== undefined && !(request instanceof ProtocolError) && request.command === 'PUT') {
        decoder.beginRaw(request.size);
        raw = [];
      }
    }
  });
  return out;
}

describe('text PUT: a counted run of raw bytes after the line', () => {
  it('reads the same lines and raw bytes however the stream is cut, LF and CR included in the bytes', () => {
    const contentArb = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1'));
    fc.assert(
      fc.property(fc.array(contentArb, { maxLength: 6 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 30 }), (files, withLf, cuts) => {
        const expected: (string | { raw: string })[] = [];
        let stream = '';
        files.forEach((content, i) => {
          stream += `PUT f${i} ${content.length}\n${content}${withLf ? '\n' : ''}PING ${i}\n`;
          expected.push(`PUT f${i} ${content.length}`, { raw: content }, `PING ${i}`);
        });
        expect(readText(Buffer.from(stream, 'latin1'), cuts)).toEqual(expected);
      }),
    );
  });

  it('skips one LF after the bytes, not two: the second is an empty line', () => {
    expect(readText(Buffer.from('PUT a 2\nxy\n\nPING\n'), [])).toEqual(['PUT a 2', { raw: 'xy' }, '', 'PING']);
  });

  it('skips the LF after a zero-byte PUT', () => {
    expect(readText(Buffer.from('PUT a 0\n\nPING\n'), [8])).toEqual(['PUT a 0', { raw: '' }, 'PING']);
  });

  it('does not count the raw bytes against max-line', () => {
    const big = 'x'.repeat(1000);
    expect(readText(Buffer.from(`PUT a 1000\n${big}\nPING\n`), [20, 500])).toEqual(['PUT a 1000', { raw: big }, 'PING']);
  });

  it('parses LIST, GET and PUT, refusing a PUT without a decimal size', () => {
    const parse = (line: string) => parseTextRequest(Buffer.from(line));
    expect(parse('list')).toEqual({ command: 'LIST' });
    expect(parse('GET notes.txt')).toEqual({ command: 'GET', name: 'notes.txt' });
    expect(parse('GET ../x')).toEqual({ command: 'GET', name: '../x' });
    expect(parse('PUT notes.txt 12')).toEqual({ command: 'PUT', name: 'notes.txt', size: 12 });
    for (const bad of ['PUT notes.txt', 'PUT notes.txt -1', 'PUT notes.txt 1e3', 'PUT', 'PUT 12']) {
      expect((parse(bad) as ProtocolError).code).toBe('BAD_ARGUMENT');
    }
    expect(formatTextRequest({ command: 'PUT', name: 'a', size: 3 }).toString()).toBe('PUT a 3\n');
  });

  it('encodes the replies a person at nc reads, and a client reads them back', () => {
    const files = [
      { name: 'a.txt', size: 3 },
      { name: 'b', size: 0 },
    ];
    expect(encodeTextList(files).toString()).toBe('LIST 2\na.txt 3\nb 0\n');
    expect(encodeTextFileHead('a.txt', 3).toString()).toBe('FILE a.txt 3\n');
    expect(encodeTextPutAccepted('a.txt', 3).toString()).toBe('OK PUT a.txt 3\n');
    expect(parseTextFileHead('LIST 2')).toEqual({ kind: 'LIST', count: 2 });
    expect(parseTextFileHead('FILE a.txt 3')).toEqual({ kind: 'FILE', name: 'a.txt', size: 3 });
    expect(parseTextFileHead('OK PUT a.txt 3')).toEqual({ kind: 'PUT', name: 'a.txt', size: 3 });
    expect(parseTextFileHead('OK JOIN lobby')).toBeUndefined();
    expect(parseFileList('a.txt 3\nb 0\n')).toEqual(files);
  });
});

describe('binary LIST, GET, PUT', () => {
  const decodeOne = (bytes: Buffer) => {
    const decoder = new FrameDecoder(1024);
    decoder.push(bytes);
    const frame = decoder.next();
    if (frame === undefined || frame instanceof ProtocolError) throw new Error('no frame');
    return frame;
  };

  it('round-trips PUT with any name and bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), (name, data) => {
        const request = decodeBinaryRequest(decodeOne(encodeBinaryRequest({ command: 'PUT', name, size: data.length, data })));
        expect(request).toEqual({ command: 'PUT', name, size: data.length, data: Buffer.from(data) });
      }),
    );
  });

  it('refuses a PUT whose name length runs past the frame, or has no length', () => {
    const body = Buffer.alloc(6);
    body.writeUInt32BE(9, 0);
    expect((decodeBinaryRequest({ type: 0x0d, body }) as ProtocolError).code).toBe('BAD_ARGUMENT');
    expect((decodeBinaryRequest({ type: 0x0d, body: Buffer.alloc(2) }) as ProtocolError).code).toBe('BAD_ARGUMENT');
  });

  it('decodes LIST and GET, and refuses a GET name that is not UTF-8', () => {
    expect(decodeBinaryRequest({ type: 0x0b, body: Buffer.alloc(0) })).toEqual({ command: 'LIST' });
    expect(decodeBinaryRequest({ type: 0x0c, body: Buffer.from('a.txt') })).toEqual({ command: 'GET', name: 'a.txt' });
    expect((decodeBinaryRequest({ type: 0x0c, body: Buffer.from([0xff]) }) as ProtocolError).code).toBe('BAD_FRAME');
  });

  it('encodes the replies as 0x8B, 0x8C and 0x8D frames a client reads back', () => {
    const files = [{ name: 'a.txt', size: 3 }];
    expect(decodeBinaryFileReply(decodeOne(encodeBinaryList(files)))).toEqual({ kind: 'LIST', files });
    expect(decodeBinaryFileReply(decodeOne(encodeBinaryList([])))).toEqual({ kind: 'LIST', files: [] });
    expect(decodeBinaryFileReply(decodeOne(encodeBinaryFileData(Buffer.from('abc'))))).toEqual({
      kind: 'FILE_DATA',
      data: Buffer.from('abc'),
    });
    expect(encodeBinaryFileData(Buffer.alloc(0))).toEqual(Buffer.from([0, 0, 0, 1, 0x8c]));
    expect(decodeBinaryFileReply(decodeOne(encodeBinaryPutAccepted('a.txt', 3)))).toEqual({ kind: 'PUT', name: 'a.txt', size: 3 });
    expect(decodeBinaryFileReply({ type: 0x81, body: Buffer.alloc(0) })).toBeUndefined();
  });
});

describe('HTTP PUT /files/<name>: the body streams as it arrives', () => {
  const limits = {
    maxHead: 512,
    maxBody: 16,
    maxStreamedBody: 1000,
    streamsBody: (method: string, path: string) => method === 'PUT' && path.startsWith('/files/'),
  };

  function decode(raw: Buffer, cuts: number[] = []): (HttpEvent | ProtocolError)[] {
    const decoder = new HttpRequestDecoder(limits);
    const out: (HttpEvent | ProtocolError)[] = [];
    let failed = false;
    feed(raw, cuts, (piece) => {
      if (failed) return;
      decoder.push(piece);
      for (let event = decoder.next(); event !== undefined; event = decoder.next()) {
        out.push(event);
        if (event instanceof ProtocolError) {
          failed = true;
          return;
        }
      }
    });
    return out;
  }

  /** The events as [kind, detail]: body pieces joined, since cuts decide how the body is split. */
  function summary(events: (HttpEvent | ProtocolError)[]): string[] {
    const out: string[] = [];
    let body = '';
    for (const event of events) {
      if (event instanceof ProtocolError) out.push(`error ${event.code} ${event.httpStatus}`);
      else if (event.kind === 'body') body += event.chunk.toString('latin1');
      else {
        if (event.kind === 'end') out.push(`body ${body}`);
        if (event.kind === 'head' || event.kind === 'request') out.push(`${event.kind} ${event.request.method} ${event.request.path}`);
        else out.push(event.kind);
        body = '';
      }
    }
    return out;
  }

  it('yields head, the body in pieces, end, however the bytes are cut; other requests are whole', () => {
    const content = 'x'.repeat(300);
    const stream = Buffer.from(
      `PUT /files/a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 300\r\n\r\n${content}` +
        'PUT /files/b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n' +
        'POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi',
      'latin1',
    );
    const expected = ['head PUT /files/a.txt', `body ${content}`, 'end', 'head PUT /files/b', 'body abcde', 'end', 'request POST /echo'];
    expect(summary(decode(stream))).toEqual(expected);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        expect(summary(decode(stream, cuts))).toEqual(expected);
      }),
    );
  });

  it('answers Expect: 100-continue before the head, and refuses a declared size over max-file before any body', () => {
    const expecting = Buffer.from('PUT /files/a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n', 'latin1');
    expect(summary(decode(expecting))).toEqual(['continue', 'head PUT /files/a']);
    const tooLarge = Buffer.from('PUT /files/a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n', 'latin1');
    expect(summary(decode(tooLarge))).toEqual(['error TOO_LARGE 413']);
  });

  it('refuses a chunked body as soon as it passes max-file, after the pieces before it', () => {
    const chunk = `${(400).toString(16)}\r\n${'y'.repeat(400)}\r\n`;
    const stream = Buffer.from(
      `PUT /files/a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`,
      'latin1',
    );
    const events = summary(decode(stream));
    expect(events[0]).toBe('head PUT /files/a');
    expect(events.at(-1)).toBe('error TOO_LARGE 413');
  });

  it('keeps max-frame for a body that does not stream', () => {
    const stream = Buffer.from(`POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n${'z'.repeat(17)}`, 'latin1');
    expect(summary(decode(stream))).toEqual(['error TOO_LARGE 413']);
  });

  it('writes a head for a streamed body, and no Content-Length on a 204', () => {
    const head = encodeHttpHead(
      { status: 200, contentType: 'application/octet-stream', contentLength: 5 },
      { version: '1.1', keepAlive: true },
    );
    expect(head.toString()).toBe('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\n');
    const noContent = encodeHttpResponse({ status: 204 }, { version: '1.1', keepAlive: true, headOnly: false });
    expect(noContent.toString()).toBe('HTTP/1.1 204 No Content\r\n\r\n');
  });
});
