/** The fanout scenario's Redis mode against a real redis-server: every published message reaches every member, counted once. */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { validateLoadOptions, withDefaults } from '../src/load/load-options.js';
import { runLoad } from '../src/load/run-load.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address() as net.AddressInfo;
      probe.close(() => resolve(address.port));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) =>
    redis.once('error', (error) =>
      reject(new Error(`redis-server is needed for this test (apt-get install redis-server): ${error.message}`)),
    ),
  );
  const ready = (async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (up) return redis;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('redis-server did not listen within 5 s');
  })();
  return Promise.race([ready, failed]);
}

describe('fanout', () => {
  let redis: ChildProcess | undefined;
  afterEach(() => {
    redis?.kill('SIGKILL');
    redis = undefined;
  });

  it('delivers every message to every member through Redis pub/sub, within the window', async () => {
    const port = await freePort();
    redis = await startRedis(port);
    const members = 20;
    const result = await runLoad({
      target: { kind: 'tcp', host: '127.0.0.1', port },
      scenario: 'fanout',
      redis: true,
      connections: members,
      window: 4,
      size: 16,
      durationSeconds: 0.5,
      warmupSeconds: 0,
    });
    expect(result.errors).toBe(0);
    expect(result.messages).toBeGreaterThan(members);
    // Each delivery belongs to one published message, and no more than the window are ever undelivered.
    expect(result.messages).toBeLessThanOrEqual(result.sent * members + 4 * members);
    expect(result.latencyMicros.count).toBe(result.messages);
  });

  it('refuses Redis mode outside fanout, and a window out of range', () => {
    const target = { kind: 'tcp', host: '127.0.0.1', port: 1 } as const;
    expect(validateLoadOptions(withDefaults({ target, scenario: 'echo', redis: true }))).toBe('redis is a fanout mode only');
    expect(validateLoadOptions(withDefaults({ target, scenario: 'fanout', window: 0 }))).toBe('window must be an integer in 1..4096');
  });
});
