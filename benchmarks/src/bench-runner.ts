/**
 * Runs the bench: for each run, each scenario, each model in turn (A B C D A B C D, so drift on a
 * shared machine spreads over every model), start the server, run the scenario's steps, stop it,
 * check it exited cleanly. Then medians with min and max over the runs.
 */
import type { CpuProfile } from './cpu-profile.js';
import { describeEnvironment } from './environment.js';
import { METRIC_NAMES, type Metrics } from './metrics.js';
import type { ModelEntry } from './models.js';
import { type BenchResults, type RunSample, SCHEMA, type StepResult } from './results-schema.js';
import { runStep } from './run-step.js';
import type { Depth, Scenario } from './scenario-registry.js';
import { startServer } from './server-process.js';
import { median } from './statistics.js';

export interface BenchPlan {
  readonly depth: Depth;
  readonly runs: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly models: readonly ModelEntry[];
  readonly scenarios: readonly Scenario[];
  readonly profile: CpuProfile;
  /** One line per finished step, for the terminal. */
  readonly log: (line: string) => void;
}

interface Collected {
  readonly scenario: Scenario;
  readonly step: { readonly label: string; readonly x: number };
  readonly model: string;
  readonly samples: RunSample[];
}

export async function runBench(plan: BenchPlan): Promise<BenchResults> {
  const started = performance.now();
  const collected = new Map<string, Collected>();
  const collect = (scenario: Scenario, step: { label: string; x: number }, model: string, sample: RunSample): void => {
    const key = `${scenario.name}\u0000${step.label}\u0000${model}`;
    const entry = collected.get(key) ?? { scenario, step, model, samples: [] };
    entry.samples.push(sample);
    collected.set(key, entry);
  };
  const settings = { durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds, profile: plan.profile };
  for (let run = 1; run <= plan.runs; run++) {
    for (const scenario of plan.scenarios) {
      const steps = scenario.steps(plan.depth);
      for (const model of plan.models) {
        if (model.reference && !scenario.reference) continue;
        if (model.scenarios !== undefined && !model.scenarios.includes(scenario.name)) continue;
        const samples: Array<{ step: (typeof steps)[number]; sample: Omit<RunSample, 'cleanExit'> }> = [];
        let cleanExit = false;
        try {
          const server = await startServer(model, plan.profile);
          try {
            for (const step of steps) {
              try {
                const outcome = await runStep(server, model, step, settings);
                samples.push({ step, sample: { run, ...outcome } });
              } catch (error) {
                samples.push({ step, sample: failedSample(run, error) });
              }
            }
          } finally {
            cleanExit = (await server.stop()).clean;
          }
        } catch (error) {
          for (const step of steps) {
            if (!samples.some((entry) => entry.step === step)) samples.push({ step, sample: failedSample(run, error) });
          }
        }
        for (const { step, sample } of samples) {
          const full: RunSample = { ...sample, cleanExit };
          collect(scenario, step, model.name, full);
          plan.log(describeSample(run, scenario.name, step.label, model.name, full));
        }
      }
    }
  }
  const results = [...collected.values()].map(aggregate);
  return {
    schema: SCHEMA,
    createdAt: new Date().toISOString(),
    environment: describeEnvironment(plan.profile),
    settings: {
      depth: plan.depth,
      runs: plan.runs,
      durationSeconds: plan.durationSeconds,
      warmupSeconds: plan.warmupSeconds,
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
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

function failedSample(run: number, error: unknown): Omit<RunSample, 'cleanExit'> {
  const message = error instanceof Error ? error.message : String(error);
  return { run, metrics: {}, loadBound: false, errorSamples: [message], failure: message };
}

function describeSample(run: number, scenario: string, step: string, model: string, sample: RunSample): string {
  const where = `run ${run} ${scenario} ${step} ${model}`;
  if (sample.failure !== undefined) return `${where}: FAILED ${sample.failure.split('\n')[0]}`;
  const m = sample.metrics;
  const flags = [
    sample.loadBound ? 'LOAD-BOUND' : '',
    sample.cleanExit ? '' : 'UNCLEAN-EXIT',
    (m.errors ?? 0) > 0 ? `errors=${m.errors}` : '',
  ]
    .filter((flag) => flag !== '')
    .join(' ');
  return `${where}: ${Math.round(m.messagesPerSecond ?? 0)}/s p99 ${m.p99Micros ?? 0}µs ${flags}`.trimEnd();
}

/** Median, min and max of every metric over the runs that did not fail. */
export function aggregateMetrics(samples: readonly RunSample[]): { median: Metrics; min: Metrics; max: Metrics } {
  const ok = samples.filter((sample) => sample.failure === undefined);
  const result = { median: {} as Metrics, min: {} as Metrics, max: {} as Metrics };
  for (const name of METRIC_NAMES) {
    const values = ok.map((sample) => sample.metrics[name]).filter((value): value is number => typeof value === 'number');
    if (values.length === 0) continue;
    result.median[name] = median(values);
    result.min[name] = Math.min(...values);
    result.max[name] = Math.max(...values);
  }
  return result;
}

function aggregate(entry: Collected): StepResult {
  return {
    scenario: entry.scenario.name,
    step: entry.step.label,
    x: entry.step.x,
    model: entry.model,
    runs: entry.samples,
    ...aggregateMetrics(entry.samples),
    loadBound: entry.samples.some((sample) => sample.loadBound),
    cleanExit: entry.samples.every((sample) => sample.cleanExit),
  };
}
