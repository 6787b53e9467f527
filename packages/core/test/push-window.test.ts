/** The push window both thread pools hold reading by: over PUSH_WINDOW in flight holds, and only under half releases, so a hold does not flap at the mark. */
import { describe, expect, it } from 'vitest';
import { PUSH_WINDOW, pushWindowHolds } from '../src/index.js';

describe('pushWindowHolds', () => {
  it('holds only once one worker is over the window', () => {
    expect(pushWindowHolds(false, 0)).toBe(false);
    expect(pushWindowHolds(false, PUSH_WINDOW)).toBe(false);
    expect(pushWindowHolds(false, PUSH_WINDOW + 1)).toBe(true);
  });

  it('stays held until under half of it', () => {
    expect(pushWindowHolds(true, PUSH_WINDOW)).toBe(true);
    expect(pushWindowHolds(true, PUSH_WINDOW / 2)).toBe(true);
    expect(pushWindowHolds(true, PUSH_WINDOW / 2 - 1)).toBe(false);
  });
});
