/**
 * The counters and histograms of one thread's connections. Recording a reply touches only
 * numbers already allocated: this is on the hot path.
 */
import { createHistogram, createSecondHistogram, encodeHistogram, type Histogram, recordMillis } from './latency-histogram.js';

export type Phase = 'connecting' | 'idle' | 'warmup' | 'measure' | 'done';

/** At most this many errors are described; the rest are only counted. */
const MAX_ERROR_SAMPLES = 10;

/** One second of one thread's replies; latencies are corrected (from the intended send time), in µs. */
export interface SecondFigures {
  readonly messages: number;
  readonly errors: number;
  readonly lateSends: number;
  readonly meanMicros: number;
  readonly maxMicros: number;
  /** 0 in a second without replies. */
  readonly p99Micros: number;
}

export class ShardStats {
  phase: Phase = 'connecting';
  /** Replies inside the measured window. */
  messages = 0;
  /** Chat: SAYs written inside the measured window. */
  sent = 0;
  errors = 0;
  lateSends = 0;
  connectionsOpened = 0;
  connectionFailures = 0;
  /** Connections that were open and closed by the server (or the network) before the run ended. */
  connectionsLost = 0;
  readonly errorSamples: string[] = [];
  readonly corrected: Histogram = createHistogram();
  readonly uncorrected: Histogram = createHistogram();
  /** Closed model: a message is sent when intended, so one histogram serves for both. */
  recordsUncorrected = true;
  // The current second, for the timeline.
  secondMessages = 0;
  secondErrors = 0;
  secondLate = 0;
  secondSumMillis = 0;
  secondMaxMillis = 0;
  /** Every reply of the current second (warmup too), for its p99: coarser than the run's, reset each second. */
  readonly secondLatency: Histogram = createSecondHistogram();

  /** Whether replies are being sent and counted at all (warmup or measure). */
  get running(): boolean {
    return this.phase === 'warmup' || this.phase === 'measure';
  }

  /** One good reply: `now` and the two start times are `performance.now()` milliseconds. */
  recordReply(now: number, sentAt: number, intendedAt: number): void {
    if (this.phase !== 'warmup' && this.phase !== 'measure') return;
    const latency = now - intendedAt;
    this.secondMessages++;
    this.secondSumMillis += latency;
    if (latency > this.secondMaxMillis) this.secondMaxMillis = latency;
    recordMillis(this.secondLatency, latency);
    if (this.phase !== 'measure') return;
    this.messages++;
    recordMillis(this.corrected, latency);
    if (this.recordsUncorrected) recordMillis(this.uncorrected, now - sentAt);
  }

  recordLateSend(): void {
    if (this.phase !== 'warmup' && this.phase !== 'measure') return;
    this.secondLate++;
    if (this.phase === 'measure') this.lateSends++;
  }

  /** Errors count in every phase: a wrong byte during the warmup is still wrong. */
  recordError(describe: () => string): void {
    this.errors++;
    this.secondErrors++;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(describe());
  }

  /**
   * The current second's latencies as a string a worker thread can post, so that shards' seconds
   * merge into one p99 (p99s themselves do not merge). Call it before `takeSecond`, which resets them.
   */
  encodeSecondLatency(): string {
    return encodeHistogram(this.secondLatency);
  }

  /** Hands over the current second's figures and starts the next. */
  takeSecond(): SecondFigures {
    const second = {
      messages: this.secondMessages,
      errors: this.secondErrors,
      lateSends: this.secondLate,
      meanMicros: this.secondMessages === 0 ? 0 : Math.round((this.secondSumMillis / this.secondMessages) * 1000),
      maxMicros: Math.round(this.secondMaxMillis * 1000),
      p99Micros: this.secondMessages === 0 ? 0 : this.secondLatency.getValueAtPercentile(99),
    };
    this.secondLatency.reset();
    this.secondMessages = 0;
    this.secondErrors = 0;
    this.secondLate = 0;
    this.secondSumMillis = 0;
    this.secondMaxMillis = 0;
    return second;
  }
}
