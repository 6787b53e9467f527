/** Dialect sniffing: 0x00 is binary, an HTTP method and a space is HTTP, anything else is text. */
import { describe, expect, it } from 'vitest';
import { sniffDialect } from '../src/index.js';

describe('sniffDialect', () => {
  const sniff = (text: string) => sniffDialect(Buffer.from(text, 'latin1'));

  it('tells the three dialects apart', () => {
    expect(sniffDialect(Buffer.from([0, 0, 0, 5]))).toBe('binary');
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) expect(sniff(`${method} /`)).toBe('http');
    expect(sniff('PING\n')).toBe('text');
    expect(sniff('GETX')).toBe('text');
    expect(sniff('get /')).toBe('text');
  });

  it('waits while the bytes could still become an HTTP method and a space', () => {
    expect(sniffDialect(Buffer.alloc(0))).toBeUndefined();
    expect(sniff('P')).toBeUndefined();
    expect(sniff('OPTIONS')).toBeUndefined();
    expect(sniff('GET')).toBeUndefined();
  });
});
