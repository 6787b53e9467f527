import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchFlags } from '../src/bench-flags.js';
import { aggregateRow } from '../src/bench-runner.js';
import { CompareError, compareResults, comparisonWarnings, loadResults, renderComparison } from '../src/compare.js';
import { formatMetric } from '../src/metric-format.js';
import { writeReports } from '../src/report-files.js';
import { renderCharts, renderHtml } from '../src/report-html.js';
import { renderMarkdown } from '../src/report-markdown.js';
import { standing } from '../src/result-tables.js';
import type { RunSample } from '../src/results-schema.js';
import { warmupAfterReady } from '../src/run-step.js';
import { agreeingSubset, relativeSpread, welchPValue } from '../src/statistics.js';
import { buildSummary, describeStanding } from '../src/summary.js';
import { renderTerminal } from '../src/terminal-table.js';
import { row, sample, syntheticResults } from './fixtures.js';

describe('report writers', () => {
  it('writes results.json, report.md and report.html into the directory', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'echoplex-report-'));
    const files = writeReports(syntheticResults(), dir);
    for (const file of [files.json, files.markdown, files.html]) expect(existsSync(file)).toBe(true);
    expect(loadResults(files.json).results).toHaveLength(9);
  });

  it('puts models side by side per scenario with their standing against the reference', () => {
    const markdown = renderMarkdown(syntheticResults());
    expect(markdown).toMatch(/## echo\n/);
    expect(markdown).toMatch(/\| c100 \| event-loop \| 100,000 \(98,000–102,000\) \|.*\| 0\.83x \| 4% \| 3 \|/);
    expect(markdown).toMatch(/\| c100 \| reference \|.*\| 1\.00x \|/);
    expect(markdown).toContain('commit abc');
    expect(renderTerminal(syntheticResults())).toMatch(/c100\s+worker-pool\s+80,000/);
  });

  it('draws the throughput, latency, CPU, memory and rate charts', () => {
    const ids = renderCharts(syntheticResults()).map((svg) => /data-chart="([^"]+)"/.exec(svg)?.[1]);
    expect(ids).toEqual(['throughput', 'latency', 'cpu', 'memory', 'rate']);
  });

  it('never plots a row without replies, and draws a one-point series as a point', () => {
    const results = syntheticResults();
    const silent = row(
      'echo',
      'c100',
      100,
      'blocking',
      [1, 2, 3].map((run) => ({ ...sample(run, 1, 0), metrics: { messagesPerSecond: 0, p99Micros: 0 } })),
    );
    const charts = renderCharts({
      ...results,
      settings: { ...results.settings, models: ['blocking', ...results.settings.models] },
      results: [...results.results, silent],
    });
    for (const chart of charts) expect(chart).not.toContain('data-series="blocking"');
    const latency = charts.find((chart) => chart.includes('data-chart="rate"')) ?? '';
    // echo-rate has one step: each model's spectrum has five points, and the CPU bars carry model colours.
    expect(latency.match(/<path class="series"/g)).toHaveLength(3);
    const throughput = renderCharts({ ...results, results: results.results.filter((entry) => entry.step !== 'c1') })[0] ?? '';
    expect(throughput).not.toContain('<path class="series"');
    expect(throughput.match(/<circle class="point"/g)).toHaveLength(3);
    expect(markdownFlags(renderMarkdown({ ...results, results: [...results.results, silent] }), 'blocking')).toContain('no replies');
  });

  it("draws the echo-rate timeline with each second's p99, not its worst latency", () => {
    const results = syntheticResults();
    const timeline = [-1, 0, 1, 2, 3].map((second) => ({
      second,
      phase: second <= 0 ? ('warmup' as const) : ('measure' as const),
      messages: second === 2 ? 0 : 10_000,
      errors: 0,
      lateSends: 0,
      meanMicros: 400,
      maxMicros: 90_000,
      p99Micros: 1200 + second * 100,
    }));
    const withTimeline = {
      ...results,
      results: results.results.map((entry) =>
        entry.scenario === 'echo-rate' && entry.model === 'event-loop'
          ? { ...entry, runs: entry.runs.map((run) => ({ ...run, timeline })) }
          : entry,
      ),
    };
    const chart = renderCharts(withTimeline).find((svg) => svg.includes('data-chart="timeline-latency"')) ?? '';
    expect(chart).toContain('p99 latency of each second');
    const drawn = [...chart.matchAll(/<title>event-loop: ([^<]+)<\/title>/g)].map((match) => match[1]);
    // Four seconds with replies, each at its p99; the second without replies is not drawn; no max anywhere.
    expect(drawn).toEqual(['1.10ms', '1.20ms', '1.30ms', '1.50ms']);
    expect(chart).not.toContain('90.0ms');
  });

  it('gives each model one colour in every chart', () => {
    const charts = renderCharts(syntheticResults());
    const colours = new Map<string, Set<string>>();
    for (const chart of charts) {
      for (const match of chart.matchAll(/data-series="([^"]+)"[^>]*(?:stroke|fill)="(#[0-9a-f]{6})"/g)) {
        const [, name, colour] = match as unknown as [string, string, string];
        colours.set(name, (colours.get(name) ?? new Set()).add(colour));
      }
    }
    for (const model of ['event-loop', 'worker-pool', 'reference']) expect(colours.get(model)?.size, model).toBe(1);
  });
});

