import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LoadResult } from '../src/load/load-result.js';
import { runLoad } from '../src/load/run-load.js';
import { formatTarget } from '../src/target.js';
import { type FrameServer, startFrameServer } from './fixtures/frame-server.js';

/** Several shards run in worker threads, which load the built code: the bin is how they are reached. */
const BIN = fileURLToPath(new URL('../dist/bin/load.js', import.meta.url));

function loadBin(args: readonly string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--json', '--quiet', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 0) resolve(JSON.parse(stdout) as LoadResult);
      else reject(new Error(`echoplex-load exited ${status}: ${stderr}`));
    });
  });
}

let server: FrameServer;
beforeAll(async () => {
  expect(existsSync(BIN), `${BIN} is missing: run npm run build first`).toBe(true);
  // Replies held for 300 ms once a second: in a closed loop that delays one message per
  // connection, far under 1 % of a second's replies, so the second's max shows it and its p99 does not.
  server = await startFrameServer({ stall: { everyMs: 1000, forMs: 300 } });
});
afterAll(() => server.close());

function expectPerSecondP99(result: LoadResult): void {
  expect(result.errors).toBe(0);
  const withReplies = result.timeline.filter((second) => second.messages > 0);
  expect(withReplies.length).toBeGreaterThanOrEqual(2);
  for (const second of withReplies) {
    expect(second.p99Micros).toBeGreaterThan(0);
    expect(second.p99Micros).toBeLessThanOrEqual(second.maxMicros);
  }
  // A second that held a stall: its max is the stall, its p99 the ordinary replies around it.
  const stalled = withReplies.filter((second) => second.maxMicros >= 200_000);
  expect(stalled.length).toBeGreaterThan(0);
  for (const second of stalled) expect(second.p99Micros ?? 0).toBeLessThan(second.maxMicros / 10);
  for (const second of result.timeline.filter((s) => s.messages === 0)) expect(second.p99Micros).toBe(0);
}

it('gives each second of the timeline its own p99, not its max (one shard)', async () => {
  const result = await runLoad({ target: server.target, threads: 0, connections: 2, durationSeconds: 2, warmupSeconds: 1 });
  expectPerSecondP99(result);
}, 20_000);

it('merges the shards’ histograms into each second’s p99 (two worker threads)', async () => {
  const target = formatTarget(server.target);
  const args = ['--target', target, '--threads', '2', '--connections', '2', '--duration', '2', '--warmup', '1'];
  expectPerSecondP99(await loadBin(args));
}, 20_000);

it('agrees with the run p99 when the measured window is one second (two worker threads)', async () => {
  const target = formatTarget(server.target);
  const args = ['--target', target, '--threads', '2', '--connections', '2', '--rate', '400', '--duration', '1', '--warmup', '0'];
  const result = await loadBin(args);
  const measured = result.timeline.filter((second) => second.phase === 'measure' && second.messages > 0);
  expect(measured).toHaveLength(1);
  const [second] = measured;
  // Two significant digits per second against the run's three: within 1 % (plus rounding).
  expect(Math.abs((second?.p99Micros ?? 0) - result.latencyMicros.p99)).toBeLessThanOrEqual(result.latencyMicros.p99 * 0.01 + 1);
}, 20_000);
