/**
 * Runs the bench: for each run, each model in turn (A B C D A B C D, so drift on a shared machine
 * spreads over every model), start the server once with the flags it needs to serve the largest
 * step, run every scenario's steps on it (each behind its ready phase), stop it, check it exited
 * cleanly. Then rows whose runs disagree are re-run, a bounded number of times, and the medians
 * are taken over the runs that agree; a row still spread too wide is flagged noisy.
 */
import type { CpuProfile } from './cpu-profile.js';
import { describeEnvironment } from './environment.js';
import { LATENCY_METRICS, METRIC_NAMES, type MetricName, type Metrics } from './metrics.js';
import { modelLimit } from './model-flags.js';
import type { ModelEntry } from './models.js';
import { type BenchResults, type RunSample, SCHEMA, type Served, type StepResult } from './results-schema.js';
import { runStep, type StepSettings } from './run-step.js';
import { connectionsOf, type Depth, type Scenario, type ScenarioStep, type ServerSet } from './scenario-registry.js';
import { type RunningServer, startServer } from './server-process.js';
import { agreeingSubset, median, relativeSpread } from './statistics.js';
import { BASELINE_MODEL } from './summary.js';

export interface BenchPlan {
  readonly depth: Depth;
  readonly runs: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly readyTimeoutSeconds: number;
  /** A row spread wider than this share of its median is re-run, then flagged noisy. */
  readonly noiseThreshold: number;
  /** Re-runs at most per noisy row. */
  readonly maxExtraRuns: number;
  /** No re-run starts once the bench has run this long: the quick default's time bound. */
  readonly rerunUntilSeconds: number;
  readonly models: readonly ModelEntry[];
  readonly scenarios: readonly Scenario[];
  readonly profile: CpuProfile;
  /** One line per finished step, for the terminal. */
  readonly log: (line: string) => void;
}

interface Collected {
  readonly scenario: Scenario;
  readonly step: ScenarioStep;
  readonly model: string;
  serverArgs: readonly string[];
  readonly samples: RunSample[];
}

interface Job {
  readonly scenario: Scenario;
  readonly step: ScenarioStep;
}

const keyOf = (scenario: string, step: string, model: string): string => `${scenario}\u0000${step}\u0000${model}`;

