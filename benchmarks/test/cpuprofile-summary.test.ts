/** The .cpuprofile summary: the steady state between the marker's samples, self and total time, categories. */
import { describe, expect, it } from 'vitest';
import { type CpuProfileNode, summarizeCpuProfile, type V8CpuProfile } from '../src/cpuprofile-summary.js';

const frame = (id: number, functionName: string, url = '', children: number[] = []): CpuProfileNode => ({
  id,
  callFrame: { functionName, url, lineNumber: 0 },
  children,
});

/** root -> say -> broadcast -> writeBuffer; root -> (idle); root -> startup. Each sample is 1 ms apart. */
const nodes = [
  frame(1, '(root)', '', [2, 5, 6]),
  frame(2, 'say', 'file:///x/packages/core/dist/local-hub.js', [3]),
  frame(3, 'broadcast', 'file:///x/packages/core/dist/local-hub.js', [4]),
  frame(4, 'writeBuffer'),
  frame(5, '(idle)'),
  frame(6, 'resolve', 'node:internal/modules/esm/resolve'),
];

function profileOf(sampled: number[]): V8CpuProfile {
  return { nodes, samples: sampled, timeDeltas: sampled.map(() => 1000) };
}

describe('summarizeCpuProfile', () => {
  it('counts only the steady state, leaves idle out of busy, and splits self from total time', () => {
    // Start-up (resolve) before the marker, then 1 ms of skip, then the steady state, then start-up code again after the last say.
    const profile = profileOf([6, 6, 3, 3, 4, 4, 4, 5, 3, 6, 6]);
    const summary = summarizeCpuProfile(profile, { marker: 'say', skipMs: 1 });
    // From the first sample under say (index 2, t=3 ms) + 1 ms to the last (index 8, t=9 ms): samples 3..8, 1 ms each.
    expect(summary.windowMs).toBe(5);
    expect(summary.idleMs).toBe(1);
    expect(summary.busyMs).toBe(5);
    expect(Object.fromEntries(summary.categories)).toEqual({
      'libuv write (the write/writev syscall and the kernel)': 3,
      'core: session, hub, socket-sessions': 2,
    });
    const self = Object.fromEntries(summary.selfByFunction);
    expect(self['writeBuffer (native)']).toBe(3);
    expect(self['broadcast packages/core/dist/local-hub.js:1']).toBe(2);
    const total = Object.fromEntries(summary.totalByFunction);
    expect(total['say packages/core/dist/local-hub.js:1']).toBe(5);
    expect(total['broadcast packages/core/dist/local-hub.js:1']).toBe(5);
    expect(total['(root) (native)']).toBeUndefined();
  });

  it('says so when the marker never runs, or runs for less than the skip', () => {
    expect(() => summarizeCpuProfile(profileOf([6, 5]), { marker: 'say', skipMs: 0 })).toThrow(/no sample has 'say'/);
    expect(() => summarizeCpuProfile(profileOf([3, 3]), { marker: 'say', skipMs: 5 })).toThrow(/steady state is empty/);
  });
});
