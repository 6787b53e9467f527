/**
 * Runs the bench: for each run, each model in turn (A B C D A B C D, so drift on a shared machine
 * spreads over every model), every scenario's steps (each behind its ready phase) on the model's
 * server. A server starts at the model's first run, with the flags it needs to serve the largest
 * step, and is kept, idle between its turns, until the bench ends: runs 2 and 3 measure the model
 * and not its boot and cold threads again. Rows whose runs disagree are re-run, a bounded number
 * of times, and the medians are taken over the runs that agree; a row still spread too wide is
 * flagged noisy. Last, every server is stopped and checked to exit cleanly.
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

/** A sample whose server is still running: it learns `cleanExit` when that server stops. */
type PendingSample = Omit<RunSample, 'cleanExit'> & { cleanExit: boolean };

/** One model's server (for one server set and flags), kept for the whole bench. */
interface ServerSlot {
  readonly model: string;
  server: RunningServer | undefined;
  /** The samples taken on `server`. */
  taken: PendingSample[];
}

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
  const slots = new Map<string, ServerSlot>();
  // The most connections each server has served at once so far: a step above it reaches threads that never ran.
  const servedAtOnce = new WeakMap<RunningServer, number>();
  const runJobs = async (run: number, model: ModelEntry, jobs: readonly Job[], allJobs: readonly Job[]): Promise<void> => {
    // Steps that start the model otherwise (a step's `servers`: a cluster on Redis, `--udp`) get their own server,
    // with the flags for the largest step of theirs (a re-run's too: of all the group's steps, not just the one re-run).
    for (const group of groupByServers(jobs)) {
      const sameServers = allJobs.filter((job) => job.step.servers?.key === group.servers?.key);
      const limit = modelLimit(model.name, Math.max(...sameServers.map((job) => connectionsOf(job.step))));
      const { entry, args } = group.servers?.launch(model, limit.args) ?? { entry: model, args: limit.args };
      const slotKey = keyOf(model.name, group.servers?.key ?? '', args.join(' '));
      const slot = slots.get(slotKey) ?? { model: model.name, server: undefined, taken: [] };
      slots.set(slotKey, slot);
      const results = await runOnSlot(slot, entry, plan.profile, args, run, group.jobs, async (server, job) => {
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
        collect(job, model.name, args, sample);
        plan.log(describeSample(run, job.scenario.name, job.step.label, model.name, sample));
      }
    }
  };
  /** Every run, then the re-runs of noisy rows. */
  const runAllRuns = async (): Promise<void> => {
    for (let run = 1; run <= plan.runs; run++) {
      for (const model of plan.models) {
        const jobs = jobsOf(model);
        if (jobs.length > 0) await runJobs(run, model, jobs, jobs);
      }
    }
    // Re-runs: a row whose kept runs still disagree gets one more run, up to maxExtraRuns, until it
    // agrees. Scenario by scenario, event-loop (every ratio's baseline) first, each row's re-runs
    // before the next row's, so that when time runs short the rows the summary leans on got theirs.
    if (plan.runs < 2 || plan.maxExtraRuns === 0) return;
    const noisyJobs = (model: ModelEntry, scenario: Scenario): Job[] =>
      jobsOf(model).filter((job) => {
        const entry = collected.get(keyOf(job.scenario.name, job.step.label, model.name));
        return job.scenario.name === scenario.name && entry !== undefined && isNoisy(entry.samples, scenario.primary, plan);
      });
    const byBaselineFirst = [...plan.models].sort((a, b) => Number(b.name === BASELINE_MODEL) - Number(a.name === BASELINE_MODEL));
    const noisyRows = (): number => [...collected.values()].filter((entry) => isNoisy(entry.samples, entry.scenario.primary, plan)).length;
    if (noisyRows() > 0) plan.log(`re-runs: ${noisyRows()} row(s) spread over ${Math.round(plan.noiseThreshold * 100)}%`);
    for (const scenario of plan.scenarios) {
      for (const model of byBaselineFirst) {
        for (let round = 1; round <= plan.maxExtraRuns; round++) {
          const jobs = noisyJobs(model, scenario);
          if (jobs.length === 0) break;
          if (elapsed() > plan.rerunUntilSeconds) {
            plan.log(`re-runs stopped at ${Math.round(elapsed())} s (bound ${plan.rerunUntilSeconds} s): ${noisyRows()} row(s) left noisy`);
            return;
          }
          await runJobs(plan.runs + round, model, jobs, jobsOf(model));
        }
      }
    }
  };
  // Stopped from outside (Ctrl-C, a timeout's SIGTERM): the servers kept between runs go too, none left behind.
  const stopServersAndExit = (signal: NodeJS.Signals): void => {
    for (const slot of slots.values()) if (slot.server?.alive()) process.kill(slot.server.pid, 'SIGTERM');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stopServersAndExit);
  process.once('SIGTERM', stopServersAndExit);
  try {
    await runAllRuns();
  } finally {
    process.removeListener('SIGINT', stopServersAndExit);
    process.removeListener('SIGTERM', stopServersAndExit);
    for (const slot of slots.values()) {
      const samples = slot.taken.length;
      if (!(await stopSlot(slot))) plan.log(`${slot.model}: its server did not exit cleanly after SIGTERM (${samples} runs flagged)`);
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
 * Runs the jobs in order on the slot's server, starting it if it is not running (the first
 * run, or after it died: a dead server is stopped, which flags its samples, and started again).
 */
async function runOnSlot(
  slot: ServerSlot,
  model: ModelEntry,
  profile: CpuProfile,
  args: readonly string[],
  run: number,
  jobs: readonly Job[],
  measure: (server: RunningServer, job: Job) => Promise<StepSample>,
): Promise<Array<{ job: Job; sample: RunSample }>> {
  const done: Array<{ job: Job; sample: RunSample }> = [];
  for (const job of jobs) {
    if (slot.server !== undefined && !slot.server.alive()) await stopSlot(slot);
    if (slot.server === undefined) {
      try {
        slot.server = await startServer(model, profile, args);
      } catch (error) {
        done.push({ job, sample: { run, ...failedSample(error), cleanExit: false } });
        continue;
      }
    }
    let sample: PendingSample;
    try {
      sample = { run, ...(await measure(slot.server, job)), cleanExit: true };
    } catch (error) {
      sample = { run, ...failedSample(error), cleanExit: true };
    }
    slot.taken.push(sample);
    done.push({ job, sample });
  }
  return done;
}

/** Stops the slot's server, if any; every sample taken on it learns whether it exited cleanly. */
async function stopSlot(slot: ServerSlot): Promise<boolean> {
  if (slot.server === undefined) return true;
  const { clean } = await slot.server.stop();
  for (const sample of slot.taken) sample.cleanExit = clean;
  slot.taken = [];
  slot.server = undefined;
  return clean;
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
