import { afterAll, beforeAll, expect, it } from 'vitest';
import { runLoad } from '../src/load/run-load.js';
import { type FrameServer, startFrameServer } from './fixtures/frame-server.js';

let server: FrameServer;
beforeAll(async () => {
  // Replies held for 300 ms once a second: a closed-loop client would stop sending and hide it.
  server = await startFrameServer({ stall: { everyMs: 1000, forMs: 300 } });
});
afterAll(() => server.close());

it('times the open model from intended send times, so stalls show in the corrected p99', async () => {
  const result = await runLoad({
    target: server.target,
    threads: 0,
    connections: 1,
    pipeline: 1,
    rate: 200,
    durationSeconds: 2,
    warmupSeconds: 0,
  });
  expect(result.loadModel).toBe('open');
  expect(result.errors).toBe(0);
  // Every message scheduled during a stall waits for it: far more than 1% of them.
  expect(result.latencyMicros.p99).toBeGreaterThan(100_000);
  // Timed from the actual write, only the one message in flight per stall looks slow.
  expect(result.uncorrectedLatencyMicros.p99 * 5).toBeLessThan(result.latencyMicros.p99);
  expect(result.lateSends).toBeGreaterThan(10);
}, 20_000);