const markdownFlags = (markdown: string, model: string): string =>
  markdown
    .split('\n')
    .filter((line) => line.startsWith(`| c100 | ${model} |`))
    .join('\n');

describe('summary', () => {
  it('comes first in every report, before the first scenario table', () => {
    const results = syntheticResults();
    const markdown = renderMarkdown(results);
    expect(markdown.indexOf('## Summary')).toBeGreaterThan(-1);
    expect(markdown.indexOf('## Summary')).toBeLessThan(markdown.indexOf('## echo'));
    const terminal = renderTerminal(results);
    expect(terminal.indexOf('SUMMARY')).toBeLessThan(terminal.indexOf('echo: '));
    const html = renderHtml(results);
    expect(html.indexOf('<h2>Summary</h2>')).toBeLessThan(html.indexOf('<h3>echo</h3>'));
  });

  it('states ratios against event-loop by direction: a share of throughput, lower or higher latency', () => {
    const summary = buildSummary(syntheticResults(1, { 'worker-pool': 3000, reference: 750 }));
    const echo = summary.rows.find((entry) => entry.scenario === 'echo' && entry.step === 'c100');
    expect(echo?.cells.find((cell) => cell.model === 'worker-pool')?.text).toBe('80,000 · 0.80x the msg/s');
    expect(echo?.best).toBe('event-loop');
    const rate = summary.rows.find((entry) => entry.scenario === 'echo-rate');
    // A p99 twice event-loop's is worse and must say so; half of it is better.
    expect(rate?.cells.find((cell) => cell.model === 'worker-pool')?.text).toBe('3.00ms · 2.00x higher p99');
    expect(rate?.cells.find((cell) => cell.model === 'reference')?.text).toBe('750µs · 2.00x lower p99');
    // The reference is the floor, not a contender: event-loop is the best model.
    expect(rate?.best).toBe('event-loop');
    expect(rate?.sentence).toMatch(/^echo-rate 10k\/s: event-loop is best at 1\.50ms p99, 50% ahead of worker-pool/);
    expect(describeStanding('p99Micros', 10, 20)).toBe('2.00x lower p99');
    expect(describeStanding('messagesPerSecond', 210, 100)).toBe('2.10x the msg/s');
    // Against a zero (memory growth below what RSS resolves), no ratio at all, never "Infinityx".
    expect(describeStanding('memoryPerConnectionBytes', 12_800, 0)).toBeUndefined();
    expect(describeStanding('memoryPerConnectionBytes', 0, 12_800)).toBeUndefined();
  });

  it('says a spread over a zero median is unbounded, never NaN% or Infinity%', () => {
    // Memory per connection below what RSS resolves is 0 B: runs of 0, 0 and 4 KiB disagree without bound.
    const memory = (run: number, bytes: number): RunSample => {
      const base = sample(run, 10_000, 1000);
      return { ...base, metrics: { ...base.metrics, memoryPerConnectionBytes: bytes } };
    };
    const at = (model: string, bytes: readonly number[]) =>
      aggregateRow(
        { scenario: 'connections', step: 'c10', x: 10, model, connections: 10, serverArgs: [] },
        bytes.map((value, index) => memory(index + 1, value)),
        'memoryPerConnectionBytes',
        { runs: 3, noiseThreshold: 0.2 },
      );
    const base = syntheticResults();
    const results = {
      ...base,
      scenarios: [
        ...base.scenarios,
        { name: 'connections', shows: 'memory', xAxis: 'connections', primary: 'memoryPerConnectionBytes' as const },
      ],
      results: [...base.results, at('event-loop', [0, 0, 4096]), at('worker-pool', [0, 0, 0])],
    };
    const sentence = buildSummary(results).rows.find((entry) => entry.scenario === 'connections')?.sentence;
    expect(sentence).toMatch(/^connections c10: /);
    expect(sentence).not.toMatch(/NaN|Infinity/);
    expect(sentence).toMatch(/event-loop \(unbounded: a zero median\)/);
  });

  it('never prints a worse latency as a win against the reference', () => {
    const results = syntheticResults(1, { 'worker-pool': 970_000 });
    const markdown = renderMarkdown(results);
    // 970 ms against the reference's 1.5 ms: 0.0015 of the reference, not 646x.
    expect(markdown).toMatch(/\| 10k\/s \| worker-pool \|.*\| 0\.00x \|/);
    expect(standing('p99Micros', 970_000, 1500)).toBeCloseTo(1500 / 970_000, 8);
  });

  it('warns in every report that fewer than three runs cannot tell models apart', () => {
    const results = syntheticResults();
    const oneRun: typeof results = {
      ...results,
      settings: { ...results.settings, runs: 1 },
      results: results.results.map((entry) => row(entry.scenario, entry.step, entry.x, entry.model, entry.runs.slice(0, 1), 1)),
    };
    for (const report of [renderMarkdown(oneRun), renderHtml(oneRun), renderTerminal(oneRun)]) {
      expect(report).toMatch(/fewer than 3 runs: so few runs cannot tell models apart/);
    }
    expect(renderMarkdown(results)).not.toMatch(/fewer than 3 runs/);
  });
});

