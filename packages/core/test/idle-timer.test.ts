/** The idle timer: it fires when armed time passes, and time spent held (not reading) does not count. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTimer } from '../src/node.js';

describe('IdleTimer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires once the armed time passes, and not after being disarmed', () => {
    const expired = vi.fn();
    const timer = new IdleTimer(expired);
    timer.set(1000);
    vi.advanceTimersByTime(999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    timer.set(1000);
    timer.set(undefined);
    vi.advanceTimersByTime(5000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('defers an expiry that comes while held, and restarts the clock on release', () => {
    const expired = vi.fn();
    const timer = new IdleTimer(expired);
    timer.set(1000);
    timer.hold();
    vi.advanceTimersByTime(3000);
    expect(expired).not.toHaveBeenCalled();
    timer.release();
    vi.advanceTimersByTime(999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
  });
});
