/**
 * A shard is the share of a run's connections that one thread drives: it opens them, walks the
 * phases (idle, warmup, measure) on a start time common to every shard, and reports its counters
 * and histograms. The same code runs in a worker thread or on the caller's thread.
 */
import net from 'node:net';
import { connectOptions, formatTarget, type Target } from '../target.js';
import { ChatMember } from './chat-member.js';
import { ChurnSlot } from './churn-slot.js';
import { buildExchange } from './exchange.js';
import { type ExpectedFile, GetStream } from './get-stream.js';
import { encodeHistogram } from './latency-histogram.js';
import type { LoadOptions } from './load-options.js';
import { RequestStream, type Schedule } from './request-stream.js';
import { type Phase, ShardStats } from './shard-stats.js';

export interface ShardSpec {
  readonly options: LoadOptions;
  readonly shardIndex: number;
  readonly shardCount: number;
  /** Makes nicks and rooms unique to this run, so runs against one server do not collide. */
  readonly runTag: string;
  /** `get`: the file to download and what each download must be, as the server's LIST gave it. */
  readonly file?: ExpectedFile;
}

/** One second of one shard; `index` counts ticks from the warmup start. */
export interface ShardSecond {
  readonly index: number;
  readonly phase: 'warmup' | 'measure';
  readonly messages: number;
  readonly errors: number;
  readonly lateSends: number;
  readonly meanMicros: number;
  readonly maxMicros: number;
  /** This shard's own p99 of the second; shards' seconds merge through `latency`. */
  readonly p99Micros: number;
  /** The second's latencies, an encoded histogram (`encodeHistogram`); empty when the run has one shard. */
  readonly latency: string;
}

export interface ShardReport {
  readonly messages: number;
  readonly sent: number;
  readonly errors: number;
  readonly lateSends: number;
  readonly errorSamples: readonly string[];
  readonly connectionsOpened: number;
  readonly connectionFailures: number;
  /** Connections still open when the run ended (churn: slots whose latest connect succeeded). */
  readonly connectionsAtEnd: number;
  readonly corrected: string;
  readonly uncorrected: string;
}

/** How often a shard checks whether every connection has been lost, to end the run early. */
const LOSS_CHECK_MS = 100;

/** A run that cannot be done: nothing to connect to, or the target went away. The CLI exits 3. */
export class TargetUnreachableError extends Error {
  override readonly name = 'TargetUnreachableError';
}

/** One connection opened and closed: whether anything listens at `target` at all. */
function probe(target: Target, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(connectOptions(target));
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new TargetUnreachableError(`cannot connect to ${formatTarget(target)}: ${error.message}`));
    });
  });
}

/** Connections opened at once while connecting, so the server's accept queue is not flooded. */
const CONNECT_BATCH = 200;
/** One read buffer for the whole thread: read callbacks run one at a time. */
const READ_BUFFER_BYTES = 256 * 1024;

/** The global connection indices a shard drives: by room for chat (a room stays in one thread), else round-robin. */
export function shardConnections(options: LoadOptions, shardIndex: number, shardCount: number): number[] {
  const mine: number[] = [];
  for (let i = 0; i < options.connections; i++) {
    const owner = options.scenario === 'chat' ? Math.floor(i / options.roomSize) % shardCount : i % shardCount;
    if (owner === shardIndex) mine.push(i);
  }
  return mine;
}

