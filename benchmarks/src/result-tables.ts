/**
 * The tables every report shares: one per scenario, models side by side per step, each with its
 * standing against the reference row, so Markdown, HTML and the terminal print the same figures.
 */
import { formatMetric } from './metric-format.js';
import { LATENCY_METRICS, METRICS, type MetricName } from './metrics.js';
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
  'readySeconds',
  'loadCpuCores',
];

const EXTRA_COLUMNS: Readonly<Record<string, readonly MetricName[]>> = {
  'echo-large': ['mbPerSecond', 'serverCpuMicrosPerMiB'],
  files: ['mbPerSecond', 'serverCpuMicrosPerMiB'],
  'echo-rate': ['uncorrectedP99Micros', 'lateSends'],
  connections: ['memoryPerConnectionBytes', 'connectionsOpened', 'serverProcesses'],
  churn: ['serverProcesses'],
  'cpu-mix': ['workPerSecond'],
  http: ['crossCheckPerSecond', 'crossCheckP99Micros'],
  'udp-echo': ['lossRate'],
  'chat-cluster': ['hubCpuCores'],
};

export function columnsFor(scenario: string): readonly MetricName[] {
  return [...BASE_COLUMNS.slice(0, 4), ...(EXTRA_COLUMNS[scenario] ?? []), ...BASE_COLUMNS.slice(4)];
}

/** The row measured something: every connection served, some run kept, some reply received. */
export function hasReplies(row: StepResult): boolean {
  return row.served === undefined && (row.median.messagesPerSecond ?? 0) > 0;
}

/**
 * How `mine` stands against `theirs` on a metric, direction-aware: above 1 is better, below 1
 * worse, whichever way the metric goes (so 2.00 on a latency is half the latency). `undefined`
 * when either side has nothing to compare.
 */
export function standing(metric: MetricName, mine: number | undefined, theirs: number | undefined): number | undefined {
  if (mine === undefined || theirs === undefined || !Number.isFinite(mine) || !Number.isFinite(theirs)) return undefined;
  // A ratio to or from zero (a figure below the tool's resolution) says nothing: no ratio, not Infinity.
  if (mine === 0 || theirs === 0) return undefined;
  return METRICS[metric].better === 'higher' ? mine / theirs : theirs / mine;
}

export function formatStanding(value: number | undefined): string {
  return value === undefined ? '–' : `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}x`;
}

/** The model's primary figure against the reference's on the same step, direction-aware (1.00x is the floor's own). */
export function standingToReference(results: BenchResults, row: StepResult, primary: MetricName): string {
  const reference = results.results.find(
    (other) => other.scenario === row.scenario && other.step === row.step && other.model === REFERENCE_MODEL,
  );
  if (reference === undefined || !hasReplies(row) || !hasReplies(reference)) return '–';
  return formatStanding(standing(primary, row.median[primary], reference.median[primary]));
}

/** Runs kept for the medians, and how many there were when some were set aside. */
export function runsOf(row: StepResult): string {
  const kept = row.runs.filter((run) => run.failure === undefined && run.shortfall === undefined && run.outlier !== true).length;
  return kept === row.runs.length ? String(kept) : `${kept} of ${row.runs.length}`;
}

/** Fewer kept runs than this cannot tell models apart: every report says so. */
export const MIN_TRUSTED_RUNS = 3;

export const keptRuns = (row: StepResult): number =>
  row.runs.filter((run) => run.failure === undefined && run.shortfall === undefined && run.outlier !== true).length;

export function flagsOf(row: StepResult): string {
  const flags: string[] = [];
  if (row.served !== undefined) flags.push(`served ${row.served.served} of ${row.served.of}`);
  if (row.runs.some((run) => run.failure !== undefined)) flags.push('FAILED');
  if (row.served === undefined && keptRuns(row) > 0 && (row.median.messagesPerSecond ?? 0) === 0) flags.push('no replies');
  if (row.noisy) flags.push('noisy');
  const silentRuns = row.runs.filter(
    (run) => run.failure === undefined && run.shortfall === undefined && run.outlier !== true && (run.metrics.messagesPerSecond ?? 0) === 0,
  ).length;
  if (silentRuns > 0 && hasReplies(row)) flags.push(`${silentRuns} run${silentRuns === 1 ? '' : 's'} without replies`);
  const longest = Math.max(0, ...row.runs.map((run) => run.warmupSeconds ?? 0));
  if (longest > 0) flags.push(`warmup ${longest}s (cold threads)`);
  if (keptRuns(row) > 0 && keptRuns(row) < MIN_TRUSTED_RUNS) flags.push(`${keptRuns(row)} run${keptRuns(row) === 1 ? '' : 's'}`);
  if (row.loadBound) flags.push('load-bound');
  if (!row.cleanExit) flags.push('unclean exit');
  if ((row.max.errors ?? 0) > 0) flags.push(`errors ${row.max.errors ?? 0}`);
  return flags.join(', ');
}

export function noiseOf(row: StepResult): string {
  return row.noise === undefined ? '–' : `${Math.round(row.noise * 100)}%`;
}

export function buildTables(results: BenchResults): ResultTable[] {
  return results.scenarios
    .map((scenario) => {
      const primary = scenario.primary as MetricName;
      const columns = columnsFor(scenario.name);
      const rows = results.results.filter((row) => row.scenario === scenario.name);
      const headers = ['step', 'model', ...columns.map((name) => labelOf(name)), 'vs ref', 'spread', 'runs', 'flags'];
      const body = rows.map((row) => [
        row.step,
        row.model,
        ...columns.map((name, index) =>
          index === 0 && row.served !== undefined ? `served ${row.served.served} of ${row.served.of}` : cell(row, name),
        ),
        standingToReference(results, row, primary),
        noiseOf(row),
        runsOf(row),
        flagsOf(row),
      ]);
      return { scenario: scenario.name, shows: scenario.shows, headers, rows: body };
    })
    .filter((table) => table.rows.length > 0);
}

/** The median, with min–max beside it when the runs disagree; no latency for a row without replies. */
function cell(row: StepResult, name: MetricName): string {
  if (row.served !== undefined && name !== 'readySeconds') return '–';
  if (LATENCY_METRICS.has(name) && !hasReplies(row)) return '–';
  const middle = formatMetric(name, row.median[name]);
  const low = formatMetric(name, row.min[name]);
  const high = formatMetric(name, row.max[name]);
  return low === high ? middle : `${middle} (${low}–${high})`;
}

export function labelOf(name: MetricName): string {
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
    serverCpuMicrosPerMiB: 'srv µs/MiB',
    serverRssBytes: 'srv RSS',
    serverThreads: 'thr',
    serverProcesses: 'procs',
    memoryPerConnectionBytes: 'B/conn',
    connectionsOpened: 'held',
    lossRate: 'loss',
    hubCpuCores: 'Redis CPU',
    loadCpuCores: 'load CPU',
    loadCpuMicrosPerMessage: 'load µs/msg',
    readySeconds: 'ready',
    crossCheckPerSecond: 'autocannon/s',
    crossCheckP99Micros: 'autocannon p99',
  }[name];
}
