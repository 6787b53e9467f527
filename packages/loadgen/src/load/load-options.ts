/** Everything that shapes one load run, shared by the CLI, the library call and the worker threads. */
import { fileNameProblem } from '../files/file-name.js';
import type { Target } from '../target.js';

/**
 * - `echo`, `ping`, `work`: one request type per connection, every reply checked byte for byte.
 * - `get`: one binary GET of `file` at a time per connection, each download's size checked (and its SHA-256 with `sha256`).
 * - `chat`: rooms of `roomSize` members, each SAYing at its share of `rate`; latency is send to receipt.
 * - `churn`: each connection slot connects, sends one ECHO, closes, and starts over.
 * - `fanout`: one publisher, `connections` members in one room, at most `window` messages not yet
 *   delivered to every member; `redis` speaks SUBSCRIBE/PUBLISH to a Redis server instead.
 */
export const SCENARIOS = ['echo', 'ping', 'work', 'chat', 'churn', 'fanout', 'get'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface LoadOptions {
  readonly target: Target;
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Payload bytes per request: ECHO data, PING token, WORK data. */
  readonly size: number;
  /** Requests in flight per connection (closed model), or the cap on them (open model). */
  readonly pipeline: number;
  /** Messages per second over all connections: the open model. Absent: closed model. */
  readonly rate?: number;
  /** Worker threads the connections are spread over; 0 runs them on the calling thread. */
  readonly threads: number;
  /** WORK iterations per request. */
  readonly workIterations: number;
  /** Members per chat room. */
  readonly roomSize: number;
  /** Expect each reply to be the request itself: the bare `socket.pipe(socket)` reference server. */
  readonly mirror: boolean;
  /** Hold the connections open and silent this long before the warmup (memory per idle connection). */
  readonly idleSeconds: number;
  /** Give up on a connection that is not open after this long. */
  readonly connectTimeoutSeconds: number;
  /** Fan-out: messages published and not yet delivered to every member, at most. */
  readonly window: number;
  /** Fan-out against Redis pub/sub (inline SUBSCRIBE/PUBLISH) instead of an Echoplex server. */
  readonly redis: boolean;
  /** `get`: the file each download fetches (one the server's LIST names). */
  readonly file?: string;
  /** `get`: the SHA-256 (hex) every download must have; absent, only the size is checked. */
  readonly sha256?: string;
  /**
   * Fan-out across servers on one hub (`--hub`): members are dealt round-robin over `target` and
   * these; the publisher stays on `target`, so a member on another server gets each message through the hub.
   */
  readonly extraTargets: readonly Target[];
}

export const DEFAULT_LOAD_OPTIONS = {
  scenario: 'echo',
  connections: 10,
  durationSeconds: 10,
  warmupSeconds: 1,
  size: 64,
  pipeline: 1,
  threads: 1,
  workIterations: 100,
  roomSize: 10,
  mirror: false,
  idleSeconds: 0,
  connectTimeoutSeconds: 10,
  window: 16,
  redis: false,
  extraTargets: [],
} as const satisfies Omit<LoadOptions, 'target'>;

/** Chat is always paced: this many SAYs per second over all members unless `rate` says otherwise. */
export const DEFAULT_CHAT_RATE = 1000;

/** Fills in defaults: `{ target, ...whatever you care about }` is a complete run. */
export function withDefaults(options: Partial<LoadOptions> & Pick<LoadOptions, 'target'>): LoadOptions {
  const merged: LoadOptions = { ...DEFAULT_LOAD_OPTIONS, ...options };
  if (merged.scenario === 'chat' && merged.rate === undefined) return { ...merged, rate: DEFAULT_CHAT_RATE };
  return merged;
}

/** Rejects option values no run can use; the message names the option. */
export function validateLoadOptions(options: LoadOptions): string | undefined {
  const positiveInt = (value: number): boolean => Number.isInteger(value) && value >= 1;
  if (!positiveInt(options.connections) || options.connections > 100_000) return 'connections must be an integer in 1..100000';
  if (!(options.durationSeconds > 0 && options.durationSeconds <= 86_400)) return 'duration must be above 0 and at most a day';
  if (!(options.warmupSeconds >= 0 && options.warmupSeconds <= 3600)) return 'warmup must be 0..3600 seconds';
  if (!(options.idleSeconds >= 0 && options.idleSeconds <= 3600)) return 'idle must be 0..3600 seconds';
  if (!Number.isInteger(options.size) || options.size < 0 || options.size > 16 * 1024 * 1024 - 16) return 'size must be 0..16m bytes';
  if (!positiveInt(options.pipeline) || options.pipeline > 4096) return 'pipeline must be an integer in 1..4096';
  if (options.rate !== undefined && !(options.rate > 0 && options.rate <= 10_000_000))
    return 'rate must be above 0 and at most 10,000,000 per second';
  if (!Number.isInteger(options.threads) || options.threads < 0 || options.threads > 64) return 'threads must be an integer in 0..64';
  if (!positiveInt(options.workIterations) || options.workIterations > 1_000_000) return 'work iterations must be 1..1000000';
  if (!Number.isInteger(options.roomSize) || options.roomSize < 2 || options.roomSize > 10_000) return 'room size must be 2..10000';
  if (options.scenario === 'chat' && options.connections < options.roomSize) return 'chat needs at least room-size connections';
  if (options.scenario === 'chat' && options.mirror) return 'chat cannot run against a mirror server';
  if (!positiveInt(options.window) || options.window > 4096) return 'window must be an integer in 1..4096';
  if (options.redis && options.scenario !== 'fanout') return 'redis is a fanout mode only';
  if (options.scenario === 'fanout' && options.mirror) return 'fanout cannot run against a mirror server';
  if (options.extraTargets.length > 0 && (options.scenario !== 'fanout' || options.redis))
    return 'several targets are for fanout across Echoplex servers on one hub only';
  if (options.extraTargets.length > 63) return 'fanout takes 64 targets at most';
  if (options.scenario === 'get') {
    if (options.file === undefined) return 'get needs --file NAME: the file to download';
    const problem = fileNameProblem(options.file);
    if (problem !== undefined) return `file: ${problem}`;
    if (options.pipeline !== 1) return 'get downloads one file at a time per connection: no --pipeline';
    if (options.rate !== undefined) return 'get is a closed loop of downloads: no --rate';
    if (options.mirror) return 'get cannot run against a mirror server';
  } else if (options.file !== undefined || options.sha256 !== undefined) {
    return 'file and sha256 are for --scenario get';
  }
  if (options.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(options.sha256)) return 'sha256 takes 64 lower-case hex digits';
  if (!(options.connectTimeoutSeconds > 0)) return 'connect timeout must be above 0';
  return undefined;
}
