/** The outcome of a load run: what the CLI prints, `--json` emits, and the harness stores. */
import type { ScenarioName } from './load-options.js';

/** Latency percentiles in microseconds. */
export interface LatencyMicros {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly p9999: number;
  readonly max: number;
  readonly mean: number;
  readonly count: number;
}

/** One second of the run. `second` counts from the end of the warmup (warmup seconds are negative). */
export interface TimelineSecond {
  readonly second: number;
  readonly phase: 'warmup' | 'measure';
  readonly messages: number;
  readonly errors: number;
  readonly lateSends: number;
  readonly meanMicros: number;
  readonly maxMicros: number;
  /** The second's p99 (corrected, like `meanMicros`; 0 without replies): absent where a load does not measure it (UDP). */
  readonly p99Micros?: number;
}

export interface LoadResult {
  readonly version: 1;
  readonly target: string;
  readonly scenario: ScenarioName;
  readonly loadModel: 'closed' | 'open';
  readonly connections: number;
  readonly threads: number;
  readonly pipeline: number;
  /** Payload bytes per request (get: the file's bytes). */
  readonly size: number;
  readonly rate: number | null;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Replies (chat: deliveries; churn: whole connect-echo-close cycles; get: whole downloads) inside the measured window. */
  readonly messages: number;
  readonly messagesPerSecond: number;
  /** Payload bytes per second received in replies (request size times messages per second). */
  readonly bytesPerSecond: number;
  /** Chat and fanout only: messages sent in the measured window (absent where every request gets its own reply). */
  readonly sent?: number;
  /** Wrong replies, wrong bytes, ERR frames, and connections lost or refused. */
  readonly errors: number;
  /** The first few errors, described. */
  readonly errorSamples: readonly string[];
  /** Open model: sends that left more than one interval (and at least 1 ms) after their intended time. */
  readonly lateSends: number;
  /** Open model: timed from each message's intended send time (coordinated omission corrected). */
  readonly latencyMicros: LatencyMicros;
  /** Timed from the moment each message was actually written; equal to `latencyMicros` in the closed model. */
  readonly uncorrectedLatencyMicros: LatencyMicros;
  readonly connectionsOpened: number;
  readonly connectionFailures: number;
  /**
   * Connections still open when the run ended (churn: slots whose latest connect succeeded);
   * 0 means the target vanished during the run. Not reported by fanout.
   */
  readonly connectionsAtEnd?: number;
  readonly timeline: readonly TimelineSecond[];
}
