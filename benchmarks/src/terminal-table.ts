/** What the terminal shows at the end of a bench: the summary and its sentences first, then every scenario's table. */
import { buildTables } from './result-tables.js';
import type { BenchResults } from './results-schema.js';
import { buildSummary, summaryTable } from './summary.js';

function renderColumns(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}

export function renderTerminal(results: BenchResults): string {
  const summary = buildSummary(results);
  const table = summaryTable(summary);
  const top = [
    ...summary.warnings.map((warning) => `WARNING: ${warning}`),
    `SUMMARY (${results.settings.depth}, ${results.settings.runs} run(s), ${results.wallSeconds}s): primary figure per model, against event-loop`,
    ...renderColumns(table.headers, table.rows),
    '',
    ...summary.rows.map((row) => `* ${row.sentence}`),
  ];
  const tables = buildTables(results).map((scenario) =>
    [`${scenario.scenario}: ${scenario.shows}`, ...renderColumns(scenario.headers, scenario.rows)].join('\n'),
  );
  return `${[top.join('\n'), ...tables].join('\n\n')}\n`;
}
