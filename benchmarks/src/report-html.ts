/**
 * report.html: one self-contained page (inline SVG and CSS, no script, no network) with the
 * charts — throughput against connections, latency percentiles per model, CPU and memory — and
 * the same tables as report.md.
 */
import type { TimelineSecond } from '@echoplex/loadgen';
import { formatMetric } from './metric-format.js';
import { METRICS, type MetricName } from './metrics.js';
import { LEGEND } from './report-markdown.js';
import { buildTables, hasReplies } from './result-tables.js';
import type { BenchResults, StepResult } from './results-schema.js';
import { buildSummary, summaryTable } from './summary.js';
import { barChart, colourOf, lineChart, NEUTRAL, type Series } from './svg-charts.js';

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** What a chart calls a metric: words, not field names. */
const HUMAN: Readonly<Partial<Record<MetricName, string>>> = {
  messagesPerSecond: 'messages per second',
  mbPerSecond: 'MiB per second',
  p99Micros: 'p99 latency',
  memoryPerConnectionBytes: 'memory per connection',
  workPerSecond: 'WORK replies per second',
};
const human = (metric: MetricName): string => HUMAN[metric] ?? METRICS[metric].about;
/** What msg/s counts in scenarios where a message is not one reply. */
const COUNTED: Readonly<Record<string, string>> = {
  churn: 'connections per second (connect, ECHO, close)',
  chat: 'deliveries per second',
  fanout: 'deliveries per second',
  http: 'responses per second',
};
const figureName = (scenario: string, metric: MetricName): string =>
  metric === 'messagesPerSecond' ? (COUNTED[scenario] ?? human(metric)) : human(metric);

/** One colour per model, the same in every chart: by the run's model order. */
function modelColours(results: BenchResults): (model: string) => string {
  const order = [...results.settings.models];
  for (const row of results.results) if (!order.includes(row.model)) order.push(row.model);
  return (model) => colourOf(Math.max(0, order.indexOf(model)));
}

/** The step of a scenario with the largest x: where differences between models are widest. */
function topStep(rows: readonly StepResult[]): string | undefined {
  return [...rows].sort((a, b) => b.x - a.x)[0]?.step;
}

const modelsOf = (rows: readonly StepResult[]): string[] => [...new Set(rows.map((row) => row.model))];

function metricSeries(rows: readonly StepResult[], metric: MetricName, colour: (model: string) => string): Series[] {
  return modelsOf(rows).map((model) => ({
    name: model,
    colour: colour(model),
    points: rows
      .filter((row) => row.model === model && row.median[metric] !== undefined)
      .sort((a, b) => a.x - b.x)
      .map((row) => [row.x, row.median[metric] as number] as [number, number]),
  }));
}

const PERCENTILES: ReadonlyArray<readonly [MetricName, number, string]> = [
  ['p50Micros', 50, 'p50'],
  ['p90Micros', 90, 'p90'],
  ['p99Micros', 99, 'p99'],
  ['p999Micros', 99.9, 'p99.9'],
  ['p9999Micros', 99.99, 'p99.99'],
];

/** The HdrHistogram plot: latency against percentile, x as 1/(1 - p) on a log axis so the tail has room. */
function percentileSpectrum(id: string, title: string, rows: readonly StepResult[], colour: (model: string) => string): string {
  const x = (percentile: number): number => 1 / (1 - percentile / 100);
  return lineChart({
    id,
    title,
    xLabel: 'percentile (log scale of 1 / (1 − p))',
    yLabel: 'latency (log scale)',
    xTicks: PERCENTILES.map(([, percentile, label]) => [x(percentile), label] as const),
    series: rows.map((row) => ({
      name: row.model,
      colour: colour(row.model),
      points: PERCENTILES.map(([name, percentile]) => [x(percentile), row.median[name] ?? Number.NaN] as [number, number]),
    })),
    logX: true,
    logY: true,
    formatY: (value) => formatMetric('p50Micros', value),
  });
}