describe('noise', () => {
  it('flags a row whose runs spread over the threshold', () => {
    const noisy = row('echo', 'c100', 100, 'event-loop', [sample(1, 100_000, 1), sample(2, 70_000, 1), sample(3, 130_000, 1)]);
    expect(noisy.noise).toBeCloseTo(0.6, 5);
    expect(noisy.noisy).toBe(true);
    const steady = row('echo', 'c100', 100, 'event-loop', [sample(1, 100_000, 1), sample(2, 95_000, 1), sample(3, 105_000, 1)]);
    expect(steady.noisy).toBe(false);
    const results = syntheticResults();
    const markdown = renderMarkdown({
      ...results,
      results: [...results.results.filter((entry) => !(entry.step === 'c100' && entry.model === 'event-loop')), noisy],
    });
    expect(markdownFlags(markdown, 'event-loop')).toMatch(/\| 60% \| 3 \| noisy \|/);
    expect(markdown).toMatch(/Noisy \(runs spread over the threshold\): event-loop \(60%\)/);
    // In every report: the summary cell and the table row of the terminal and of report.html too.
    const withNoisy = {
      ...results,
      results: [...results.results.filter((entry) => !(entry.step === 'c100' && entry.model === 'event-loop')), noisy],
    };
    const summary = buildSummary(withNoisy).rows.find((entry) => entry.scenario === 'echo' && entry.step === 'c100');
    expect(summary?.cells.find((cell) => cell.model === 'event-loop')?.text).toMatch(/\(noisy\)/);
    expect(renderTerminal(withNoisy)).toMatch(/c100\s+event-loop\s+100,000 \(70,000–130,000\).*60%\s+3\s+noisy/);
    expect(renderHtml(withNoisy)).toMatch(/<td>event-loop<\/td>.*<td>60%<\/td><td>3<\/td><td>noisy<\/td>/);
  });

  it('after re-runs keeps the runs that agree and sets the others aside', () => {
    const runs = [100_000, 70_000, 130_000, 101_000, 99_000].map((value, index) => sample(index + 1, value, 1));
    const rerun = row('echo', 'c100', 100, 'event-loop', runs);
    expect(rerun.runs.filter((run) => run.outlier === true).map((run) => run.run)).toEqual([2, 3]);
    expect(rerun.median.messagesPerSecond).toBe(100_000);
    expect(rerun.noise).toBeCloseTo(0.02, 5);
    expect(rerun.noisy).toBe(false);
    expect(agreeingSubset([5, 1, 9, 5.1, 4.9], 3).sort()).toEqual([0, 3, 4]);
    expect(relativeSpread([90, 100, 110])).toBeCloseTo(0.2, 8);
  });
});

describe('a run without replies', () => {
  it('is flagged, and gives the row no 0 µs latency', () => {
    const stalled: RunSample = { ...sample(1, 1, 1), metrics: { messagesPerSecond: 0, p50Micros: 0, p99Micros: 0 } };
    const forking = row('echo', 'c100', 100, 'forking', [stalled, sample(2, 120_000, 2000), sample(3, 100_000, 2200)]);
    expect(forking.min.p99Micros).toBe(2000);
    expect(forking.min.messagesPerSecond).toBe(0);
    const results = syntheticResults();
    const markdown = renderMarkdown({
      ...results,
      settings: { ...results.settings, models: ['forking', ...results.settings.models] },
      results: [...results.results, forking],
    });
    expect(markdownFlags(markdown, 'forking')).toMatch(/1 run without replies/);
    expect(markdownFlags(markdown, 'forking')).not.toMatch(/0\.0µs/);
  });

  it('after a slow ready phase, the warmup is as long as the start-up was, up to 3 s', () => {
    expect(warmupAfterReady(0.25, 0.02)).toBe(0.25);
    expect(warmupAfterReady(0.25, 1.5)).toBe(1.5);
    expect(warmupAfterReady(0.25, 7)).toBe(3);
    // Threads prestarted at boot answer the ready phase at once, yet are as cold: the model's fresh-thread warmup.
    expect(warmupAfterReady(0.25, 0.02, 3)).toBe(3);
    expect(warmupAfterReady(2, 0.02, 0)).toBe(2);
  });
});

