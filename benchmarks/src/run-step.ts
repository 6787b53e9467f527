/**
 * Runs one scenario step against a running server: launches the load process(es), samples the
 * server's process tree and the load generator's CPU over the same window, and turns it all into
 * the step's metrics.
 */
import type { CpuProfile } from './cpu-profile.js';
import { httpLoadArgv, type LoadArgs, type LoadOutcome, type LoadRun, loadGeneratorArgv, runLoadProcess } from './load-process.js';
import type { Metrics } from './metrics.js';
import type { ModelEntry } from './models.js';
import { sampleTree, TreeSampler, type TreeUsage } from './proc-sampler.js';
import type { ScenarioStep } from './scenario-registry.js';
import type { RunningServer } from './server-process.js';

export interface StepSettings {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly profile: CpuProfile;
}

export interface StepOutcome {
  readonly metrics: Metrics;
  readonly loadBound: boolean;
  readonly errorSamples: readonly string[];
}

/** A load generator this busy (share of the cores it may use) is the bottleneck, not the server. */
const LOAD_BOUND_SHARE = 0.9;

export async function runStep(server: RunningServer, model: ModelEntry, step: ScenarioStep, settings: StepSettings): Promise<StepOutcome> {
  const timing = { duration: settings.durationSeconds, warmup: settings.warmupSeconds };
  const withTiming = (args: LoadArgs): LoadArgs => ({ ...timing, ...(model.reference && { mirror: true }), ...args, ...model.loadArgs });
  const idleSeconds = step.load.kind === 'load' && typeof step.load.args.idle === 'number' ? step.load.args.idle : 0;
  const timeoutMs = (idleSeconds + settings.warmupSeconds + settings.durationSeconds) * 1000 + 60_000;
  const baselineRss = sampleTree(server.pid)?.rssBytes ?? 0;
  const sampler = new TreeSampler(server.pid);
  sampler.start();
  let runs: LoadRun[];
  let serverUsage: TreeUsage | undefined;
  try {
    const load = step.load;
    if (load.kind === 'load') {
      runs = [await runLoadProcess(loadGeneratorArgv(server.target, withTiming(load.args)), settings.profile, timeoutMs)];
    } else if (load.kind === 'mix') {
      runs = await Promise.all([
        runLoadProcess(loadGeneratorArgv(server.target, withTiming(load.ping)), settings.profile, timeoutMs),
        runLoadProcess(loadGeneratorArgv(server.target, withTiming(load.work)), settings.profile, timeoutMs),
      ]);
    } else {
      const url = `${server.target.replace(/^tcp:/, 'http:')}${load.path}`;
      const spec = {
        url,
        method: load.method,
        ...(load.body !== undefined && { body: load.body }),
        connections: load.connections,
        durationSeconds: settings.durationSeconds,
        warmupSeconds: settings.warmupSeconds,
      };
      runs = [await runLoadProcess(httpLoadArgv(spec), settings.profile, timeoutMs)];
    }
  } finally {
    // Stop sampling whatever happened, so no interval is left behind.
    serverUsage = sampler.stop();
  }
  const primary = runs[0] as LoadRun;
  const connections = step.load.kind === 'load' && typeof step.load.args.connections === 'number' ? step.load.args.connections : 0;
  return toOutcome(primary.outcome, runs, serverUsage, baselineRss, connections, settings, step);
}

function toOutcome(
  outcome: LoadOutcome,
  runs: readonly LoadRun[],
  server: TreeUsage,
  baselineRss: number,
  connections: number,
  settings: StepSettings,
  step: ScenarioStep,
): StepOutcome {
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

function messagesHandled(outcome: LoadOutcome, settings: StepSettings): number {
  const timeline = outcome.timeline;
  if (timeline !== undefined) return timeline.reduce((sum, second) => sum + second.messages, 0);
  return outcome.messagesPerSecond * (settings.durationSeconds + settings.warmupSeconds);
}
