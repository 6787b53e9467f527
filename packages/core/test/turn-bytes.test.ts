/** TurnBytes: one turn's pieces joined once for every connection given the same buffers, and anything else joined as given. */
import { describe, expect, it } from 'vitest';
import { TurnBytes } from '../src/index.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

describe('TurnBytes', () => {
  it('joins the same buffers in the same order once, and returns that join for the next connection', () => {
    const bytes = new TurnBytes();
    const one = Buffer.from('MSG r a one\n');
    const two = Buffer.from('MSG r a two\n');
    const first = bytes.join([one, two], one.length + two.length);
    const second = bytes.join([one, two], one.length + two.length);
    expect(text(first)).toBe('MSG r a one\nMSG r a two\n');
    expect(second).toBe(first);
  });

  it('joins anew when a piece, the order or the count differs, even with equal bytes', () => {
    const bytes = new TurnBytes();
    const one = Buffer.from('one ');
    const two = Buffer.from('two ');
    const first = bytes.join([one, two], 8);
    const lookalike = bytes.join([one, Buffer.from('two ')], 8);
    expect(lookalike).not.toBe(first);
    expect(text(lookalike)).toBe('one two ');
    expect(text(bytes.join([two, one], 8))).toBe('two one ');
    expect(text(bytes.join([one, two, one], 12))).toBe('one two one ');
  });

  it('keeps nothing after forget: the next join is a fresh buffer', () => {
    const bytes = new TurnBytes();
    const pieces = [Buffer.from('a'), Buffer.from('b')];
    const first = bytes.join(pieces, 2);
    bytes.forget();
    const after = bytes.join(pieces, 2);
    expect(after).not.toBe(first);
    expect(text(after)).toBe('ab');
  });
});