describe('served X of N', () => {
  it('is the outcome of a model that could not serve the connections: no errors, no zero, no rank', () => {
    const short: RunSample = { ...sample(1, 1, 1), metrics: { readySeconds: 60 }, shortfall: { served: 64, of: 100 }, errorSamples: [] };
    const blocking = row('echo', 'c100', 100, 'blocking', [short, { ...short, run: 2 }, { ...short, run: 3 }]);
    expect(blocking.served).toEqual({ served: 64, of: 100 });
    const results = syntheticResults();
    const withBlocking = {
      ...results,
      settings: { ...results.settings, models: ['blocking', ...results.settings.models] },
      results: [...results.results, blocking],
    };
    const flags = markdownFlags(renderMarkdown(withBlocking), 'blocking');
    expect(flags).toMatch(/^\| c100 \| blocking \| served 64 of 100 \| – \|/);
    expect(flags).not.toMatch(/errors|no replies|0\.0µs/);
    const summary = buildSummary(withBlocking).rows.find((entry) => entry.scenario === 'echo' && entry.step === 'c100');
    expect(summary?.cells.find((cell) => cell.model === 'blocking')?.text).toBe('served 64 of 100');
    expect(summary?.sentence).toMatch(/blocking served only 64 of 100 connections, so it has no figure/);
    expect(summary?.best).toBe('event-loop');
  });
});

describe('latency formatting', () => {
  it('prints what a tool cannot resolve as <1 ms, never 0.0µs', () => {
    expect(formatMetric('crossCheckP99Micros', 0)).toBe('<1 ms');
    expect(formatMetric('crossCheckP99Micros', 3000)).toBe('3.00ms');
    expect(formatMetric('p50Micros', 8.3)).toBe('8.3µs');
    expect(formatMetric('readySeconds', 7.123)).toBe('7.12s');
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
    const text = renderComparison({ before: 'old.json', after: 'new.json' }, before, syntheticResults(1.5), after);
    expect(text).toMatch(/^old old\.json: .*test cpu, 2 cores.*commit abc/);
    expect(text).toMatch(/\nnew new\.json: /);
    // One line per changed row (every echo row moved 50%), none for echo-rate, which did not.
    expect(text.split('\n').filter((line) => /^echo c\d+ /.test(line))).toHaveLength(6);
    expect(text).not.toMatch(/^echo-rate/m);
    expect(text).toMatch(/6 of 9 row\(s\) in both runs changed significantly/);
    expect(text).not.toMatch(/WARNING/);
  });

  it('warns when the machines or the commits differ', () => {
    const before = syntheticResults();
    const after = { ...syntheticResults(), environment: { ...before.environment, cpuModel: 'other cpu', gitCommit: 'def' } };
    const warnings = comparisonWarnings(before, after);
    expect(warnings.join('\n')).toMatch(/different machines/);
    expect(warnings.join('\n')).toMatch(/different commits \(abc \/ def\)/);
  });

  it('says clearly what is wrong with a bad path', () => {
    expect(() => loadResults('/no/such/results.json')).toThrow(CompareError);
    expect(() => loadResults('/no/such/results.json')).toThrow(/no such file/);
    expect(() => loadResults(os.tmpdir())).toThrow(/a directory/);
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
    expect(parseBenchFlags(['--reruns', '0'])).toMatchObject({ kind: 'run', maxExtraRuns: 0 });
    expect(() => parseBenchFlags(['--reruns=-1'])).toThrow(/--reruns takes a whole number 0\.\.20/);
    expect(parseBenchFlags(['--full', '--rerun-until', '1800'])).toMatchObject({ kind: 'run', rerunUntilSeconds: 1800 });
    expect(() => parseBenchFlags(['--rerun-until', 'soon'])).toThrow(/--rerun-until takes seconds/);
    expect(() => parseBenchFlags(['--compare', 'a.json'])).toThrow(/two results.json files/);
  });
});