/** The per-second timeline of one kept run per model: throughput and the p99 latency of each second. */
function timelineCharts(rows: readonly StepResult[], colour: (model: string) => string, label: string): string[] {
  const timelines = rows.flatMap((row) => {
    const run = row.runs.find((sample) => sample.outlier !== true && sample.timeline !== undefined && sample.timeline.length > 0);
    return run?.timeline === undefined ? [] : [{ model: row.model, timeline: run.timeline }];
  });
  // Under three seconds (the quick default's 1 s steps) a timeline shows nothing a table does not.
  if (timelines.length === 0 || Math.max(...timelines.map(({ timeline }) => timeline.length)) < 3) return [];
  const series = (pick: (second: TimelineSecond) => number): Series[] =>
    timelines.map(({ model, timeline }) => ({
      name: model,
      colour: colour(model),
      points: timeline.map((second) => [second.second, pick(second)] as [number, number]),
    }));
  return [
    lineChart({
      id: 'timeline-throughput',
      title: `${label}: replies per second, second by second`,
      xLabel: 'second of the run (0 and below: warmup)',
      yLabel: 'replies in that second',
      series: series((second) => second.messages),
      formatX: (value) => String(Math.round(value)),
    }),
    lineChart({
      id: 'timeline-latency',
      title: `${label}: p99 latency of each second`,
      xLabel: 'second of the run (0 and below: warmup)',
      yLabel: 'p99 latency, corrected (log scale)',
      // A second without replies has no p99, and results from before per-second p99s have none to draw.
      series: series((second) => (second.messages > 0 && second.p99Micros !== undefined ? second.p99Micros : Number.NaN)),
      logY: true,
      formatY: (value) => formatMetric('p99Micros', value),
      formatX: (value) => String(Math.round(value)),
    }),
  ];
}

export function renderCharts(results: BenchResults): string[] {
  const charts: string[] = [];
  const colour = modelColours(results);
  // A row without replies (or short of connections) is never drawn as a value.
  const of = (scenario: string): StepResult[] => results.results.filter((row) => row.scenario === scenario && hasReplies(row));
  const echo = of('echo');
  if (echo.length > 0) {
    charts.push(
      lineChart({
        id: 'throughput',
        title: 'Echo: messages per second against connections',
        xLabel: 'connections (log scale)',
        yLabel: 'messages per second',
        series: metricSeries(echo, 'messagesPerSecond', colour),
        logX: true,
      }),
    );
    const step = topStep(echo);
    const atTop = echo.filter((row) => row.step === step);
    charts.push(percentileSpectrum('latency', `Echo latency by percentile (${step})`, atTop, colour));
    const models = atTop.map((row) => row.model);
    charts.push(
      barChart({
        id: 'cpu',
        title: `Echo (${step}): CPU time per message`,
        yLabel: 'µs of CPU per message',
        categories: models,
        series: [
          { name: 'server', values: atTop.map((row) => row.median.serverCpuMicrosPerMessage ?? Number.NaN), colours: models.map(colour) },
          {
            name: 'load generator',
            values: atTop.map((row) => row.median.loadCpuMicrosPerMessage ?? Number.NaN),
            colour: NEUTRAL,
            outline: true,
          },
        ],
        formatY: (value) => formatMetric('serverCpuMicrosPerMessage', value),
        logRatio: 30,
      }),
    );
    charts.push(
      barChart({
        id: 'memory',
        title: `Echo (${step}): server memory`,
        yLabel: 'peak RSS of the process tree',
        categories: models,
        series: [{ name: 'RSS', values: atTop.map((row) => row.median.serverRssBytes ?? Number.NaN), colours: models.map(colour) }],
        formatY: (value) => formatMetric('serverRssBytes', value),
      }),
    );
  }
  const rate = of('echo-rate');
  if (rate.length > 0) {
    const steps = new Set(rate.map((row) => row.step));
    if (steps.size > 1) {
      charts.push(
        lineChart({
          id: 'rate',
          title: 'Echo-rate: corrected p99 against the offered rate',
          xLabel: 'messages per second offered',
          yLabel: 'p99 from intended send (log scale)',
          series: metricSeries(rate, 'p99Micros', colour),
          logY: true,
          formatY: (value) => formatMetric('p99Micros', value),
        }),
      );
    }
    const step = topStep(rate);
    const atTop = rate.filter((row) => row.step === step);
    charts.push(percentileSpectrum('rate', `Echo-rate latency by percentile (${step}, from intended send)`, atTop, colour));
    charts.push(...timelineCharts(atTop, colour, `Echo-rate ${step}`));
  }
  const connections = of('connections');
  if (connections.length > 0) {
    charts.push(
      lineChart({
        id: 'connections',
        title: 'Memory per connection',
        xLabel: 'connections (log scale)',
        yLabel: 'RSS growth per connection',
        series: metricSeries(connections, 'memoryPerConnectionBytes', colour),
        logX: true,
        formatY: (value) => formatMetric('memoryPerConnectionBytes', value),
      }),
    );
  }
  const others = results.scenarios
    .filter((entry) => !['echo', 'echo-rate', 'connections'].includes(entry.name))
    .flatMap((scenario) => {
      const rows = of(scenario.name);
      const step = topStep(rows);
      if (rows.length === 0) return [];
      const atTop = rows.filter((row) => row.step === step);
      const metric = scenario.primary as MetricName;
      return [
        barChart({
          id: scenario.name,
          title: `${scenario.name} (${step}): ${figureName(scenario.name, metric)}`,
          yLabel: figureName(scenario.name, metric),
          categories: atTop.map((row) => row.model),
          series: [
            {
              name: figureName(scenario.name, metric),
              values: atTop.map((row) => row.median[metric] ?? Number.NaN),
              colours: atTop.map((row) => colour(row.model)),
            },
          ],
          formatY: (value) => formatMetric(metric, value),
        }),
      ];
    });
  return [...charts, ...others].filter((chart) => chart !== '');
}

