/**
 * The `chat-cluster` scenario: the fan-out of `fanout` m100 against one server of a model alone,
 * one server on a Redis hub, and two servers on it with the members dealt between them (the
 * publisher on the first), so what a message's trip through Redis costs shows beside the model
 * alone: deliveries per second, latency, and Redis's own CPU within the servers'.
 */
import path from 'node:path';
import { repoRoot } from './models.js';
import type { Scenario, ScenarioStep, ServerSet } from './scenario-registry.js';

/** Members in the room, and the fan-out's window and text, as `fanout` m100. */
const MEMBERS = 100;
const WINDOW = 16;
const TEXT_BYTES = 32;

export const CLUSTER_SCRIPT = path.join(repoRoot, 'benchmarks', 'dist', 'cluster-server.js');

/**
 * A model's flags for one of `servers` sharing the members: blocking's `--prestart` threads
 * (as many as the step's connections) become that server's share of them, plus the publisher,
 * so the servers' boot (~90 ms a thread, one after the other) stays within the start timeout.
 */
export function shareOfFlags(args: readonly string[], servers: number): string[] {
  const at = args.indexOf('--prestart');
  if (at === -1 || at + 1 >= args.length) return [...args];
  const share = Math.ceil(Number(args[at + 1]) / servers) + 1;
  return args.map((arg, index) => (index === at + 1 ? String(Math.min(Number(arg), share)) : arg));
}

/** `servers` of the model on one redis-server, started by cluster-server.js; every step on it shares the start. */
export function clusterOf(servers: number): ServerSet {
  return {
    key: `cluster of ${servers}`,
    launch: (model, args) => ({
      entry: { ...model, script: CLUSTER_SCRIPT },
      args: ['--app', model.script, '--servers', String(servers), '--', ...shareOfFlags(args, servers)],
    }),
  };
}

const step = (label: string, x: number, servers: ServerSet | undefined): ScenarioStep => ({
  label,
  x,
  load: { kind: 'load', args: { scenario: 'fanout', connections: MEMBERS, window: WINDOW, size: TEXT_BYTES, 'connect-timeout': 20 } },
  ...(servers !== undefined && { servers }),
});

export const CHAT_CLUSTER_SCENARIO: Scenario = {
  name: 'chat-cluster',
  shows:
    `fanout m${MEMBERS} (window ${WINDOW}) on one server alone, on one server with --hub on Redis, and on two servers on one Redis with the members split ` +
    '(publisher on the first): deliveries per second, latency, and Redis CPU (inside server CPU), all pinned to the server core.',
  xAxis: 'servers on one Redis (0: alone, no hub)',
  primary: 'messagesPerSecond',
  reference: false,
  quick: false,
  steps: () => [step('alone', 0, undefined), step('1 on redis', 1, clusterOf(1)), step('2 on redis', 2, clusterOf(2))],
};

export const CLUSTER_REDIS_MISSING_NOTE =
  'bench: redis-server is not installed, so chat-cluster runs only its "alone" step; the steps on Redis fail (apt-get install redis-server)\n';
