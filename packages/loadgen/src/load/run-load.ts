/**
 * `runLoad`: the load generator as a library call. It spreads the connections over worker threads
 * (or the caller's thread when `threads` is 0), starts every shard on one clock, merges their
 * histograms and seconds, and returns the result the CLI prints.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { EchoplexError } from '../client/echoplex-error.js';
import { listFiles } from '../files/file-transfer.js';
import { formatTarget } from '../target.js';
import { runFanout } from './fanout.js';
import type { ExpectedFile } from './get-stream.js';
import { createHistogram, createSecondHistogram, mergeEncoded, summarise } from './latency-histogram.js';
import { type LoadOptions, validateLoadOptions, withDefaults } from './load-options.js';
import type { LoadResult, TimelineSecond } from './load-result.js';
import { Shard, type ShardReport, type ShardSecond, type ShardSpec, TargetUnreachableError } from './shard.js';
import type { FromWorker, ToWorker } from './shard-messages.js';

export interface RunHooks {
  /** Called once per second of the run with all shards' figures merged. */
  readonly onSecond?: (second: TimelineSecond) => void;
}

/** The common start is this far ahead of "all connected", so every shard has its timers set. */
const START_DELAY_MS = 50;
/** A shard that has not reported this long after the run should have ended is given up on. */
const REPORT_GRACE_MS = 30_000;

interface ShardHandle {
  readonly connected: Promise<void>;
  readonly report: Promise<ShardReport>;
  start(startEpochMs: number): void;
  abort(): void;
}

export async function runLoad(input: Partial<LoadOptions> & Pick<LoadOptions, 'target'>, hooks: RunHooks = {}): Promise<LoadResult> {
  const options = withDefaults(input);
  const invalid = validateLoadOptions(options);
  if (invalid !== undefined) throw new RangeError(invalid);
  if (options.scenario === 'fanout') return runFanout(options, hooks);
  const file = options.scenario === 'get' ? await expectedFile(options) : undefined;
  const shardCount = Math.max(1, Math.min(options.threads, options.connections));
  const runTag = `L${randomBytes(3).toString('hex')}`;
  const timeline = new TimelineMerger(shardCount, hooks.onSecond);
  const handles: ShardHandle[] = [];
  for (let shardIndex = 0; shardIndex < shardCount; shardIndex++) {
    const spec: ShardSpec = { options, shardIndex, shardCount, runTag, ...(file !== undefined && { file }) };
    const onSecond = (second: ShardSecond): void => timeline.add(second);
    handles.push(options.threads === 0 ? inProcessShard(spec, onSecond) : workerShard(spec, onSecond));
  }
  try {
    await Promise.all(handles.map((handle) => handle.connected));
  } catch (error) {
    for (const handle of handles) handle.abort();
    throw error;
  }
  const startEpochMs = performance.timeOrigin + performance.now() + START_DELAY_MS;
  for (const handle of handles) handle.start(startEpochMs);
  const runMs = (options.idleSeconds + options.warmupSeconds + options.durationSeconds) * 1000 + START_DELAY_MS;
  const reports = await Promise.all(handles.map((handle) => withDeadline(handle, runMs + REPORT_GRACE_MS)));
  return buildResult(options, reports, timeline.finish(), file);
}

