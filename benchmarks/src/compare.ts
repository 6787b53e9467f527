/**
 * `--compare old.json new.json`: which rows moved, beyond their runs' noise. A header names both
 * runs' machines and commits (and warns when they differ, since then the figures are not a
 * comparison of code); then one line per row with a significant change (Welch's t-test over
 * the runs, not over requests, and a change of at least MIN_CHANGE), and a count of the rest.
 */
import { readFileSync } from 'node:fs';
import { formatMetric } from './metric-format.js';
import { LATENCY_METRICS, METRICS, type MetricName } from './metrics.js';
import { type BenchResults, READABLE_SCHEMAS, type StepResult } from './results-schema.js';
import { welchPValue } from './statistics.js';

export class CompareError extends Error {
  override readonly name = 'CompareError';
}

export interface MetricComparison {
  readonly scenario: string;
  readonly step: string;
  readonly model: string;
  readonly metric: MetricName;
  readonly old: number;
  readonly new: number;
  /** (new - old) / old, or 0 when both are 0. */
  readonly change: number;
  readonly pValue: number | undefined;
  readonly significant: boolean;
  /** Whether the change goes the metric's better way. */
  readonly better: boolean;
}

export const SIGNIFICANCE = 0.05;
/** A change smaller than this is not reported even when the t-test calls it significant. */
export const MIN_CHANGE = 0.05;
/** The figures compared per row: what a reader acts on (the rest follow from them or are bookkeeping). */
const COMPARED: readonly MetricName[] = [
  'messagesPerSecond',
  'workPerSecond',
  'p50Micros',
  'p99Micros',
  'p999Micros',
  'serverCpuMicrosPerMessage',
  'serverRssBytes',
  'memoryPerConnectionBytes',
  'readySeconds',
  'errors',
];

export function loadResults(file: string): BenchResults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a results.json' : String(code ?? error);
    throw new CompareError(`${file}: ${why} (give the results.json a bench wrote, e.g. benchmarks/results/<time>/results.json)`);
  }
  let parsed: Partial<BenchResults>;
  try {
    parsed = JSON.parse(text) as Partial<BenchResults>;
  } catch (error) {
    throw new CompareError(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || !READABLE_SCHEMAS.includes(String(parsed.schema))) {
    throw new CompareError(`${file}: schema '${String(parsed?.schema)}', this harness reads ${READABLE_SCHEMAS.join(' and ')}`);
  }
  if (!Array.isArray(parsed.results)) throw new CompareError(`${file}: no results array`);
  return parsed as BenchResults;
}

const runValues = (row: StepResult, metric: MetricName): number[] =>
  row.runs
    .filter((run) => run.failure === undefined && run.shortfall === undefined && run.outlier !== true)
    .map((run) => run.metrics[metric])
    .filter((value): value is number => typeof value === 'number');

export function compareResults(before: BenchResults, after: BenchResults): MetricComparison[] {
  const comparisons: MetricComparison[] = [];
  for (const row of after.results) {
    const old = before.results.find((other) => other.scenario === row.scenario && other.step === row.step && other.model === row.model);
    if (old === undefined) continue;
    const primary = after.scenarios.find((scenario) => scenario.name === row.scenario)?.primary as MetricName | undefined;
    const metrics = primary === undefined || COMPARED.includes(primary) ? COMPARED : [primary, ...COMPARED];
    for (const metric of metrics) {
      const a = old.median[metric];
      const b = row.median[metric];
      if (a === undefined || b === undefined) continue;
      // A latency of 0 is one the tool could not resolve (autocannon's 1 ms, in version 1 files): nothing to compare.
      if (LATENCY_METRICS.has(metric) && (a === 0 || b === 0)) continue;
      const change = a === 0 ? (b === 0 ? 0 : Number.POSITIVE_INFINITY) : (b - a) / a;
      const pValue = welchPValue(runValues(old, metric), runValues(row, metric));
      comparisons.push({
        scenario: row.scenario,
        step: row.step,
        model: row.model,
        metric,
        old: a,
        new: b,
        change,
        pValue,
        significant: pValue !== undefined && pValue < SIGNIFICANCE && Math.abs(change) >= MIN_CHANGE,
        better: METRICS[metric].better === 'higher' ? b > a : b < a,
      });
    }
  }
  return comparisons;
}

function describeRun(label: string, file: string, results: BenchResults): string {
  const env = results.environment;
  const commit = env.gitCommit === null ? 'unknown commit' : `commit ${env.gitCommit.slice(0, 10)}${env.gitDirty ? ' (dirty)' : ''}`;
  return `${label} ${file}: ${results.createdAt}, ${env.cpuModel}, ${env.cores} cores, ${Math.round(env.memoryBytes / 2 ** 30)} GiB, ${env.platform} ${env.kernel}, Node ${env.node}, ${commit}, ${results.settings.depth} ${results.settings.runs} run(s) × ${results.settings.durationSeconds}s, profile ${env.profile}`;
}

