/**
 * The summary every report opens with: per scenario step, each model's primary figure and how it
 * stands against event-loop (direction-aware: "2.1x the msg/s", "1.5x lower p99"), the best
 * model, and one sentence written from the figures that says what the run shows and how sure it
 * is (spread, noisy rows, rows that could not serve their connections, too few runs).
 */
import { formatMetric } from './metric-format.js';
import { METRICS, type MetricName } from './metrics.js';
import { REFERENCE_MODEL } from './models.js';
import { hasReplies, keptRuns, labelOf, MIN_TRUSTED_RUNS, standing } from './result-tables.js';
import type { BenchResults, StepResult } from './results-schema.js';

/** The model every other is measured against in the summary: the simplest that serves everything. */
export const BASELINE_MODEL = 'event-loop';

export interface SummaryRow {
  readonly scenario: string;
  readonly step: string;
  readonly metric: MetricName;
  /** Per model, in the results' model order: its cell. */
  readonly cells: ReadonlyArray<{ readonly model: string; readonly text: string }>;
  readonly best: string | undefined;
  readonly sentence: string;
}

export interface Summary {
  readonly models: readonly string[];
  readonly rows: readonly SummaryRow[];
  /** Said in every report when any row has fewer than three runs. */
  readonly warnings: readonly string[];
}

/**
 * "2.10x the msg/s", "1.50x lower p99", "1.20x higher p99", "same p99"; with `whose`, the same
 * as a clause: "2.10x event-loop's msg/s", "1.50x lower p99 than event-loop".
 */
export function describeStanding(metric: MetricName, mine: number, theirs: number, whose?: string): string | undefined {
  const ratio = standing(metric, mine, theirs);
  if (ratio === undefined) return undefined;
  const label = labelOf(metric);
  const times = (value: number): string => `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}x`;
  if (METRICS[metric].better === 'higher') return `${times(ratio)} ${whose === undefined ? 'the' : `${whose}'s`} ${label}`;
  const than = whose === undefined ? '' : ` than ${whose}`;
  if (Math.abs(ratio - 1) < 0.005) return `the same ${label}${whose === undefined ? '' : ` as ${whose}`}`;
  return ratio > 1 ? `${times(ratio)} lower ${label}${than}` : `${times(1 / ratio)} higher ${label}${than}`;
}

const isBetter = (metric: MetricName, a: number, b: number): boolean => (METRICS[metric].better === 'higher' ? a > b : a < b);

export function buildSummary(results: BenchResults): Summary {
  const models = results.settings.models.filter((model) => results.results.some((row) => row.model === model));
  const rows: SummaryRow[] = [];
  for (const scenario of results.scenarios) {
    const metric = scenario.primary as MetricName;
    const scenarioRows = results.results.filter((row) => row.scenario === scenario.name);
    const steps = [...new Map(scenarioRows.map((row) => [row.step, row.x])).entries()];
    for (const [step] of steps) {
      const atStep = scenarioRows.filter((row) => row.step === step);
      const baseline = atStep.find((row) => row.model === BASELINE_MODEL);
      const cells = models.map((model) => ({
        model,
        text: cellText(
          atStep.find((row) => row.model === model),
          baseline,
          metric,
        ),
      }));
      const ranked = atStep
        .filter((row) => row.model !== REFERENCE_MODEL && hasReplies(row) && row.median[metric] !== undefined)
        .sort((a, b) => (isBetter(metric, a.median[metric] as number, b.median[metric] as number) ? -1 : 1));
      rows.push({
        scenario: scenario.name,
        step,
        metric,
        cells,
        best: ranked[0]?.model,
        sentence: sentenceFor(scenario.name, step, metric, atStep, ranked, baseline, results.settings.runs),
      });
    }
  }
  const few = results.results.filter((row) => keptRuns(row) > 0 && keptRuns(row) < MIN_TRUSTED_RUNS);
  const warnings =
    few.length > 0
      ? [
          `${few.length === results.results.length ? 'Every row has' : `${few.length} row(s) have`} fewer than ${MIN_TRUSTED_RUNS} runs: ` +
            'so few runs cannot tell models apart, nor show how far their figures wander. Use --runs 3 or more.',
        ]
      : [];
  return { models, rows, warnings };
}

function cellText(row: StepResult | undefined, baseline: StepResult | undefined, metric: MetricName): string {
  if (row === undefined) return '';
  if (row.served !== undefined) return `served ${row.served.served} of ${row.served.of}`;
  if (row.median[metric] === undefined) return 'failed';
  if (!hasReplies(row)) return 'no replies';
  const value = formatMetric(metric, row.median[metric]);
  const noisy = row.noisy ? ' (noisy)' : '';
  if (row.model === BASELINE_MODEL || baseline === undefined || !hasReplies(baseline)) return `${value}${noisy}`;
  const against = describeStanding(metric, row.median[metric] as number, baseline.median[metric] as number);
  return `${value}${noisy}${against === undefined ? '' : ` · ${against}`}`;
}