/** `get`: the file's size from the server's LIST, so every download can be checked against it. */
async function expectedFile(options: LoadOptions): Promise<ExpectedFile> {
  const name = options.file as string;
  const where = formatTarget(options.target);
  let files: Awaited<ReturnType<typeof listFiles>>;
  try {
    files = await listFiles(options.target, { connectTimeoutMs: options.connectTimeoutSeconds * 1000 });
  } catch (error) {
    if (error instanceof EchoplexError && error.code === 'UNKNOWN_COMMAND')
      throw new TargetUnreachableError(`${where} serves no files: start it with --files DIR`);
    throw new TargetUnreachableError(`cannot LIST the files of ${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const found = files.find((entry) => entry.name === name);
  if (found === undefined) {
    const names = files.length === 0 ? 'none' : files.map((entry) => entry.name).join(', ');
    throw new TargetUnreachableError(`${where} has no file ${name} to GET (its LIST names ${names})`);
  }
  return { name, bytes: found.size, ...(options.sha256 !== undefined && { sha256: options.sha256 }) };
}

function inProcessShard(spec: ShardSpec, onSecond: (second: ShardSecond) => void): ShardHandle {
  const shard = new Shard(spec, onSecond);
  let resolveReport: (report: ShardReport) => void = () => {};
  let rejectReport: (error: Error) => void = () => {};
  const report = new Promise<ShardReport>((resolve, reject) => {
    resolveReport = resolve;
    rejectReport = reject;
  });
  // An aborted run rejects a report nobody may be waiting for yet: not an unhandled rejection.
  report.catch(() => {});
  return {
    connected: shard.connect(),
    report,
    start: (startEpochMs) => {
      shard.run(startEpochMs).then(resolveReport, rejectReport);
    },
    abort: () => {
      shard.stopAll();
      rejectReport(new Error('load run aborted'));
    },
  };
}

function workerShard(spec: ShardSpec, onSecond: (second: ShardSecond) => void): ShardHandle {
  const worker = new Worker(new URL('./shard-worker.js', import.meta.url), { workerData: spec });
  const send = (message: ToWorker): void => worker.postMessage(message);
  let connected: () => void = () => {};
  let reported: (report: ShardReport) => void = () => {};
  let failed: (error: Error) => void = () => {};
  const connectedPromise = new Promise<void>((resolve, reject) => {
    connected = resolve;
    failed = reject;
  });
  const report = new Promise<ShardReport>((resolve, reject) => {
    reported = resolve;
    const previous = failed;
    failed = (error) => {
      previous(error);
      reject(error);
    };
  });
  report.catch(() => {});
  worker.on('message', (message: FromWorker) => {
    if (message.type === 'connected') connected();
    else if (message.type === 'second') onSecond(message.second);
    else if (message.type === 'report') reported(message.report);
    else if (message.unreachable) failed(new TargetUnreachableError(message.message));
    else failed(new Error(`load worker ${spec.shardIndex}: ${message.message}`));
  });
  worker.on('error', (error) => failed(error));
  worker.on('exit', (code) => failed(new Error(`load worker ${spec.shardIndex} exited with code ${code} before reporting`)));
  return {
    connected: connectedPromise,
    report,
    start: (startEpochMs) => send({ type: 'start', startEpochMs }),
    abort: () => {
      send({ type: 'abort' });
      void worker.terminate();
    },
  };
}

function withDeadline(handle: ShardHandle, ms: number): Promise<ShardReport> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      handle.abort();
      reject(new Error(`a load shard did not report within ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  return Promise.race([handle.report, deadline]).finally(() => clearTimeout(timer));
}

/** Merges the shards' seconds by index, emitting each once every shard has reported it. */
class TimelineMerger {
  private readonly pending = new Map<number, { count: number; seconds: ShardSecond[] }>();
  private readonly merged: Array<{ index: number; second: Omit<TimelineSecond, 'second'> }> = [];

  constructor(
    private readonly shardCount: number,
    private readonly onSecond: ((second: TimelineSecond) => void) | undefined,
  ) {}

  add(second: ShardSecond): void {
    const entry = this.pending.get(second.index) ?? { count: 0, seconds: [] };
    entry.count++;
    entry.seconds.push(second);
    this.pending.set(second.index, entry);
    if (entry.count === this.shardCount) this.emit(second.index, entry.seconds);
  }

  finish(): TimelineSecond[] {
    for (const [index, entry] of [...this.pending].sort(([a], [b]) => a - b)) this.emit(index, entry.seconds);
    const warmups = this.merged.filter((entry) => entry.second.phase === 'warmup').length;
    return this.merged.sort((a, b) => a.index - b.index).map((entry) => ({ second: entry.index - warmups + 1, ...entry.second }));
  }

  private emit(index: number, seconds: ShardSecond[]): void {
    this.pending.delete(index);
    const messages = seconds.reduce((sum, s) => sum + s.messages, 0);
    const second = {
      phase: seconds.some((s) => s.phase === 'measure') ? ('measure' as const) : ('warmup' as const),
      messages,
      errors: seconds.reduce((sum, s) => sum + s.errors, 0),
      lateSends: seconds.reduce((sum, s) => sum + s.lateSends, 0),
      meanMicros: messages === 0 ? 0 : Math.round(seconds.reduce((sum, s) => sum + s.meanMicros * s.messages, 0) / messages),
      maxMicros: Math.max(0, ...seconds.map((s) => s.maxMicros)),
      p99Micros: messages === 0 ? 0 : mergedP99(seconds),
    };
    this.merged.push({ index, second });
    const warmupsSoFar = this.merged.filter((entry) => entry.second.phase === 'warmup').length;
    this.onSecond?.({ second: index - warmupsSoFar + 1, ...second });
  }
}

/** One p99 of several shards' second: their histograms merged (a p99 of p99s would be no percentile at all). */
function mergedP99(seconds: readonly ShardSecond[]): number {
  if (seconds.length === 1) return (seconds[0] as ShardSecond).p99Micros;
  const merged = createSecondHistogram();
  for (const second of seconds) mergeEncoded(merged, second.latency);
  const p99 = merged.getValueAtPercentile(99);
  merged.destroy();
  return p99;
}

function buildResult(
  options: LoadOptions,
  reports: readonly ShardReport[],
  timeline: TimelineSecond[],
  file: ExpectedFile | undefined,
): LoadResult {
  const corrected = createHistogram();
  const uncorrected = createHistogram();
  for (const report of reports) {
    mergeEncoded(corrected, report.corrected);
    mergeEncoded(uncorrected, report.uncorrected);
  }
  const sum = (pick: (report: ShardReport) => number): number => reports.reduce((total, report) => total + pick(report), 0);
  const messages = sum((report) => report.messages);
  const messagesPerSecond = messages / options.durationSeconds;
  const payload = file !== undefined ? file.bytes : options.scenario === 'chat' ? 33 : options.scenario === 'work' ? 32 : options.size;
  const result: LoadResult = {
    version: 1,
    target: formatTarget(options.target),
    scenario: options.scenario,
    loadModel: options.rate === undefined ? 'closed' : 'open',
    connections: options.connections,
    threads: options.threads,
    pipeline: options.pipeline,
    size: file !== undefined ? file.bytes : options.size,
    rate: options.rate ?? null,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    messages,
    messagesPerSecond: Math.round(messagesPerSecond * 10) / 10,
    bytesPerSecond: Math.round(messagesPerSecond * payload),
    ...(options.scenario === 'chat' && { sent: sum((report) => report.sent) }),
    errors: sum((report) => report.errors),
    errorSamples: reports.flatMap((report) => report.errorSamples).slice(0, 10),
    lateSends: sum((report) => report.lateSends),
    latencyMicros: summarise(corrected),
    uncorrectedLatencyMicros: summarise(uncorrected),
    connectionsOpened: sum((report) => report.connectionsOpened),
    connectionFailures: sum((report) => report.connectionFailures),
    connectionsAtEnd: sum((report) => report.connectionsAtEnd),
    timeline,
  };
  corrected.destroy();
  uncorrected.destroy();
  return result;
}