export async function runBench(plan: BenchPlan): Promise<BenchResults> {
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  const collected = new Map<string, Collected>();
  const collect = (job: Job, model: string, serverArgs: readonly string[], sample: RunSample): void => {
    const key = keyOf(job.scenario.name, job.step.label, model);
    const entry = collected.get(key) ?? { scenario: job.scenario, step: job.step, model, serverArgs, samples: [] };
    entry.serverArgs = serverArgs;
    entry.samples.push(sample);
    collected.set(key, entry);
  };
  const jobsOf = (model: ModelEntry): Job[] =>
    plan.scenarios
      .filter((scenario) => !model.reference || scenario.reference)
      .filter((scenario) => model.scenarios === undefined || model.scenarios.includes(scenario.name))
      .flatMap((scenario) => scenario.steps(plan.depth).map((step) => ({ scenario, step })));
  const settings = (run: number, freshWarmupSeconds: number): StepSettings => ({
    durationSeconds: plan.durationSeconds,
    warmupSeconds: plan.warmupSeconds,
    readyTimeoutSeconds: plan.readyTimeoutSeconds,
    profile: plan.profile,
    // autocannon's figures are a check, not the measurement: once per model is enough in quick.
    crossCheck: plan.depth === 'full' || run === 1,
    ...(freshWarmupSeconds > 0 && { freshWarmupSeconds }),
  });
  const runJobs = async (run: number, model: ModelEntry, jobs: readonly Job[], allJobs: readonly Job[]): Promise<void> => {
    // Steps that start the model otherwise (a step's `servers`: a cluster on Redis, `--udp`) get their own start,
    // with the flags for the largest step of theirs (a re-run's too: of all the group's steps, not just the one re-run).
    for (const group of groupByServers(jobs)) {
      const sameServers = allJobs.filter((job) => job.step.servers?.key === group.servers?.key);
      const limit = modelLimit(model.name, Math.max(...sameServers.map((job) => connectionsOf(job.step))));
      const { entry, args } = group.servers?.launch(model, limit.args) ?? { entry: model, args: limit.args };
      // The most connections each server has served at once so far: a step above it reaches threads that never ran.
      const servedAtOnce = new WeakMap<RunningServer, number>();
      const results = await runOnOneServer(entry, plan.profile, args, group.jobs, async (server, job) => {
        const connections = connectionsOf(job.step);
        if (connections > limit.capacity) {
          // A hard limit known up front (memory for threads): the outcome, without a minute's wait.
          const shortfall = { served: limit.capacity, of: connections };
          const reason = `${model.name}: ${limit.capacityReason ?? `${limit.capacity} connections at once at most here`}`;
          return { metrics: {}, loadBound: false, errorSamples: [reason], shortfall };
        }
        const fresh = connections > (servedAtOnce.get(server) ?? 0) ? limit.freshWarmupSeconds : 0;
        servedAtOnce.set(server, Math.max(connections, servedAtOnce.get(server) ?? 0));
        return runStep(server, entry, job.step, settings(run, fresh));
      });
      for (const { job, sample } of results) {
        const full = { run, ...sample };
        collect(job, model.name, args, full);
        plan.log(describeSample(run, job.scenario.name, job.step.label, model.name, full));
      }
    }
  };
  for (let run = 1; run <= plan.runs; run++) {
    for (const model of plan.models) {
      const jobs = jobsOf(model);
      if (jobs.length > 0) await runJobs(run, model, jobs, jobs);
    }
  }
  // Re-runs: rows whose kept runs still disagree, one more run each per round, every model in turn.
  const primaryOf = (scenario: Scenario): MetricName => scenario.primary;
  for (let round = 1; round <= plan.maxExtraRuns && plan.runs >= 2; round++) {
    const noisy = [...collected.values()].filter((entry) => isNoisy(entry.samples, primaryOf(entry.scenario), plan));
    if (noisy.length === 0) break;
    if (elapsed() > plan.rerunUntilSeconds) {
      plan.log(`re-runs stopped at ${Math.round(elapsed())} s (bound ${plan.rerunUntilSeconds} s): ${noisy.length} row(s) left noisy`);
      break;
    }
    plan.log(`re-run round ${round}: ${noisy.length} row(s) spread over ${Math.round(plan.noiseThreshold * 100)}%`);
    // Scenario by scenario, and event-loop (every ratio's baseline) first, so that when time runs
    // short the rows the summary leans on got theirs.
    const byBaselineFirst = [...plan.models].sort((a, b) => Number(b.name === BASELINE_MODEL) - Number(a.name === BASELINE_MODEL));
    for (const scenario of plan.scenarios) {
      for (const model of byBaselineFirst) {
        const jobs = jobsOf(model).filter(
          (job) =>
            job.scenario.name === scenario.name &&
            noisy.some(
              (entry) => entry.model === model.name && entry.scenario.name === job.scenario.name && entry.step.label === job.step.label,
            ),
        );
        if (jobs.length > 0 && elapsed() <= plan.rerunUntilSeconds) await runJobs(plan.runs + round, model, jobs, jobsOf(model));
      }
    }
  }
  const results = [...collected.values()].map((entry) => aggregate(entry, plan));
  return {
    schema: SCHEMA,
    createdAt: new Date().toISOString(),
    environment: describeEnvironment(plan.profile),
    settings: {
      depth: plan.depth,
      runs: plan.runs,
      durationSeconds: plan.durationSeconds,
      warmupSeconds: plan.warmupSeconds,
      readyTimeoutSeconds: plan.readyTimeoutSeconds,
      noiseThreshold: plan.noiseThreshold,
      maxExtraRuns: plan.maxExtraRuns,
      models: plan.models.map((model) => model.name),
      scenarios: plan.scenarios.map((scenario) => scenario.name),
    },
    scenarios: plan.scenarios.map((scenario) => ({
      name: scenario.name,
      shows: scenario.shows,
      xAxis: scenario.xAxis,
      primary: scenario.primary,
    })),
    results,
    wallSeconds: Math.round(elapsed() * 10) / 10,
  };
}

