/**
 * The scenarios, declared in one place: what each shows, its steps (a quick subset and the full
 * matrix), and whether the bare reference server can take part.
 */
import { CHAT_CLUSTER_SCENARIO } from './chat-cluster-scenario.js';
import { FANOUT_SCENARIO } from './fanout-scenario.js';
import { FILES_SCENARIO } from './files-scenario.js';
import type { LoadArgs } from './load-process.js';
import type { MetricName } from './metrics.js';
import type { ModelEntry } from './models.js';
import { UDP_ECHO_SCENARIO } from './udp-echo-scenario.js';

export type StepLoad =
  /** One load generator process. */
  | { readonly kind: 'load'; readonly args: LoadArgs }
  /** Two at once: `work` keeps the server's CPU busy, `ping` is what is measured. */
  | { readonly kind: 'mix'; readonly work: LoadArgs; readonly ping: LoadArgs }
  /** Keep-alive HTTP/1.1 requests against one route (autocannon beside, as a cross-check). */
  | { readonly kind: 'http'; readonly method: 'GET' | 'POST'; readonly path: string; readonly body?: string; readonly connections: number };

export interface ScenarioStep {
  /** Short and unique within the scenario: `c100`, `10k/s`. */
  readonly label: string;
  /** The step's position on a chart's x axis (connections, rate, …). */
  readonly x: number;
  readonly load: StepLoad;
  /** Started instead of the model alone with its flags (chat-cluster's servers on one Redis, udp-echo's `--udp`). */
  readonly servers?: ServerSet;
}

/** Another way to start a model for some steps: steps with one `key` share one start. */
export interface ServerSet {
  readonly key: string;
  launch(model: ModelEntry, modelArgs: readonly string[]): { readonly entry: ModelEntry; readonly args: readonly string[] };
}

export type Depth = 'quick' | 'full';

export interface Scenario {
  readonly name: string;
  readonly shows: string;
  readonly xAxis: string;
  /** The metric a table leads with and ratios are taken of. */
  readonly primary: MetricName;
  /** The `socket.pipe(socket)` server can run it (echo-shaped, no chat, no HTTP, no WORK). */
  readonly reference: boolean;
  /** Part of the quick default `npm run bench`. */
  readonly quick: boolean;
  steps(depth: Depth): ScenarioStep[];
}

/** Connections a step holds at once: what the ready phase serves and the model must be able to. */
export function connectionsOf(step: ScenarioStep): number {
  const count = (args: LoadArgs): number => (typeof args.connections === 'number' ? args.connections : 10);
  switch (step.load.kind) {
    case 'load':
      return count(step.load.args);
    case 'mix':
      return count(step.load.work) + count(step.load.ping);
    case 'http':
      return step.load.connections;
  }
}

const echoAt = (connections: number): ScenarioStep => ({
  label: `c${connections}`,
  x: connections,
  load: { kind: 'load', args: { scenario: 'echo', connections, size: 64 } },
});

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'echo',
    shows: 'Closed loop, 64-byte binary ECHO: throughput and latency as connections grow.',
    xAxis: 'connections',
    primary: 'messagesPerSecond',
    reference: true,
    quick: true,
    steps: (depth) => (depth === 'quick' ? [1, 100] : [1, 10, 100]).map(echoAt),
  },
  {
    name: 'echo-large',
    shows: '64 KiB ECHO messages: bulk throughput in MiB/s, where copies and buffer handling show.',
    xAxis: 'connections',
    primary: 'mbPerSecond',
    reference: true,
    quick: false,
    steps: () => [{ label: 'c10', x: 10, load: { kind: 'load', args: { scenario: 'echo', connections: 10, size: '64k' } } }],
  },
  {
    name: 'echo-rate',
    shows: 'Open model at fixed rates: latency from the intended send time (coordinated omission corrected) against the rate.',
    xAxis: 'messages per second offered',
    primary: 'p99Micros',
    reference: true,
    quick: true,
    steps: (depth) =>
      (depth === 'quick' ? [10_000] : [1000, 10_000, 30_000, 60_000]).map((rate) => ({
        label: `${rate / 1000}k/s`,
        x: rate,
        load: { kind: 'load', args: { scenario: 'echo', connections: 50, pipeline: 8, rate, size: 64 } },
      })),
  },
  {
    name: 'connections',
    shows: 'Idle-then-active connections: memory per connection and whether the model holds them all.',
    xAxis: 'connections',
    primary: 'memoryPerConnectionBytes',
    reference: true,
    quick: false,
    steps: (depth) =>
      (depth === 'quick' ? [10, 1000] : [10, 100, 1000, 5000]).map((connections) => ({
        label: `c${connections}`,
        x: connections,
        load: { kind: 'load', args: { scenario: 'echo', connections, idle: 1, size: 64, 'connect-timeout': 20 } },
      })),
  },
  {
    name: 'churn',
    shows: 'Connect, one ECHO, close, again: connections per second (a fork per connection shows its cost here).',
    xAxis: 'concurrent slots',
    primary: 'messagesPerSecond',
    reference: true,
    quick: true,
    steps: () => [{ label: 's10', x: 10, load: { kind: 'load', args: { scenario: 'churn', connections: 10, size: 64 } } }],
  },
  {
    name: 'cpu-mix',
    shows: 'Two connections send WORK while eight PING at 1000/s: PING p99 shows head-of-line blocking on one loop.',
    xAxis: 'WORK iterations',
    primary: 'p99Micros',
    reference: false,
    quick: true,
    steps: () => [
      {
        label: 'w20k',
        x: 20_000,
        load: {
          kind: 'mix',
          work: { scenario: 'work', connections: 2, 'work-iterations': 20_000, size: 32 },
          ping: { scenario: 'ping', connections: 8, rate: 1000, pipeline: 16, size: 16 },
        },
      },
    ],
  },
  {
    name: 'chat',
    shows: 'Rooms of 10 members, 1000 SAYs per second in all: deliveries per second and send-to-receipt latency.',
    xAxis: 'members',
    primary: 'messagesPerSecond',
    reference: false,
    quick: true,
    steps: (depth) =>
      (depth === 'quick' ? [100] : [100, 1000]).map((connections) => ({
        label: `m${connections}`,
        x: connections,
        load: { kind: 'load', args: { scenario: 'chat', connections, 'room-size': 10, rate: 1000 } },
      })),
  },
  {
    name: 'http',
    shows:
      'GET /ping and POST /echo (64 bytes) over 10 keep-alive HTTP/1.1 connections, timed to the µs; autocannon beside as a cross-check.',
    xAxis: 'route',
    primary: 'messagesPerSecond',
    reference: false,
    quick: true,
    steps: (depth) => [
      { label: 'GET /ping', x: 1, load: { kind: 'http', method: 'GET', path: '/ping', connections: 10 } },
      ...(depth === 'full'
        ? [
            {
              label: 'POST /echo',
              x: 2,
              load: { kind: 'http', method: 'POST', path: '/echo', body: 'x'.repeat(64), connections: 10 },
            } as const,
          ]
        : []),
    ],
  },
  FANOUT_SCENARIO,
  FILES_SCENARIO,
  CHAT_CLUSTER_SCENARIO,
  UDP_ECHO_SCENARIO,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
