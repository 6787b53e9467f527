/**
 * The results.json schema, version 2 (documented in docs/benchmarks.md). Bump `SCHEMA` on any
 * change a reader would notice; `--compare` reads this one and version 1 (whose rows lack the
 * ready phase, the served count and the noise measure), and refuses any other.
 */
import type { TimelineSecond } from '@echoplex/loadgen';
import type { Metrics } from './metrics.js';

export const SCHEMA = 'echoplex-bench/2';
export const READABLE_SCHEMAS: readonly string[] = [SCHEMA, 'echoplex-bench/1'];

/** Connections the model served in the ready phase, of those the step holds. */
export interface Served {
  readonly served: number;
  readonly of: number;
}

export interface Environment {
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly profile: 'split' | 'shared';
  /** Whether taskset pinned the processes (split without taskset runs unpinned, and says so). */
  readonly pinned: boolean;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean;
}

export interface RunSample {
  readonly run: number;
  readonly metrics: Metrics;
  /** The load generator was saturated: the figure measures it, not the server. */
  readonly loadBound: boolean;
  /** The server exited with status 0 after SIGTERM, in time. */
  readonly cleanExit: boolean;
  readonly errorSamples: readonly string[];
  /** Set when the step could not run at all (server did not start, load process failed). */
  readonly failure?: string;
  /** Set when the ready phase ended with connections unserved: the load did not run. */
  readonly shortfall?: Served;
  /** Left out of the medians: a row that was re-run keeps the runs that agree best. */
  readonly outlier?: boolean;
  /** The warmup this run got, when a slow ready phase or threads that never served made it longer than planned (new threads are cold). */
  readonly warmupSeconds?: number;
  /** The load generator's seconds (warmup and measured), for the timeline chart. */
  readonly timeline?: readonly TimelineSecond[];
}

export interface StepResult {
  readonly scenario: string;
  readonly step: string;
  readonly x: number;
  readonly model: string;
  /** Connections the step holds at once (cpu-mix: both load processes'). */
  readonly connections: number;
  /** The flags the model was started with for this row, so it can serve `connections`. */
  readonly serverArgs: readonly string[];
  readonly runs: readonly RunSample[];
  /** Per metric, over the runs kept (not failed, not short, not outliers). */
  readonly median: Metrics;
  readonly min: Metrics;
  readonly max: Metrics;
  /** (max - min) / median of the primary metric over the kept runs; absent under 2 kept runs. */
  readonly noise?: number;
  /** Still spread over the threshold after the re-runs. */
  readonly noisy: boolean;
  /** The fewest connections served of `connections`, when some run fell short. */
  readonly served?: Served;
  readonly loadBound: boolean;
  readonly cleanExit: boolean;
}

export interface BenchResults {
  readonly schema: string;
  readonly createdAt: string;
  readonly environment: Environment;
  readonly settings: {
    readonly depth: 'quick' | 'full';
    readonly runs: number;
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    /** The ready phase's bound per step. */
    readonly readyTimeoutSeconds: number;
    /** A row spread wider than this (0.2: 20%) is re-run, then flagged noisy. */
    readonly noiseThreshold: number;
    /** Re-runs at most per noisy row. */
    readonly maxExtraRuns: number;
    readonly models: readonly string[];
    readonly scenarios: readonly string[];
  };
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly shows: string; readonly xAxis: string; readonly primary: string }>;
  readonly results: readonly StepResult[];
  readonly wallSeconds: number;
}