/** Jobs by the servers they run on (a step's `servers` key; none: the model alone), in first-seen order. */
function groupByServers(jobs: readonly Job[]): Array<{ servers: ServerSet | undefined; jobs: Job[] }> {
  const groups = new Map<string, { servers: ServerSet | undefined; jobs: Job[] }>();
  for (const job of jobs) {
    const key = job.step.servers?.key ?? '';
    const group = groups.get(key) ?? { servers: job.step.servers, jobs: [] };
    group.jobs.push(job);
    groups.set(key, group);
  }
  return [...groups.values()];
}

type StepSample = Omit<RunSample, 'run' | 'cleanExit'>;

/**
 * Starts the model once and runs the jobs in order on it; a server that dies is started again
 * for the next job. Every sample learns whether its server exited cleanly when stopped.
 */
async function runOnOneServer(
  model: ModelEntry,
  profile: CpuProfile,
  args: readonly string[],
  jobs: readonly Job[],
  run: (server: RunningServer, job: Job) => Promise<StepSample>,
): Promise<Array<{ job: Job; sample: Omit<RunSample, 'run'> }>> {
  const done: Array<{ job: Job; sample: Omit<RunSample, 'run'> }> = [];
  let server: RunningServer | undefined;
  let pending: Array<{ job: Job; sample: StepSample }> = [];
  const stop = async (): Promise<void> => {
    const clean = server === undefined ? false : (await server.stop()).clean;
    for (const entry of pending) done.push({ job: entry.job, sample: { ...entry.sample, cleanExit: clean } });
    pending = [];
    server = undefined;
  };
  for (const job of jobs) {
    if (server !== undefined && !server.alive()) await stop();
    if (server === undefined) {
      try {
        server = await startServer(model, profile, args);
      } catch (error) {
        done.push({ job, sample: { ...failedSample(error), cleanExit: false } });
        continue;
      }
    }
    try {
      pending.push({ job, sample: await run(server, job) });
    } catch (error) {
      pending.push({ job, sample: failedSample(error) });
    }
  }
  if (server !== undefined) await stop();
  return done;
}

function failedSample(error: unknown): StepSample {
  const message = error instanceof Error ? error.message : String(error);
  return { metrics: {}, loadBound: false, errorSamples: [message], failure: message };
}

function describeSample(run: number, scenario: string, step: string, model: string, sample: RunSample): string {
  const where = `run ${run} ${scenario} ${step} ${model}`;
  if (sample.failure !== undefined) return `${where}: FAILED ${sample.failure.split('\n')[0]}`;
  if (sample.shortfall !== undefined) return `${where}: served ${sample.shortfall.served} of ${sample.shortfall.of} connections`;
  const m = sample.metrics;
  const flags = [
    sample.loadBound ? 'LOAD-BOUND' : '',
    sample.cleanExit ? '' : 'UNCLEAN-EXIT',
    (m.errors ?? 0) > 0 ? `errors=${m.errors}` : '',
  ]
    .filter((flag) => flag !== '')
    .join(' ');
  const ready = (m.readySeconds ?? 0) >= 0.5 ? ` ready ${m.readySeconds}s` : '';
  return `${where}: ${Math.round(m.messagesPerSecond ?? 0)}/s p99 ${m.p99Micros ?? 0}µs${ready} ${flags}`.trimEnd();
}

/** A run that measured something: it did not fail and served every connection. */
const measured = (sample: RunSample): boolean => sample.failure === undefined && sample.shortfall === undefined;

