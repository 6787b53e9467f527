/**
 * Runs one scenario step against a running server: the ready phase (every connection of the
 * step served once, timed), then the load process(es), sampling the server's process tree and
 * the load generator's CPU over the same window, and turns it all into the step's metrics.
 */
import type { TimelineSecond } from '@echoplex/loadgen';
import type { CpuProfile } from './cpu-profile.js';
import {
  crossCheckArgv,
  httpLoadArgv,
  type LoadArgs,
  type LoadOutcome,
  type LoadRun,
  loadGeneratorArgv,
  runLoadProcess,
} from './load-process.js';
import type { Metrics } from './metrics.js';
import type { ModelEntry } from './models.js';
import { sampleTree, TreeSampler, type TreeUsage } from './proc-sampler.js';
import { waitUntilServed } from './ready-phase.js';
import type { Served } from './results-schema.js';
import { connectionsOf, type ScenarioStep } from './scenario-registry.js';
import type { RunningServer } from './server-process.js';

export interface StepSettings {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly readyTimeoutSeconds: number;
  readonly profile: CpuProfile;
  /** Also run autocannon on HTTP steps, as the cross-check of the measured client. */
  readonly crossCheck: boolean;
  /** The step puts threads to work that have never served: its warmup is at least this (`ModelLimit.freshWarmupSeconds`). */
  readonly freshWarmupSeconds?: number;
}

export interface StepOutcome {
  readonly metrics: Metrics;
  readonly loadBound: boolean;
  readonly errorSamples: readonly string[];
  /** The ready phase left connections unserved: no load ran. */
  readonly shortfall?: Served;
  readonly timeline?: readonly TimelineSecond[];
  /** The warmup this run got, when a slow ready phase or threads that never served made it longer than planned. */
  readonly warmupSeconds?: number;
}

/** After the ready phase's connections close, the time a pooling model gets to take its threads back. */
const SETTLE_MS = 50;
/**
 * A step whose ready phase took R seconds started threads or children that are as cold as they
 * were slow to start (each a fresh V8 isolate compiling its own code): its warmup is at least R,
 * up to this, so the measured window sees them warm rather than their JIT at work.
 */
const MAX_COLD_WARMUP_SECONDS = 3;

/** The warmup a step gets: the planned one, or longer after a slow ready phase or on threads that never served. */
export function warmupAfterReady(plannedSeconds: number, readySeconds: number, freshWarmupSeconds = 0): number {
  return Math.max(plannedSeconds, Math.min(Math.max(readySeconds, freshWarmupSeconds), MAX_COLD_WARMUP_SECONDS));
}

/** A load generator this busy (share of the cores it may use) is the bottleneck, not the server. */
const LOAD_BOUND_SHARE = 0.9;