/** A share as a percentage; a spread over a zero median has no finite share and says so. */
const percent = (share: number): string => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'unbounded: a zero median');

/** " (1.50x lower p99 than event-loop)", or nothing where no ratio means anything (no baseline, a zero). */
function againstBaseline(metric: MetricName, row: StepResult, baseline: StepResult | undefined): string {
  if (baseline === undefined || !hasReplies(baseline)) return '';
  const standingText = describeStanding(metric, row.median[metric] as number, baseline.median[metric] as number, BASELINE_MODEL);
  return standingText === undefined ? '' : ` (${standingText})`;
}

function sentenceFor(
  scenario: string,
  step: string,
  metric: MetricName,
  atStep: readonly StepResult[],
  ranked: readonly StepResult[],
  baseline: StepResult | undefined,
  plannedRuns: number,
): string {
  const label = labelOf(metric);
  const figure = (row: StepResult): string => formatMetric(metric, row.median[metric]);
  const parts: string[] = [];
  const best = ranked[0];
  const second = ranked[1];
  const last = ranked[ranked.length - 1];
  if (best === undefined) {
    parts.push(`${scenario} ${step}: no model produced a ${label} figure.`);
  } else {
    const versus = best.model !== BASELINE_MODEL ? againstBaseline(metric, best, baseline) : '';
    parts.push(`${scenario} ${step}: ${best.model} is best at ${figure(best)} ${label}${versus}`);
    if (second !== undefined) {
      // Two rows are told apart when their gap exceeds the wider of their two spreads.
      const a = best.median[metric] as number;
      const b = second.median[metric] as number;
      const larger = Math.max(Math.abs(a), Math.abs(b));
      const gap = larger === 0 ? 0 : Math.abs(a - b) / larger;
      const spread = Math.max(best.noise ?? 0, second.noise ?? 0);
      parts.push(
        gap > spread
          ? `, ${percent(gap)} ahead of ${second.model}, more than the runs' spread (${percent(spread)})`
          : `, but within the runs' spread of ${second.model} (${percent(gap)} apart, spread ${percent(spread)}): the two are not told apart`,
      );
    }
    if (last !== undefined && last !== best && last !== second) {
      const against = last.model !== BASELINE_MODEL ? againstBaseline(metric, last, baseline) : '';
      parts.push(`; ${last.model} is last at ${figure(last)}${against}`);
    }
    parts.push('.');
  }
  const noisy = atStep.filter((row) => row.noisy).map((row) => `${row.model} (${percent(row.noise ?? 0)})`);
  const rerun = atStep.some((row) => row.noisy && row.runs.some((run) => run.run > plannedRuns));
  if (noisy.length > 0)
    parts.push(
      ` Noisy (runs spread over the threshold${rerun ? ', even after re-runs' : ''}): ${noisy.join(', ')}; their places are not settled.`,
    );
  const short = atStep.filter((row) => row.served !== undefined);
  for (const row of short)
    parts.push(` ${row.model} served only ${row.served?.served} of ${row.served?.of} connections, so it has no figure.`);
  const silent = atStep.filter((row) => row.served === undefined && keptRuns(row) > 0 && !hasReplies(row)).map((row) => row.model);
  if (silent.length > 0) parts.push(` No replies from ${silent.join(', ')}.`);
  const measuredRows = atStep.map((row) => keptRuns(row)).filter((kept) => kept > 0);
  const fewest = measuredRows.length === 0 ? 0 : Math.min(...measuredRows);
  if (fewest > 0 && fewest < MIN_TRUSTED_RUNS) parts.push(` Only ${fewest} run(s) here: not enough to tell models apart.`);
  const failed = atStep.filter((row) => keptRuns(row) === 0 && row.served === undefined).map((row) => row.model);
  if (failed.length > 0) parts.push(` Failed on every run: ${failed.join(', ')} (see the errors section).`);
  return parts.join('');
}

/** The summary as header and rows, for the three renderers. */
export function summaryTable(summary: Summary): { headers: string[]; rows: string[][] } {
  return {
    headers: ['scenario', 'step', 'figure', ...summary.models, 'best'],
    rows: summary.rows.map((row) => [
      row.scenario,
      row.step,
      labelOf(row.metric),
      ...summary.models.map((model) => row.cells.find((cell) => cell.model === model)?.text ?? ''),
      row.best ?? '–',
    ]),
  };
}
