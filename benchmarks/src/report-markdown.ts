/** report.md: the summary first, then the environment and a table per scenario with models side by side. */
import { buildTables } from './result-tables.js';
import type { BenchResults } from './results-schema.js';
import { buildSummary, summaryTable } from './summary.js';

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

const markdownTable = (headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] => [
  `| ${headers.map(escapeCell).join(' | ')} |`,
  `| ${headers.map(() => '---').join(' | ')} |`,
  ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
];

/** What the medians, ratios and flags mean: said once, in every report. */
export const LEGEND =
  'Medians over the kept runs, (min–max) where they differ. `spread` is (max − min) / median of the primary figure over the kept runs; ' +
  'a row spread over the threshold is re-run, its medians then taken over the runs that agree best (`runs`: kept of all), and flagged `noisy` if still spread. ' +
  '`vs ref` is the primary figure against the bare `socket.pipe` reference on the same step, direction-aware: above 1.00x is better than the reference, below is worse, whether the figure is a rate or a latency. ' +
  '`ready`: time until every connection of the step got its first reply, before the warmup. ' +
  '`served X of N`: the model could not serve all the connections, so the step has no figure. ' +
  '`load-bound`: the load generator was saturated, so that figure measures it rather than the server.';

export function renderMarkdown(results: BenchResults): string {
  const env = results.environment;
  const summary = buildSummary(results);
  const table = summaryTable(summary);
  const settings = results.settings;
  const lines = [
    '# Echoplex benchmark',
    '',
    `${results.createdAt} · ${settings.depth} · ${settings.runs} run(s) of ${settings.durationSeconds}s after ${settings.warmupSeconds}s warmup · profile \`${env.profile}\`${env.pinned ? ' (pinned)' : ''} · ${results.wallSeconds}s in all`,
    '',
    ...summary.warnings.map((warning) => `> **${warning}**\n`),
    '## Summary',
    '',
    `Each model's primary figure per scenario step, against \`event-loop\` (direction-aware: "the msg/s" is a share of its throughput, "lower p99" is better).`,
    '',
    ...markdownTable(table.headers, table.rows),
    '',
    ...summary.rows.map((row) => `- ${row.sentence}`),
    '',
    '## Environment',
    '',
    `Node ${env.node} · ${env.cpuModel} · ${env.cores} cores · ${env.platform} ${env.kernel} · commit ${env.gitCommit ?? 'unknown'}${env.gitDirty ? ' (dirty)' : ''}`,
    '',
    LEGEND,
  ];
  const flags = [
    ...new Set(results.results.filter((row) => row.serverArgs.length > 0).map((row) => `\`${row.model} ${row.serverArgs.join(' ')}\``)),
  ];
  if (flags.length > 0) lines.push('', `Server flags so that every model serves every connection of a step: ${flags.join(', ')}.`);
  for (const scenarioTable of buildTables(results)) {
    lines.push('', `## ${scenarioTable.scenario}`, '', scenarioTable.shows, '');
    lines.push(...markdownTable(scenarioTable.headers, scenarioTable.rows));
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
