/**
 * The results.json schema, version 1 (documented in docs/benchmarks.md). Bump `SCHEMA` on any
 * change a reader would notice; `--compare` refuses files of another schema.
 */
import type { Metrics } from './metrics.js';

export const SCHEMA = 'echoplex-bench/1';

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
}

export interface StepResult {
  readonly scenario: string;
  readonly step: string;
  readonly x: number;
  readonly model: string;
  readonly runs: readonly RunSample[];
  /** Per metric, over the runs that did not fail. */
  readonly median: Metrics;
  readonly min: Metrics;
  readonly max: Metrics;
  readonly loadBound: boolean;
  readonly cleanExit: boolean;
}

export interface BenchResults {
  readonly schema: typeof SCHEMA;
  readonly createdAt: string;
  readonly environment: Environment;
  readonly settings: {
    readonly depth: 'quick' | 'full';
    readonly runs: number;
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly models: readonly string[];
    readonly scenarios: readonly string[];
  };
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly shows: string; readonly xAxis: string; readonly primary: string }>;
  readonly results: readonly StepResult[];
  readonly wallSeconds: number;
}
