import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/run-load.js';
import { TargetUnreachableError } from '../src/load/shard.js';
import { type FrameServer, startFrameServer } from './fixtures/frame-server.js';

describe('runLoad verifies every reply', () => {
  let server: FrameServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('counts no error against a correct server', async () => {
    server = await startFrameServer();
    const result = await runLoad({
      target: server.target,
      threads: 0,
      connections: 4,
      pipeline: 4,
      durationSeconds: 0.5,
      warmupSeconds: 0,
    });
    expect(result.messages).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.latencyMicros.count).toBe(result.messages);
    expect(result.timeline.some((second) => second.phase === 'measure')).toBe(true);
  });

  it('detects a server that flips one byte, counts it and says where', async () => {
    server = await startFrameServer({ corruptEvery: 50 });
    const result = await runLoad({ target: server.target, threads: 0, connections: 2, durationSeconds: 0.5, warmupSeconds: 0, size: 64 });
    expect(result.errors).toBeGreaterThan(0);
    expect(result.errorSamples[0]).toMatch(/byte 68 is 0x[0-9a-f]{2}, expected 0x[0-9a-f]{2}/);
  });

  it('fails at once with TargetUnreachableError when no connection opens, instead of timing zeros', async () => {
    server = await startFrameServer();
    const target = server.target;
    await server.close();
    server = undefined;
    const run = runLoad({ target, threads: 0, connections: 2, durationSeconds: 5, warmupSeconds: 0 });
    await expect(run).rejects.toThrow(TargetUnreachableError);
    await expect(run).rejects.toThrow(
      /cannot connect to tcp:\/\/127\.0\.0\.1:\d+: none of 2 connections opened \(first: connection \d: connect ECONNREFUSED/,
    );
  });

  it('checks PING replies too', async () => {
    server = await startFrameServer();
    const result = await runLoad({
      target: server.target,
      threads: 0,
      scenario: 'ping',
      connections: 2,
      durationSeconds: 0.3,
      warmupSeconds: 0,
      size: 8,
    });
    expect(result.messages).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
  });
});
