/**
 * `--compare old.json new.json`: every metric of every step present in both files, the change
 * of the medians, and whether it is significant over the runs (Welch's t-test, not requests).
 */
import { readFileSync } from 'node:fs';
import { formatMetric } from './metric-format.js';
import { METRIC_NAMES, METRICS, type MetricName } from './metrics.js';
import { type BenchResults, SCHEMA, type StepResult } from './results-schema.js';
import { welchPValue } from './statistics.js';

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

export function loadResults(file: string): BenchResults {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResults>;
  if (parsed.schema !== SCHEMA) throw new Error(`${file}: schema '${String(parsed.schema)}', this harness reads '${SCHEMA}'`);
  return parsed as BenchResults;
}

const runValues = (row: StepResult, metric: MetricName): number[] =>
  row.runs
    .filter((run) => run.failure === undefined)
    .map((run) => run.metrics[metric])
    .filter((value): value is number => typeof value === 'number');

export function compareResults(before: BenchResults, after: BenchResults): MetricComparison[] {
  const comparisons: MetricComparison[] = [];
  for (const row of after.results) {
    const old = before.results.find((other) => other.scenario === row.scenario && other.step === row.step && other.model === row.model);
    if (old === undefined) continue;
    for (const metric of METRIC_NAMES) {
      const a = old.median[metric];
      const b = row.median[metric];
      if (a === undefined || b === undefined) continue;
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
        significant: pValue !== undefined && pValue < SIGNIFICANCE,
        better: METRICS[metric].better === 'higher' ? b > a : b < a,
      });
    }
  }
  return comparisons;
}

/** The comparison as a terminal table; `all` includes metrics that did not move. */
export function renderComparison(comparisons: readonly MetricComparison[], all = false): string {
  const shown = comparisons.filter((entry) => all || entry.change !== 0);
  const headers = ['scenario', 'step', 'model', 'metric', 'old', 'new', 'change', 'p', 'verdict'];
  const rows = shown.map((entry) => [
    entry.scenario,
    entry.step,
    entry.model,
    METRICS[entry.metric].label,
    formatMetric(entry.metric, entry.old),
    formatMetric(entry.metric, entry.new),
    Number.isFinite(entry.change) ? `${entry.change >= 0 ? '+' : ''}${(entry.change * 100).toFixed(1)}%` : 'new',
    entry.pValue === undefined ? 'n/a' : entry.pValue.toFixed(3),
    entry.pValue === undefined ? 'too few runs' : entry.significant ? (entry.better ? 'better' : 'WORSE') : 'noise',
  ]);
  const all_ = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all_.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const significant = shown.filter((entry) => entry.significant);
  return [
    line(headers),
    ...rows.map(line),
    '',
    `${significant.length} significant change(s) at p < ${SIGNIFICANCE} (Welch's t-test over runs), ${significant.filter((entry) => !entry.better).length} of them worse.`,
  ].join('\n');
}