const htmlTable = (headers: readonly string[], rows: ReadonlyArray<readonly string[]>, className = ''): string =>
  `<table${className === '' ? '' : ` class="${className}"`}><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/** Markdown's inline code marks, as HTML. */
const inlineCode = (text: string): string => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

export function renderHtml(results: BenchResults): string {
  const env = results.environment;
  const summary = buildSummary(results);
  const table = summaryTable(summary);
  const tables = buildTables(results)
    .map((entry) => `<h3>${escapeHtml(entry.scenario)}</h3><p>${escapeHtml(entry.shows)}</p>${htmlTable(entry.headers, entry.rows)}`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Echoplex benchmark ${escapeHtml(results.createdAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{background:#fff;border:1px solid #ddd;border-radius:4px}
table{border-collapse:collapse;font-size:13px;margin-bottom:18px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}
table.summary td{text-align:left}
.env{color:#555;font-size:13px}
.warning{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;font-weight:bold}
</style></head><body>
<h1>Echoplex benchmark</h1>
<p class="env">${escapeHtml(results.createdAt)} · ${escapeHtml(results.settings.depth)} · ${results.settings.runs} run(s) of ${results.settings.durationSeconds}s after ${results.settings.warmupSeconds}s warmup · profile ${escapeHtml(env.profile)}${env.pinned ? ' (pinned)' : ''} · ${results.wallSeconds}s in all<br>
Node ${escapeHtml(env.node)} · ${escapeHtml(env.cpuModel)} · ${env.cores} cores · commit ${escapeHtml(env.gitCommit ?? 'unknown')}${env.gitDirty ? ' (dirty)' : ''}</p>
${summary.warnings.map((warning) => `<p class="warning">${escapeHtml(warning)}</p>`).join('\n')}
<h2>Summary</h2>
<p>Each model's primary figure per scenario step, against <code>event-loop</code> (direction-aware: “the msg/s” is a share of its throughput, “lower p99” is better).</p>
${htmlTable(table.headers, table.rows, 'summary')}
<ul class="sentences">${summary.rows.map((row) => `<li>${escapeHtml(row.sentence)}</li>`).join('')}</ul>
<h2>Charts</h2>
<div class="charts">
${renderCharts(results).join('\n')}
</div>
<h2>Tables</h2>
<p>${inlineCode(LEGEND)}</p>
${tables}
</body></html>
`;
}
