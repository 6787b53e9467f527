/** report.md: the environment, then a table per scenario with models side by side and ratios to the reference. */
import { buildTables } from './result-tables.js';
import type { BenchResults } from './results-schema.js';

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderMarkdown(results: BenchResults): string {
  const env = results.environment;
  const lines = [
    '# Echoplex benchmark',
    '',
    `${results.createdAt} · ${results.settings.depth} · ${results.settings.runs} run(s) of ${results.settings.durationSeconds}s after ${results.settings.warmupSeconds}s warmup · profile \`${env.profile}\`${env.pinned ? ' (pinned)' : ''}`,
    '',
    `Node ${env.node} · ${env.cpuModel} · ${env.cores} cores · ${env.platform} ${env.kernel} · commit ${env.gitCommit ?? 'unknown'}${env.gitDirty ? ' (dirty)' : ''} · ${results.wallSeconds}s in all`,
    '',
    "Medians over runs, (min–max) where runs differ. `vs ref` divides the scenario's primary metric by the bare `socket.pipe` reference row. `load-bound`: the load generator was saturated, so that figure measures it rather than the server.",
  ];
  for (const table of buildTables(results)) {
    lines.push('', `## ${table.scenario}`, '', table.shows, '');
    lines.push(`| ${table.headers.map(escapeCell).join(' | ')} |`);
    lines.push(`| ${table.headers.map(() => '---').join(' | ')} |`);
    for (const row of table.rows) lines.push(`| ${row.map(escapeCell).join(' | ')} |`);
  }
  const failures = results.results.flatMap((row) =>
    row.runs
      .filter((run) => run.failure !== undefined || run.errorSamples.length > 0)
      .map(
        (run) =>
          `- ${row.scenario} ${row.step} ${row.model} run ${run.run}: ${(run.failure ?? run.errorSamples.join('; ')).split('\n')[0]}`,
      ),
  );
  if (failures.length > 0) lines.push('', '## Errors and failures', '', ...failures.slice(0, 50));
  return `${lines.join('\n')}\n`;
}
