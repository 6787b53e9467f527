/** Synthetic results, shaped like a real bench's, for the report, summary and compare tests. */

import { aggregateRow } from '../src/bench-runner.js';
import type { MetricName } from '../src/metrics.js';
import type { BenchResults, RunSample, StepResult } from '../src/results-schema.js';
import { SCHEMA } from '../src/results-schema.js';

export const sample = (run: number, throughput: number, p99: number): RunSample => ({
  run,
  metrics: {
    messagesPerSecond: throughput,
    p50Micros: p99 / 4,
    p90Micros: p99 / 2,
    p99Micros: p99,
    p999Micros: p99 * 2,
    p9999Micros: p99 * 3,
    serverCpuMicrosPerMessage: 1e6 / throughput,
    loadCpuMicrosPerMessage: 0.6e6 / throughput,
    serverRssBytes: 60 * 1024 * 1024,
    serverCpuCores: 0.9,
    loadCpuCores: 0.5,
    readySeconds: 0.01,
    errors: 0,
  },
  loadBound: false,
  cleanExit: true,
  errorSamples: [],
});

const PRIMARY: Readonly<Record<string, MetricName>> = { echo: 'messagesPerSecond', 'echo-rate': 'p99Micros' };

export function row(scenario: string, label: string, x: number, model: string, runs: readonly RunSample[], plannedRuns = 3): StepResult {
  const base = { scenario, step: label, x, model, connections: x, serverArgs: [] };
  return aggregateRow(base, runs, PRIMARY[scenario] ?? 'messagesPerSecond', { runs: plannedRuns, noiseThreshold: 0.2 });
}

function step(scenario: string, label: string, x: number, model: string, base: number, p99: number): StepResult {
  const runs = [sample(1, base * 0.98, p99), sample(2, base, p99 * 1.05), sample(3, base * 1.02, p99 * 0.95)];
  return row(scenario, label, x, model, runs);
}

export function syntheticResults(scale = 1, rateP99: Readonly<Record<string, number>> = {}): BenchResults {
  const models = [
    ['worker-pool', 80_000],
    ['event-loop', 100_000],
    ['reference', 120_000],
  ] as const;
  const results: StepResult[] = [];
  for (const [model, base] of models) {
    results.push(step('echo', 'c1', 1, model, (base / 10) * scale, 300));
    results.push(step('echo', 'c100', 100, model, base * scale, 2000));
    results.push(step('echo-rate', '10k/s', 10_000, model, 10_000, rateP99[model] ?? 1500));
  }
  return {
    schema: SCHEMA,
    createdAt: '2026-01-01T00:00:00.000Z',
    environment: {
      node: 'v20.20.2',
      platform: 'linux x64',
      kernel: '6',
      cpuModel: 'test cpu',
      cores: 2,
      memoryBytes: 1,
      profile: 'split',
      pinned: true,
      gitCommit: 'abc',
      gitDirty: false,
    },
    settings: {
      depth: 'quick',
      runs: 3,
      durationSeconds: 1,
      warmupSeconds: 0.5,
      readyTimeoutSeconds: 60,
      noiseThreshold: 0.2,
      maxExtraRuns: 2,
      models: models.map(([name]) => name),
      scenarios: ['echo', 'echo-rate'],
    },
    scenarios: [
      { name: 'echo', shows: 'echo', xAxis: 'connections', primary: 'messagesPerSecond' },
      { name: 'echo-rate', shows: 'rate', xAxis: 'rate', primary: 'p99Micros' },
    ],
    results,
    wallSeconds: 12,
  };
}