export class Shard {
  readonly stats = new ShardStats();
  private readonly indices: number[];
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private streams: RequestStream[] = [];
  private members: ChatMember[] = [];
  private slots: ChurnSlot[] = [];
  private downloads: GetStream[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private secondIndex = 0;

  constructor(
    private readonly spec: ShardSpec,
    private readonly onSecond: (second: ShardSecond) => void,
  ) {
    this.indices = shardConnections(spec.options, spec.shardIndex, spec.shardCount);
    this.stats.recordsUncorrected = spec.options.rate !== undefined;
  }

  /** Opens this shard's connections (churn opens its own later). */
  async connect(): Promise<void> {
    const { options } = this.spec;
    const timeoutMs = options.connectTimeoutSeconds * 1000;
    if (options.scenario === 'churn') {
      const exchange = buildExchange(options);
      if (this.indices.length > 0) await probe(options.target, timeoutMs);
      this.slots = this.indices.map((i) => new ChurnSlot(i, exchange, this.stats, options.target, this.readBuffer));
      return;
    }
    if (options.scenario === 'chat') {
      this.members = this.indices.map((i) => {
        const room = `${this.spec.runTag}-r${Math.floor(i / options.roomSize)}`;
        return new ChatMember(`${this.spec.runTag}-m${i}`, room, this.stats);
      });
      await this.inBatches(this.members.length, (k) => (this.members[k] as ChatMember).join(options.target, this.readBuffer, timeoutMs));
      this.failIfNoneOpened();
      return;
    }
    if (options.scenario === 'get') {
      const file = this.spec.file;
      if (file === undefined) throw new Error('a get shard needs the file its connections download');
      this.downloads = this.indices.map((i) => new GetStream(i, file, this.stats));
      await this.inBatches(this.downloads.length, (k) =>
        (this.downloads[k] as GetStream).connect(options.target, this.readBuffer, timeoutMs),
      );
      this.failIfNoneOpened();
      return;
    }
    const exchange = buildExchange(options);
    this.streams = this.indices.map((i) => new RequestStream(i, exchange, options.pipeline, this.stats));
    await this.inBatches(this.streams.length, (k) =>
      (this.streams[k] as RequestStream).connect(options.target, this.readBuffer, timeoutMs),
    );
    this.failIfNoneOpened();
  }

  /** Not one of this shard's connections opened: the run cannot be done, and waiting out its duration would only hide that. */
  private failIfNoneOpened(): void {
    const { stats, indices, spec } = this;
    if (indices.length === 0 || stats.connectionFailures < indices.length) return;
    this.stopAll();
    const first = stats.errorSamples[0] ?? 'no error reported';
    throw new TargetUnreachableError(
      `cannot connect to ${formatTarget(spec.options.target)}: none of ${indices.length} connections opened (first: ${first})`,
    );
  }

  /** Runs the phases from `startEpochMs` (a wall-clock time shared by all shards) and reports. */
  run(startEpochMs: number): Promise<ShardReport> {
    const { options } = this.spec;
    const start = startEpochMs - performance.timeOrigin;
    const warmupStart = start + options.idleSeconds * 1000;
    const measureStart = warmupStart + options.warmupSeconds * 1000;
    const end = measureStart + options.durationSeconds * 1000;
    const at = (time: number, action: () => void): void => {
      this.timers.push(setTimeout(action, Math.max(0, time - performance.now())));
    };
    this.stats.phase = 'idle';
    return new Promise((resolve) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        this.emitSecond(this.stats.phase === 'warmup' ? 'warmup' : 'measure');
        this.stats.phase = 'done';
        this.stopAll();
        resolve(this.report());
      };
      at(warmupStart, () => this.beginWarmup(warmupStart, measureStart));
      at(measureStart, () => this.beginMeasure(end));
      at(end, finish);
      // Every connection lost (the server died): end now rather than time zeros until the end.
      const opened = this.indices.length - this.stats.connectionFailures;
      if (options.scenario !== 'churn' && opened > 0) {
        this.timers.push(
          setInterval(() => {
            if (this.stats.connectionsLost >= opened) finish();
          }, LOSS_CHECK_MS),
        );
      }
    });
  }

  /** Stops every connection and timer at once (an aborted run). */
  stopAll(): void {
    this.stats.phase = 'done';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
    for (const stream of this.streams) stream.stop();
    for (const member of this.members) member.stop();
    for (const slot of this.slots) slot.stop();
    for (const download of this.downloads) download.stop();
  }

  private beginWarmup(warmupStart: number, measureStart: number): void {
    const { options } = this.spec;
    this.stats.phase = options.warmupSeconds > 0 ? 'warmup' : 'measure';
    this.startTicks('warmup', measureStart);
    const now = performance.now();
    if (options.scenario === 'churn') {
      for (const slot of this.slots) slot.start();
    } else if (options.rate === undefined) {
      for (const stream of this.streams) stream.startClosed(now);
      for (const download of this.downloads) download.startClosed(now);
    } else {
      this.startTimetable(warmupStart, options.rate);
    }
  }

  private beginMeasure(end: number): void {
    if (this.stats.phase === 'warmup') this.emitSecond('warmup');
    this.stats.phase = 'measure';
    this.clearTicks();
    this.startTicks('measure', end);
  }

  /** The open model (and chat): every connection gets its share of the rate, staggered across the interval. */
  private startTimetable(startMs: number, rate: number): void {
    const { options } = this.spec;
    const intervalMs = (1000 * options.connections) / rate;
    const lateAfterMs = Math.max(2, intervalMs);
    const scheduleFor = (i: number): Schedule => ({ startMs: startMs + (i / options.connections) * intervalMs, intervalMs, lateAfterMs });
    const pumps: Array<(now: number) => void> = [];
    this.streams.forEach((stream, k) => {
      const schedule = scheduleFor(this.indices[k] as number);
      stream.schedule = schedule;
      pumps.push((now) => stream.pump(now, schedule));
    });
    this.members.forEach((member, k) => {
      const schedule = scheduleFor(this.indices[k] as number);
      pumps.push((now) => member.pump(now, schedule));
    });
    const pumpAll = (): void => {
      if (this.stats.phase === 'done') return;
      const now = performance.now();
      for (const pump of pumps) pump(now);
    };
    pumpAll();
    this.timers.push(setInterval(pumpAll, 1));
  }

  private ticker: NodeJS.Timeout | undefined;

  private startTicks(phase: 'warmup' | 'measure', until: number): void {
    this.ticker = setInterval(() => {
      if (performance.now() < until - 50) this.emitSecond(phase);
    }, 1000);
    this.timers.push(this.ticker);
  }

  private clearTicks(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
  }

  private emitSecond(phase: 'warmup' | 'measure'): void {
    // Only several shards need their histograms merged; one shard's own p99 is the second's.
    const latency = this.spec.shardCount > 1 ? this.stats.encodeSecondLatency() : '';
    this.onSecond({ index: this.secondIndex++, phase, ...this.stats.takeSecond(), latency });
  }

  private report(): ShardReport {
    const { stats } = this;
    const opened = this.spec.options.scenario === 'churn' ? stats.connectionsOpened : this.indices.length - stats.connectionFailures;
    return {
      messages: stats.messages,
      sent: stats.sent,
      errors: stats.errors,
      lateSends: stats.lateSends,
      errorSamples: stats.errorSamples,
      connectionsOpened: opened,
      connectionFailures: stats.connectionFailures,
      connectionsAtEnd:
        this.spec.options.scenario === 'churn'
          ? this.slots.filter((slot) => !slot.failing).length
          : Math.max(0, this.indices.length - stats.connectionFailures - stats.connectionsLost),
      corrected: encodeHistogram(stats.corrected),
      uncorrected: encodeHistogram(stats.recordsUncorrected ? stats.uncorrected : stats.corrected),
    };
  }

  private async inBatches(count: number, open: (k: number) => Promise<boolean>): Promise<void> {
    for (let first = 0; first < count; first += CONNECT_BATCH) {
      const batch: Promise<boolean>[] = [];
      for (let k = first; k < Math.min(count, first + CONNECT_BATCH); k++) batch.push(open(k));
      for (const opened of await Promise.all(batch)) if (!opened) this.stats.connectionFailures++;
    }
  }
}

export type { Phase };
