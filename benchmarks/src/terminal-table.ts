/** The table printed on the terminal at the end of a bench: columns padded to fit. */
import { buildTables, type ResultTable } from './result-tables.js';
import type { BenchResults } from './results-schema.js';

function renderTable(table: ResultTable): string {
  const all = [table.headers, ...table.rows];
  const widths = table.headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    `${table.scenario}: ${table.shows}`,
    line(table.headers),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}

export function renderTerminal(results: BenchResults): string {
  return `${buildTables(results).map(renderTable).join('\n\n')}\n`;
}
