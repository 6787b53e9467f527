/**
 * The tables every report shares: one per scenario, models side by side per step, each with its
 * ratio to the reference row, so Markdown, HTML and the terminal print the same figures.
 */
import { formatMetric } from './metric-format.js';
import type { MetricName } from './metrics.js';
import { REFERENCE_MODEL } from './models.js';
import type { BenchResults, StepResult } from './results-schema.js';

export interface ResultTable {
  readonly scenario: string;
  readonly shows: string;
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

const BASE_COLUMNS: readonly MetricName[] = [
  'messagesPerSecond',
  'p50Micros',
  'p99Micros',
  'p999Micros',
  'serverCpuCores',
  'serverCpuMicrosPerMessage',
  'serverRssBytes',
  'serverThreads',
  'loadCpuCores',
];

const EXTRA_COLUMNS: Readonly<Record<string, readonly MetricName[]>> = {
  'echo-large': ['mbPerSecond'],
  'echo-rate': ['uncorrectedP99Micros', 'lateSends'],
  connections: ['memoryPerConnectionBytes', 'connectionsOpened', 'serverProcesses'],
  churn: ['serverProcesses'],
  'cpu-mix': ['workPerSecond'],
};

export function columnsFor(scenario: string): readonly MetricName[] {
  return [...BASE_COLUMNS.slice(0, 4), ...(EXTRA_COLUMNS[scenario] ?? []), ...BASE_COLUMNS.slice(4)];
}

/** How a model's primary metric compares to the reference's on the same step: `1.00x` is the floor. */
export function ratioToReference(results: BenchResults, row: StepResult, primary: MetricName): string {
  const reference = results.results.find(
    (other) => other.scenario === row.scenario && other.step === row.step && other.model === REFERENCE_MODEL,
  );
  const mine = row.median[primary];
  const theirs = reference?.median[primary];
  if (mine === undefined || theirs === undefined || theirs === 0) return '–';
  return `${(mine / theirs).toFixed(2)}x`;
}

export function flagsOf(row: StepResult): string {
  const flags: string[] = [];
  if (row.runs.some((run) => run.failure !== undefined)) flags.push('FAILED');
  if (row.runs.some((run) => run.failure === undefined) && row.median.messagesPerSecond === 0) flags.push('no replies');
  if (row.loadBound) flags.push('load-bound');
  if (!row.cleanExit) flags.push('unclean exit');
  if ((row.median.errors ?? 0) > 0 || (row.max.errors ?? 0) > 0) flags.push(`errors ${row.max.errors ?? 0}`);
  return flags.join(', ');
}

export function buildTables(results: BenchResults): ResultTable[] {
  return results.scenarios
    .map((scenario) => {
      const primary = scenario.primary as MetricName;
      const columns = columnsFor(scenario.name);
      const rows = results.results.filter((row) => row.scenario === scenario.name);
      const headers = ['step', 'model', ...columns.map((name) => labelOf(name)), 'vs ref', 'runs', 'flags'];
      const body = rows.map((row) => [
        row.step,
        row.model,
        ...columns.map((name) => cell(row, name)),
        ratioToReference(results, row, primary),
        String(row.runs.length),
        flagsOf(row),
      ]);
      return { scenario: scenario.name, shows: scenario.shows, headers, rows: body };
    })
    .filter((table) => table.rows.length > 0);
}

/** The median, with min–max beside it when the runs disagree. */
function cell(row: StepResult, name: MetricName): string {
  const middle = formatMetric(name, row.median[name]);
  const low = formatMetric(name, row.min[name]);
  const high = formatMetric(name, row.max[name]);
  return low === high ? middle : `${middle} (${low}–${high})`;
}

function labelOf(name: MetricName): string {
  return {
    messagesPerSecond: 'msg/s',
    mbPerSecond: 'MiB/s',
    workPerSecond: 'WORK/s',
    errors: 'errors',
    p50Micros: 'p50',
    p90Micros: 'p90',
    p99Micros: 'p99',
    p999Micros: 'p99.9',
    p9999Micros: 'p99.99',
    maxMicros: 'max',
    uncorrectedP99Micros: 'p99 uncorr.',
    lateSends: 'late',
    serverCpuCores: 'srv CPU',
    serverCpuMicrosPerMessage: 'srv µs/msg',
    serverRssBytes: 'srv RSS',
    serverThreads: 'thr',
    serverProcesses: 'procs',
    memoryPerConnectionBytes: 'B/conn',
    connectionsOpened: 'held',
    loadCpuCores: 'load CPU',
    loadCpuMicrosPerMessage: 'load µs/msg',
  }[name];
}
