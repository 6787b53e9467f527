#!/usr/bin/env node
/** `npm run bench`: runs the scenarios against every built model and the reference, or compares two results files. */
import { BENCH_USAGE, type BenchCommand, BenchFlagError, parseBenchFlags } from './bench-flags.js';
import { runBench } from './bench-runner.js';
import { CLUSTER_REDIS_MISSING_NOTE } from './chat-cluster-scenario.js';
import { CompareError, compareResults, loadResults, renderComparison } from './compare.js';
import { cpuProfile } from './cpu-profile.js';
import { REDIS_MISSING_NOTE, redisServerPath } from './fanout-scenario.js';
import { discoverModels } from './models.js';
import { defaultResultsDir, writeReports } from './report-files.js';
import { SCENARIOS } from './scenario-registry.js';
import { renderTerminal } from './terminal-table.js';

/**
 * The quick default must finish within 330 s on 2 cores, the full matrix within ~45 min
 * (docs/benchmarks.md says what each can tell apart); re-runs of noisy rows stop starting once
 * `rerunUntilSeconds` have passed.
 */
const DEFAULTS = {
  // The ready phase has served every connection before the warmup: a short warmup suffices.
  quick: { runs: 3, durationSeconds: 1, warmupSeconds: 0.25, maxExtraRuns: 2, rerunUntilSeconds: 300 },
  // ~45 min on 2 cores for ~160 rows (docs/benchmarks.md): 3 runs of 2 s, re-runs only in the first 36 min.
  full: { runs: 3, durationSeconds: 2, warmupSeconds: 0.5, maxExtraRuns: 2, rerunUntilSeconds: 2160 },
} as const;
const READY_TIMEOUT_SECONDS = 60;
const NOISE_THRESHOLD = 0.2;

async function run(command: Extract<BenchCommand, { kind: 'run' }>): Promise<number> {
  const available = discoverModels();
  const models = command.models === undefined ? available : available.filter((model) => command.models?.includes(model.name));
  const unknownModels = (command.models ?? []).filter((name) => !available.some((model) => model.name === name));
  if (unknownModels.length > 0)
    throw new BenchFlagError(`no built model named ${unknownModels.join(', ')}; built: ${available.map((model) => model.name).join(', ')}`);
  const unknownScenarios = (command.scenarios ?? []).filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknownScenarios.length > 0)
    throw new BenchFlagError(`no scenario named ${unknownScenarios.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const scenarios = SCENARIOS.filter((scenario) =>
    command.scenarios !== undefined ? command.scenarios.includes(scenario.name) : command.depth === 'full' || scenario.quick,
  );
  if (scenarios.some((scenario) => scenario.name === 'fanout') && redisServerPath() === undefined) process.stderr.write(REDIS_MISSING_NOTE);
  if (scenarios.some((scenario) => scenario.name === 'chat-cluster') && redisServerPath() === undefined)
    process.stderr.write(CLUSTER_REDIS_MISSING_NOTE);
  const defaults = DEFAULTS[command.depth];
  const profile = cpuProfile(command.profile);
  const plan = {
    depth: command.depth,
    runs: command.runs ?? defaults.runs,
    durationSeconds: command.durationSeconds ?? defaults.durationSeconds,
    warmupSeconds: command.warmupSeconds ?? defaults.warmupSeconds,
    readyTimeoutSeconds: READY_TIMEOUT_SECONDS,
    noiseThreshold: NOISE_THRESHOLD,
    maxExtraRuns: command.maxExtraRuns ?? defaults.maxExtraRuns,
    rerunUntilSeconds: command.rerunUntilSeconds ?? defaults.rerunUntilSeconds,
    models,
    scenarios,
    profile,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  process.stderr.write(
    `bench (${plan.depth}): models ${models.map((m) => m.name).join(', ')}; scenarios ${scenarios.map((s) => s.name).join(', ')}; ` +
      `${plan.runs} run(s) of ${plan.durationSeconds}s + ${plan.warmupSeconds}s warmup; profile ${profile.name}${profile.pinned ? ' (taskset)' : ' (unpinned)'}\n`,
  );
  const results = await runBench(plan);
  const files = writeReports(results, command.outDir ?? defaultResultsDir(results.createdAt));
  process.stdout.write(`\n${renderTerminal(results)}\n`);
  process.stdout.write(`Reports: ${files.json}\n         ${files.markdown}\n         ${files.html}\n(${results.wallSeconds}s)\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseBenchFlags>;
  try {
    command = parseBenchFlags(argv);
  } catch (error) {
    if (!(error instanceof BenchFlagError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${BENCH_USAGE}\n`);
    return 2;
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(`${BENCH_USAGE}\n`);
      return 0;
    case 'list':
      for (const scenario of SCENARIOS) {
        process.stdout.write(`${scenario.name.padEnd(12)} ${scenario.quick ? 'quick' : 'full '} ${scenario.shows}\n`);
      }
      process.stdout.write(
        `models: ${discoverModels()
          .map((model) => model.name)
          .join(', ')}\n`,
      );
      return 0;
    case 'compare':
      try {
        const before = loadResults(command.before);
        const after = loadResults(command.after);
        const comparisons = compareResults(before, after);
        process.stdout.write(`${renderComparison(command, before, after, comparisons, command.all)}\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof CompareError)) throw error;
        process.stderr.write(`bench --compare: ${error.message}\n`);
        return 2;
      }
    case 'run':
      try {
        return await run(command);
      } catch (error) {
        if (!(error instanceof BenchFlagError)) throw error;
        process.stderr.write(`bench: ${error.message}\n`);
        return 2;
      }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