/** What differs between the two runs besides the code: each a reason to distrust the comparison. */
export function comparisonWarnings(before: BenchResults, after: BenchResults): string[] {
  const a = before.environment;
  const b = after.environment;
  const warnings: string[] = [];
  const machine = (env: typeof a): string => `${env.cpuModel} ×${env.cores}, ${Math.round(env.memoryBytes / 2 ** 30)} GiB, ${env.kernel}`;
  if (machine(a) !== machine(b)) warnings.push(`different machines (${machine(a)} / ${machine(b)}): the change may be the machine's`);
  if (a.node !== b.node) warnings.push(`different Node versions (${a.node} / ${b.node})`);
  if (a.gitCommit !== b.gitCommit)
    warnings.push(`different commits (${a.gitCommit?.slice(0, 10) ?? '?'} / ${b.gitCommit?.slice(0, 10) ?? '?'})`);
  if (a.gitDirty || b.gitDirty) warnings.push('a run was made with uncommitted changes: its commit does not name its code');
  if (a.profile !== b.profile) warnings.push(`different CPU profiles (${a.profile} / ${b.profile})`);
  const timing = (r: BenchResults): string => `${r.settings.durationSeconds}s after ${r.settings.warmupSeconds}s warmup`;
  if (timing(before) !== timing(after)) warnings.push(`different step timing (${timing(before)} / ${timing(after)})`);
  return warnings;
}

const percentChange = (change: number): string =>
  Number.isFinite(change) ? `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%` : 'from 0';

/** The comparison for the terminal: header, warnings, one line per row that changed, the tally. `all` adds every row's primary figure. */
export function renderComparison(
  files: { readonly before: string; readonly after: string },
  before: BenchResults,
  after: BenchResults,
  comparisons: readonly MetricComparison[],
  all = false,
): string {
  const lines = [describeRun('old', files.before, before), describeRun('new', files.after, after)];
  for (const warning of comparisonWarnings(before, after)) lines.push(`WARNING: ${warning}`);
  lines.push('');
  const rowKey = (entry: { scenario: string; step: string; model: string }): string => `${entry.scenario} ${entry.step} ${entry.model}`;
  const rows = [...new Set(comparisons.map(rowKey))];
  const changed = rows.filter((key) => comparisons.some((entry) => rowKey(entry) === key && entry.significant));
  for (const key of changed) {
    const moves = comparisons
      .filter((entry) => rowKey(entry) === key && entry.significant)
      .map(
        (entry) =>
          `${METRICS[entry.metric].label} ${formatMetric(entry.metric, entry.old)} → ${formatMetric(entry.metric, entry.new)} (${percentChange(entry.change)}, p=${(entry.pValue as number).toFixed(3)}, ${entry.better ? 'better' : 'WORSE'})`,
      );
    lines.push(`${key}: ${moves.join('; ')}`);
  }
  if (all) {
    lines.push('', 'every row, primary figures:');
    for (const row of after.results) {
      const primary = (after.scenarios.find((scenario) => scenario.name === row.scenario)?.primary ?? 'messagesPerSecond') as MetricName;
      const entry = comparisons.find((c) => rowKey(c) === rowKey(row) && c.metric === primary);
      if (entry === undefined) continue;
      const p = entry.pValue === undefined ? 'too few runs' : `p=${entry.pValue.toFixed(3)}`;
      lines.push(
        `  ${rowKey(row)}: ${METRICS[primary].label} ${formatMetric(primary, entry.old)} → ${formatMetric(primary, entry.new)} (${percentChange(entry.change)}, ${p})`,
      );
    }
  }
  const untestable = rows.filter((key) =>
    comparisons.filter((entry) => rowKey(entry) === key).every((entry) => entry.pValue === undefined),
  );
  const worse = changed.filter((key) => comparisons.some((entry) => rowKey(entry) === key && entry.significant && !entry.better));
  lines.push(
    '',
    `${changed.length} of ${rows.length} row(s) in both runs changed significantly (p < ${SIGNIFICANCE}, Welch's t-test over runs, and at least ${MIN_CHANGE * 100}%), ${worse.length} of them for the worse.`,
  );
  if (untestable.length > 0)
    lines.push(`${untestable.length} row(s) have fewer than 2 runs on a side and cannot be tested: use --runs 3 or more.`);
  const onlyOne = [
    ...before.results
      .filter((row) => !after.results.some((other) => rowKey(other) === rowKey(row)))
      .map((row) => `old only: ${rowKey(row)}`),
    ...after.results
      .filter((row) => !before.results.some((other) => rowKey(other) === rowKey(row)))
      .map((row) => `new only: ${rowKey(row)}`),
  ];
  if (onlyOne.length > 0)
    lines.push(
      `${onlyOne.length} row(s) in one run only (not compared): ${onlyOne.slice(0, 6).join(', ')}${onlyOne.length > 6 ? ', …' : ''}`,
    );
  return lines.join('\n');
}