export async function runStep(server: RunningServer, model: ModelEntry, step: ScenarioStep, planned: StepSettings): Promise<StepOutcome> {
  let settings = planned;
  let timing = { duration: settings.durationSeconds, warmup: settings.warmupSeconds };
  const withTiming = (args: LoadArgs): LoadArgs => ({ ...timing, ...(model.reference && { mirror: true }), ...args, ...model.loadArgs });
  const idleSeconds = step.load.kind === 'load' && typeof step.load.args.idle === 'number' ? step.load.args.idle : 0;
  const timeoutMs = (idleSeconds + settings.warmupSeconds + settings.durationSeconds) * 1000 + 60_000;
  const baselineRss = sampleTree(server.pid)?.rssBytes ?? 0;
  const connections = connectionsOf(step);
  const ready =
    model.protocol === 'redis'
      ? { served: connections, of: connections, seconds: 0, problems: [] }
      : await waitUntilServed(server.target, connections, model.reference, settings.readyTimeoutSeconds * 1000);
  if (ready.served < connections) {
    return {
      metrics: { readySeconds: ready.seconds },
      loadBound: false,
      errorSamples: ready.problems,
      shortfall: { served: ready.served, of: connections },
    };
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  settings = { ...planned, warmupSeconds: warmupAfterReady(planned.warmupSeconds, ready.seconds, planned.freshWarmupSeconds) };
  timing = { duration: settings.durationSeconds, warmup: settings.warmupSeconds };
  const sampler = new TreeSampler(server.pid);
  sampler.start();
  // A cluster's Redis is inside the server tree; its own share is sampled beside it over the same window.
  const hubSampler = server.hubPid === undefined ? undefined : new TreeSampler(server.hubPid);
  hubSampler?.start();
  let runs: LoadRun[];
  let serverUsage: TreeUsage | undefined;
  let hubUsage: TreeUsage | undefined;
  try {
    const load = step.load;
    if (load.kind === 'load') {
      runs = [await runLoadProcess(loadGeneratorArgv(loadTargetOf(server, load.args), withTiming(load.args)), settings.profile, timeoutMs)];
    } else if (load.kind === 'mix') {
      runs = await Promise.all([
        runLoadProcess(loadGeneratorArgv(server.target, withTiming(load.ping)), settings.profile, timeoutMs),
        runLoadProcess(loadGeneratorArgv(server.target, withTiming(load.work)), settings.profile, timeoutMs),
      ]);
    } else {
      runs = [await runLoadProcess(httpLoadArgv(httpSpec(server, load, settings)), settings.profile, timeoutMs)];
    }
  } finally {
    // Stop sampling whatever happened, so no interval is left behind.
    serverUsage = sampler.stop();
    hubUsage = hubSampler?.stop();
  }
  const primary = runs[0] as LoadRun;
  const outcome = toOutcome(primary.outcome, runs, serverUsage, baselineRss, connections, settings, step);
  outcome.metrics.readySeconds = ready.seconds;
  if (hubUsage !== undefined) outcome.metrics.hubCpuCores = hubUsage.cores;
  if (primary.outcome.lossRate !== undefined) outcome.metrics.lossRate = primary.outcome.lossRate;
  if (step.load.kind === 'http' && settings.crossCheck) {
    // autocannon after the measured window, outside the CPU sampling: its figures stand beside, not in.
    const spec = { ...httpSpec(server, step.load, settings), warmupSeconds: 0 };
    const check = await runLoadProcess(crossCheckArgv(spec), settings.profile, timeoutMs);
    outcome.metrics.crossCheckPerSecond = check.outcome.messagesPerSecond;
    if (check.outcome.latencyMicros.count > 0) outcome.metrics.crossCheckP99Micros = check.outcome.latencyMicros.p99;
  }
  return {
    ...outcome,
    ...(primary.outcome.timeline !== undefined && { timeline: primary.outcome.timeline }),
    ...(settings.warmupSeconds > planned.warmupSeconds && { warmupSeconds: settings.warmupSeconds }),
  };
}

/** Where a step's load goes: the server's datagram socket for `--udp`, every server of a cluster, or the server. */
function loadTargetOf(server: RunningServer, args: LoadArgs): string | readonly string[] {
  if (args.udp === true) {
    if (server.udpTarget === undefined)
      throw new Error(`${server.model} announced no udpAddress: a UDP step needs the server started with --udp`);
    return server.udpTarget;
  }
  return server.targets ?? server.target;
}

function httpSpec(server: RunningServer, load: Extract<ScenarioStep['load'], { kind: 'http' }>, settings: StepSettings) {
  return {
    url: `${server.target.replace(/^tcp:/, 'http:')}${load.path}`,
    method: load.method,
    ...(load.body !== undefined && { body: load.body }),
    connections: load.connections,
    durationSeconds: settings.durationSeconds,
    warmupSeconds: settings.warmupSeconds,
  };
}

function toOutcome(
  outcome: LoadOutcome,
  runs: readonly LoadRun[],
  server: TreeUsage,
  baselineRss: number,
  connections: number,
  settings: StepSettings,
  step: ScenarioStep,
): StepOutcome & { metrics: Metrics } {
  const loadCpuSeconds = runs.reduce((sum, run) => sum + run.usage.userSeconds + run.usage.systemSeconds, 0);
  const loadWall = Math.max(...runs.map((run) => run.usage.wallSeconds));
  const loadCores = loadWall > 0 ? loadCpuSeconds / loadWall : 0;
  const serverCpuSeconds = server.userSeconds + server.systemSeconds;
  // Messages over the whole window the CPU was sampled in (warmup included), not just the measured part.
  const handled = runs.reduce((sum, run) => sum + messagesHandled(run.outcome, settings), 0);
  const latency = outcome.latencyMicros;
  const metrics: Metrics = {
    messagesPerSecond: outcome.messagesPerSecond,
    mbPerSecond: outcome.bytesPerSecond / 1_048_576,
    errors: runs.reduce((sum, run) => sum + run.outcome.errors, 0),
    p50Micros: latency.p50,
    p90Micros: latency.p90,
    p99Micros: latency.p99,
    p999Micros: latency.p999,
    p9999Micros: latency.p9999,
    maxMicros: latency.max,
    uncorrectedP99Micros: outcome.uncorrectedLatencyMicros.p99,
    lateSends: outcome.lateSends,
    serverCpuCores: server.cores,
    serverCpuMicrosPerMessage: handled > 0 ? (serverCpuSeconds * 1e6) / handled : 0,
    serverCpuMicrosPerMiB: cpuMicrosPerMiB(serverCpuSeconds, handled, outcome),
    serverRssBytes: server.peakRssBytes,
    serverThreads: server.maxThreads,
    serverProcesses: server.maxProcesses,
    loadCpuCores: loadCores,
    loadCpuMicrosPerMessage: handled > 0 ? (loadCpuSeconds * 1e6) / handled : 0,
    connectionsOpened: runs.reduce((sum, run) => sum + run.outcome.connectionsOpened, 0),
  };
  if (connections > 0 && step.load.kind === 'load' && step.load.args.idle !== undefined) {
    metrics.memoryPerConnectionBytes = Math.max(0, server.peakRssBytes - baselineRss) / connections;
  }
  if (step.load.kind === 'mix' && runs[1] !== undefined) metrics.workPerSecond = runs[1].outcome.messagesPerSecond;
  const loadBound = runs.some((run) => run.usage.cores >= LOAD_BOUND_SHARE * Math.min(settings.profile.loadCores, 1));
  return { metrics, loadBound, errorSamples: runs.flatMap((run) => run.outcome.errorSamples).slice(0, 5) };
}

/** CPU time per MiB of payload over the sampled window: `handled` messages of the payload each carried. */
function cpuMicrosPerMiB(cpuSeconds: number, handled: number, outcome: LoadOutcome): number {
  const bytesPerMessage = outcome.messagesPerSecond > 0 ? outcome.bytesPerSecond / outcome.messagesPerSecond : 0;
  const mebibytes = (handled * bytesPerMessage) / 1_048_576;
  return mebibytes > 0 ? (cpuSeconds * 1e6) / mebibytes : 0;
}

function messagesHandled(outcome: LoadOutcome, settings: StepSettings): number {
  const timeline = outcome.timeline;
  if (timeline !== undefined) return timeline.reduce((sum, second) => sum + second.messages, 0);
  return outcome.messagesPerSecond * (settings.durationSeconds + settings.warmupSeconds);
}