function isNoisy(samples: readonly RunSample[], primary: MetricName, plan: Pick<BenchPlan, 'runs' | 'noiseThreshold'>): boolean {
  const spread = relativeSpread(keptValues(samples, primary, plan.runs));
  return spread !== undefined && spread > plan.noiseThreshold;
}

function keptIndices(samples: readonly RunSample[], primary: MetricName, keep: number): number[] {
  const usable = samples.map((sample, index) => ({ sample, index })).filter(({ sample }) => measured(sample));
  const values = usable.map(({ sample }) => sample.metrics[primary] ?? Number.NaN);
  if (values.some((value) => Number.isNaN(value))) return usable.map(({ index }) => index);
  return agreeingSubset(values, keep).map((position) => (usable[position] as { index: number }).index);
}

function keptValues(samples: readonly RunSample[], primary: MetricName, keep: number): number[] {
  return keptIndices(samples, primary, keep).map((index) => (samples[index] as RunSample).metrics[primary] as number);
}

/** Median, min and max of every metric over the given runs, leaving out failed and short ones. */
export function aggregateMetrics(samples: readonly RunSample[]): { median: Metrics; min: Metrics; max: Metrics } {
  const ok = samples.filter((sample) => measured(sample) && sample.outlier !== true);
  const result = { median: {} as Metrics, min: {} as Metrics, max: {} as Metrics };
  // A run without replies has no latency (its histogram prints 0): it counts for throughput only.
  const replied = ok.filter((sample) => (sample.metrics.messagesPerSecond ?? 1) > 0);
  for (const name of METRIC_NAMES) {
    const values = (LATENCY_METRICS.has(name) ? replied : ok)
      .map((sample) => sample.metrics[name])
      .filter((value): value is number => typeof value === 'number');
    if (values.length === 0) continue;
    result.median[name] = median(values);
    result.min[name] = Math.min(...values);
    result.max[name] = Math.max(...values);
  }
  return result;
}

/**
 * One row from its runs: the `runs` measured runs that agree best on the primary metric are
 * kept (all of them when there were no re-runs), the rest marked as outliers; the noise is the
 * kept runs' spread. A run short of connections makes the row's outcome "served X of N".
 */
export function aggregateRow(
  base: { scenario: string; step: string; x: number; model: string; connections: number; serverArgs: readonly string[] },
  samples: readonly RunSample[],
  primary: MetricName,
  plan: Pick<BenchPlan, 'runs' | 'noiseThreshold'>,
): StepResult {
  const kept = new Set(keptIndices(samples, primary, plan.runs));
  const runs: RunSample[] = samples.map((sample, index) => {
    const { outlier: _, ...rest } = sample;
    return measured(sample) && !kept.has(index) ? { ...rest, outlier: true } : rest;
  });
  const spread = relativeSpread(keptValues(samples, primary, plan.runs));
  const shortfalls = samples.map((sample) => sample.shortfall).filter((entry): entry is Served => entry !== undefined);
  const served = shortfalls.sort((a, b) => a.served - b.served)[0];
  return {
    ...base,
    runs,
    ...aggregateMetrics(runs),
    ...(spread !== undefined && { noise: Math.round(spread * 1000) / 1000 }),
    noisy: spread !== undefined && spread > plan.noiseThreshold,
    ...(served !== undefined && { served }),
    loadBound: runs.some((sample) => sample.loadBound && sample.outlier !== true),
    cleanExit: runs.every((sample) => sample.cleanExit),
  };
}

function aggregate(entry: Collected, plan: Pick<BenchPlan, 'runs' | 'noiseThreshold'>): StepResult {
  const base = {
    scenario: entry.scenario.name,
    step: entry.step.label,
    x: entry.step.x,
    model: entry.model,
    connections: connectionsOf(entry.step),
    serverArgs: entry.serverArgs,
  };
  return aggregateRow(base, entry.samples, entry.scenario.primary, plan);
}
