/**
 * The `fanout` scenario and its reference row: one publisher, N members in one room, at most 16
 * messages not yet delivered to every member, every model, and Redis pub/sub doing the same job
 * (SUBSCRIBE/PUBLISH, driven by the same load generator) when `redis-server` is installed.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { ModelEntry } from './models.js';
import type { Scenario } from './scenario-registry.js';

export const REDIS_MODEL = 'redis';

/** Messages published and not yet delivered to every member, at most. */
const WINDOW = 16;
/** Chat text per message. */
const TEXT_BYTES = 32;

export const FANOUT_SCENARIO: Scenario = {
  name: 'fanout',
  shows: `One publisher, N members in one room, at most ${WINDOW} messages not yet delivered to all: deliveries per second (text dialect; Redis pub/sub as the reference row).`,
  xAxis: 'members',
  primary: 'messagesPerSecond',
  reference: false,
  quick: true,
  steps: (depth) =>
    (depth === 'quick' ? [100] : [10, 100, 1000]).map((members) => ({
      label: `m${members}`,
      x: members,
      load: { kind: 'load', args: { scenario: 'fanout', connections: members, window: WINDOW, size: TEXT_BYTES, 'connect-timeout': 20 } },
    })),
};

/** Where `redis-server` is, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The Redis reference row: a wrapper that starts `redis-server` (pinned like the models, since it inherits the CPU affinity) and announces it. */
export function redisModel(root: string): ModelEntry | undefined {
  if (redisServerPath() === undefined) return undefined;
  return {
    name: REDIS_MODEL,
    script: path.join(root, 'benchmarks', 'dist', 'redis-reference-server.js'),
    reference: false,
    scenarios: [FANOUT_SCENARIO.name],
    protocol: 'redis',
    loadArgs: { redis: true },
  };
}

export const REDIS_MISSING_NOTE =
  'bench: redis-server is not installed, so fanout has no Redis pub/sub reference row (apt-get install redis-server)\n';
