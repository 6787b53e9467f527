import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchFlags } from '../src/bench-flags.js';
import { compareResults, loadResults, renderComparison } from '../src/compare.js';
import { writeReports } from '../src/report-files.js';
import { renderCharts } from '../src/report-html.js';
import { renderMarkdown } from '../src/report-markdown.js';
import { welchPValue } from '../src/statistics.js';
import { renderTerminal } from '../src/terminal-table.js';
import { syntheticResults } from './fixtures.js';

describe('report writers', () => {
  it('writes results.json, report.md and report.html into the directory', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'echoplex-report-'));
    const files = writeReports(syntheticResults(), dir);
    for (const file of [files.json, files.markdown, files.html]) expect(existsSync(file)).toBe(true);
    expect(loadResults(files.json).results).toHaveLength(9);
  });

  it('puts models side by side per scenario with ratios to the reference', () => {
    const markdown = renderMarkdown(syntheticResults());
    expect(markdown).toMatch(/## echo\n/);
    expect(markdown).toMatch(/\| c100 \| event-loop \| 100,000 \(98,000–102,000\) \|.*\| 0\.83x \|/);
    expect(markdown).toMatch(/\| c100 \| reference \|.*\| 1\.00x \|/);
    expect(markdown).toContain('commit abc');
    expect(renderTerminal(syntheticResults())).toMatch(/c100\s+worker-pool\s+80,000/);
  });

  it('draws the throughput, latency, CPU, memory and rate charts', () => {
    const ids = renderCharts(syntheticResults()).map((svg) => /data-chart="([^"]+)"/.exec(svg)?.[1]);
    expect(ids).toEqual(['throughput', 'latency', 'cpu', 'memory', 'rate']);
  });
});

describe('compare', () => {
  it('finds a real change significant over runs and a rerun not', () => {
    const before = syntheticResults();
    const same = compareResults(before, syntheticResults());
    expect(same.every((entry) => !entry.significant)).toBe(true);
    const after = compareResults(before, syntheticResults(1.5));
    const echo = after.find(
      (entry) => entry.scenario === 'echo' && entry.step === 'c100' && entry.model === 'event-loop' && entry.metric === 'messagesPerSecond',
    );
    expect(echo).toMatchObject({ significant: true, better: true });
    expect(echo?.change).toBeCloseTo(0.5, 5);
    expect(renderComparison(after)).toMatch(/significant change\(s\) at p < 0\.05/);
  });

  it('refuses a file of another schema', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'echoplex-compare-'));
    const file = path.join(dir, 'old.json');
    writeFileSync(file, JSON.stringify({ schema: 'something-else' }));
    expect(() => loadResults(file)).toThrow(/schema/);
    expect(readFileSync(file, 'utf8')).toContain('something-else');
  });

  it("computes Welch's p-value like a textbook", () => {
    // Two clearly different samples, and two identical ones.
    expect(welchPValue([10, 11, 12], [20, 21, 22])).toBeLessThan(0.01);
    expect(welchPValue([10, 11, 12], [10, 11, 12])).toBeCloseTo(1, 6);
    expect(welchPValue([1], [2, 3])).toBeUndefined();
    // t = -1.5 / sqrt(2/3) = -1.837, df = 4 (equal n and variance): two-sided p = 0.1400.
    expect(welchPValue([1, 2, 3], [2.5, 3.5, 4.5]) as number).toBeCloseTo(0.14, 3);
  });
});

describe('bench flags', () => {
  it('reads selections, and --compare with two files', () => {
    expect(
      parseBenchFlags(['--full', '--models', 'event-loop,reference', '--runs', '2', '--duration', '500ms', '--profile', 'shared']),
    ).toMatchObject({
      kind: 'run',
      depth: 'full',
      models: ['event-loop', 'reference'],
      runs: 2,
      durationSeconds: 0.5,
      profile: 'shared',
    });
    expect(parseBenchFlags(['--compare', 'a.json', 'b.json'])).toEqual({ kind: 'compare', before: 'a.json', after: 'b.json', all: false });
    expect(() => parseBenchFlags(['--profile', 'weird'])).toThrow(/split or shared/);
    expect(() => parseBenchFlags(['--compare', 'a.json'])).toThrow(/two results.json files/);
  });
});
