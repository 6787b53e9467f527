/**
 * report.html: one self-contained page (inline SVG and CSS, no script, no network) with the
 * charts — throughput against connections, latency percentiles per model, CPU and memory — and
 * the same tables as report.md.
 */
import { formatMetric } from './metric-format.js';
import type { MetricName } from './metrics.js';
import { buildTables } from './result-tables.js';
import type { BenchResults, StepResult } from './results-schema.js';
import { barChart, lineChart } from './svg-charts.js';

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const modelsOf = (rows: readonly StepResult[]): string[] => [...new Set(rows.map((row) => row.model))];

/** The step of a scenario with the largest x: where differences between models are widest. */
function topStep(rows: readonly StepResult[]): string | undefined {
  return [...rows].sort((a, b) => b.x - a.x)[0]?.step;
}

function metricSeries(rows: readonly StepResult[], metric: MetricName): Array<{ name: string; points: Array<[number, number]> }> {
  return modelsOf(rows).map((model) => ({
    name: model,
    points: rows
      .filter((row) => row.model === model && row.median[metric] !== undefined)
      .sort((a, b) => a.x - b.x)
      .map((row) => [row.x, row.median[metric] as number] as [number, number]),
  }));
}

export function renderCharts(results: BenchResults): string[] {
  const charts: string[] = [];
  const of = (scenario: string): StepResult[] =>
    results.results.filter((row) => row.scenario === scenario && row.runs.some((run) => run.failure === undefined));
  const echo = of('echo');
  if (echo.length > 0) {
    charts.push(
      lineChart({
        id: 'throughput',
        title: 'Echo throughput against connections',
        xLabel: 'connections',
        yLabel: 'messages per second',
        series: metricSeries(echo, 'messagesPerSecond'),
        logX: true,
      }),
    );
    const step = topStep(echo);
    const atTop = echo.filter((row) => row.step === step);
    const percentiles: MetricName[] = ['p50Micros', 'p90Micros', 'p99Micros', 'p999Micros', 'p9999Micros'];
    charts.push(
      lineChart({
        id: 'latency',
        title: `Echo latency percentiles (${step})`,
        xLabel: 'percentile',
        yLabel: 'latency',
        xCategories: ['p50', 'p90', 'p99', 'p99.9', 'p99.99'],
        series: atTop.map((row) => ({
          name: row.model,
          points: percentiles.map((name, index) => [index, row.median[name] ?? Number.NaN] as [number, number]),
        })),
        logY: true,
        formatY: (value) => formatMetric('p50Micros', value),
      }),
    );
    const models = atTop.map((row) => row.model);
    charts.push(
      barChart({
        id: 'cpu',
        title: `CPU time per message (echo ${step})`,
        yLabel: 'µs of CPU per message',
        categories: models,
        series: [
          { name: 'server', values: atTop.map((row) => row.median.serverCpuMicrosPerMessage ?? Number.NaN) },
          { name: 'load generator', values: atTop.map((row) => row.median.loadCpuMicrosPerMessage ?? Number.NaN) },
        ],
        formatY: (value) => `${+value.toFixed(1)}µs`,
      }),
    );
    charts.push(
      barChart({
        id: 'memory',
        title: `Server memory (echo ${step})`,
        yLabel: 'peak RSS of the process tree',
        categories: models,
        series: [{ name: 'RSS', values: atTop.map((row) => row.median.serverRssBytes ?? Number.NaN) }],
        formatY: (value) => formatMetric('serverRssBytes', value),
      }),
    );
  }
  const rate = of('echo-rate');
  if (rate.length > 0) {
    charts.push(
      lineChart({
        id: 'rate',
        title: 'Corrected p99 against offered rate',
        xLabel: 'messages per second offered',
        yLabel: 'p99 from intended send',
        series: metricSeries(rate, 'p99Micros'),
        logY: true,
        formatY: (value) => formatMetric('p99Micros', value),
      }),
    );
  }
  const connections = of('connections');
  if (connections.length > 0) {
    charts.push(
      lineChart({
        id: 'connections',
        title: 'Memory per connection',
        xLabel: 'connections',
        yLabel: 'RSS growth per connection',
        series: metricSeries(connections, 'memoryPerConnectionBytes'),
        logX: true,
        formatY: (value) => formatMetric('memoryPerConnectionBytes', value),
      }),
    );
  }
  const others = ['churn', 'cpu-mix', 'chat', 'http', 'echo-large'].flatMap((name) => {
    const rows = of(name);
    const step = topStep(rows);
    const scenario = results.scenarios.find((entry) => entry.name === name);
    if (rows.length === 0 || scenario === undefined) return [];
    const atTop = rows.filter((row) => row.step === step);
    const metric = scenario.primary as MetricName;
    return [
      barChart({
        id: name,
        title: `${name} (${step}): ${metric === 'p99Micros' ? 'p99 latency' : metric === 'mbPerSecond' ? 'MiB/s' : 'per second'}`,
        yLabel: metric === 'p99Micros' ? 'p99' : metric,
        categories: atTop.map((row) => row.model),
        series: [{ name: metric, values: atTop.map((row) => row.median[metric] ?? Number.NaN) }],
        formatY: (value) => formatMetric(metric, value),
      }),
    ];
  });
  return [...charts, ...others].filter((chart) => chart !== '');
}

export function renderHtml(results: BenchResults): string {
  const env = results.environment;
  const tables = buildTables(results)
    .map(
      (table) =>
        `<h3>${escapeHtml(table.scenario)}</h3><p>${escapeHtml(table.shows)}</p><table><thead><tr>${table.headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${table.rows
          .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`,
    )
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
.env{color:#555;font-size:13px}
</style></head><body>
<h1>Echoplex benchmark</h1>
<p class="env">${escapeHtml(results.createdAt)} · ${escapeHtml(results.settings.depth)} · ${results.settings.runs} run(s) of ${results.settings.durationSeconds}s after ${results.settings.warmupSeconds}s warmup · profile ${escapeHtml(env.profile)}${env.pinned ? ' (pinned)' : ''}<br>
Node ${escapeHtml(env.node)} · ${escapeHtml(env.cpuModel)} · ${env.cores} cores · commit ${escapeHtml(env.gitCommit ?? 'unknown')}${env.gitDirty ? ' (dirty)' : ''}</p>
<h2>Charts</h2>
<div class="charts">
${renderCharts(results).join('\n')}
</div>
<h2>Tables</h2>
<p>Medians over runs, (min–max) where runs differ; <em>vs ref</em> divides the scenario's primary metric by the bare <code>socket.pipe</code> reference row; <em>load-bound</em> marks figures limited by the load generator.</p>
${tables}
</body></html>
`;
}
