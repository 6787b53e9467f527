/** Text lines and commands: cuts don't matter, limits and UTF-8 are enforced, commands parse as the table says. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTextHelp, encodeTextMessage, LineDecoder, ProtocolError, parseTextMessage, parseTextRequest } from '../src/index.js';

function linesOf(stream: Buffer, cuts: number[], maxLine = 100): (string | ProtocolError)[] {
  const decoder = new LineDecoder(maxLine);
  const out: (string | ProtocolError)[] = [];
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, stream.length]) {
    decoder.push(stream.subarray(from, to));
    from = to;
    for (let line = decoder.next(); line !== undefined; line = decoder.next()) {
      if (line instanceof ProtocolError) return [...out, line];
      out.push(line.toString('utf8'));
    }
  }
  return out;
}

describe('LineDecoder', () => {
  it('yields the same lines however the stream is cut, CR before LF dropped', () => {
    const lineArb = fc.string({ maxLength: 60 }).filter((s) => !/[\r\n]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.tuple(lineArb, fc.boolean()), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (lines, cuts) => {
        const stream = Buffer.from(lines.map(([text, crlf]) => `${text}${crlf ? '\r\n' : '\n'}`).join(''), 'utf8');
        expect(linesOf(stream, cuts, 1000)).toEqual(lines.map(([text]) => text));
      }),
    );
  });

  it('refuses a line over max-line, even before its LF arrives', () => {
    const decoder = new LineDecoder(8);
    decoder.push(Buffer.from('123456789012'));
    expect((decoder.next() as ProtocolError).code).toBe('TOO_LARGE');
  });

  it('accepts exactly max-line bytes followed by CRLF', () => {
    expect(linesOf(Buffer.from('12345678\r\n'), [9], 8)).toEqual(['12345678']);
  });

  it('refuses invalid UTF-8 with a fatal BAD_FRAME', () => {
    const [error] = linesOf(Buffer.from([0x66, 0xff, 0x0a]), []);
    expect((error as ProtocolError).code).toBe('BAD_FRAME');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), fc.array(fc.nat()), (bytes, cuts) => void linesOf(Buffer.from(bytes), cuts, 50)),
    );
  });
});

describe('parseTextRequest', () => {
  const parse = (line: string) => parseTextRequest(Buffer.from(line, 'utf8'));

  it('takes the command word in any case and the rest of the line as the last argument', () => {
    expect(parse('echo  two  spaces ')).toEqual({ command: 'ECHO', data: Buffer.from(' two  spaces ') });
    expect(parse('Say hello there')).toEqual({ command: 'SAY', text: 'hello there' });
    expect(parse('PING')).toEqual({ command: 'PING', token: Buffer.alloc(0) });
    expect(parse('work 3 some data')).toEqual({ command: 'WORK', iterations: 3, data: Buffer.from('some data') });
    expect(parse('bye')).toEqual({ command: 'QUIT' });
    expect(parse('WHO extra args')).toEqual({ command: 'WHO' });
  });

  it('ignores empty lines and answers unknown words with UNKNOWN_COMMAND <word>', () => {
    expect(parse('')).toBeUndefined();
    expect((parse('dance now') as ProtocolError).toString()).toBe('UNKNOWN_COMMAND dance (HELP lists the commands)');
  });

  it('reads HELP in any case, and its reply lists every command on one line', () => {
    expect(parse('help')).toEqual({ command: 'HELP' });
    expect(parse('HELP me')).toEqual({ command: 'HELP' });
    expect(encodeTextHelp().toString()).toBe('HELP ECHO PING NICK JOIN SAY WHO LEAVE WORK INFO QUIT HELP\n');
  });

  it('refuses WORK counts that are not 1..1,000,000', () => {
    for (const line of ['WORK', 'WORK 0 x', 'WORK 1000001 x', 'WORK -1 x', 'WORK 1e3 x']) {
      expect((parse(line) as ProtocolError).code).toBe('BAD_ARGUMENT');
    }
  });
});

describe('text replies', () => {
  it('print the word alone when the argument is empty, and parse back', () => {
    expect(encodeTextMessage({ kind: 'PONG', token: Buffer.alloc(0) }).toString()).toBe('PONG\n');
    expect(encodeTextMessage({ kind: 'WHO', room: 'lobby', nicks: ['a', 'b'] }).toString()).toBe('WHO lobby a b\n');
    expect(parseTextMessage('MSG lobby bob hello there')).toEqual({ kind: 'MSG', room: 'lobby', nick: 'bob', text: 'hello there' });
    expect(parseTextMessage('OK JOIN lobby')).toEqual({ kind: 'JOIN', room: 'lobby' });
  });
});
