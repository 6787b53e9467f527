#!/usr/bin/env node
/**
 * `npm run reliability`: the full suite against every variant (or those named), written
 * as docs/reliability.md. `--long` soaks 10 minutes per variant: run soaks by hand under
 * `nice -n 19`, a variant per run and two runs at most at once (they load both cores), each
 * with --json, then --merge the files into the report.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@echoplex/conformance';
import { type RunStamp, renderReport, stampRun } from './report.js';
import { CHECK_NAMES, type CheckName, FULL_SIZES, runVariant, type SuiteSizes, type VariantResults } from './suite.js';
import { discoverVariants, isBuilt, selectVariants } from './variants.js';

const USAGE = `usage: npm run reliability -- [options]
  --variants a,b        variants to probe (default: all): event-loop, blocking, worker-pool, prefork, per-connection, and any other app
  --checks a,b          checks to run (default: all): ${CHECK_NAMES.join(', ')}
  --long                soak 600 s per variant (default 60 s)
  --long-variants a,b   soak 600 s for these variants only, the others the default
  --soak-seconds N      soak length
  --slowloris N         slowloris connections (default 1000)
  --fuzz-count N        fuzz inputs per dialect (default 2000)
  --fuzz-concurrency N  fuzz inputs in flight at once (default 8)
  --seed N              fuzz seed (default 1)
  --samples-dir DIR     write each soak's RSS samples there as soak-<variant>.json
  --json FILE           also write the results as JSON (to merge runs made apart, e.g. soaks two at a time)
  --merge a.json,b.json render the report from results written by --json, in that order (runs nothing)
  --out FILE            where the Markdown goes (default docs/reliability.md; '-' prints it)`;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} wants a whole number, got ${value}\n${USAGE}`);
  return parsed;
}

const { values } = parseArgs({
  options: {
    variants: { type: 'string' },
    checks: { type: 'string' },
    long: { type: 'boolean', default: false },
    'long-variants': { type: 'string' },
    'soak-seconds': { type: 'string' },
    slowloris: { type: 'string' },
    'fuzz-count': { type: 'string' },
    'fuzz-concurrency': { type: 'string' },
    seed: { type: 'string' },
    'samples-dir': { type: 'string' },
    json: { type: 'string' },
    merge: { type: 'string' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'docs', 'reliability.md') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** What --json writes and --merge reads. */
interface SavedRun {
  readonly run: RunStamp;
  readonly results: readonly VariantResults[];
}

const runs: RunStamp[] = [];
let results: VariantResults[] = [];
let checks: CheckName[];
if (values.merge !== undefined) {
  // Later files win where two ran the same check on the same variant.
  const byVariant = new Map<string, VariantResults>();
  for (const file of values.merge.split(',')) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedRun;
    runs.push(saved.run);
    for (const result of saved.results) {
      const before = byVariant.get(result.variant.id);
      byVariant.set(result.variant.id, { variant: result.variant, checks: { ...before?.checks, ...result.checks } });
    }
  }
  const order = discoverVariants().map((variant) => variant.id);
  results = [...byVariant.values()].sort((a, b) => order.indexOf(a.variant.id) - order.indexOf(b.variant.id));
  checks = CHECK_NAMES.filter((check) => results.some((result) => result.checks[check] !== undefined));
} else {
  checks = (values.checks?.split(',') ?? [...CHECK_NAMES]) as CheckName[];
  const unknownChecks = checks.filter((check) => !(CHECK_NAMES as readonly string[]).includes(check));
  if (unknownChecks.length > 0) throw new Error(`unknown check ${unknownChecks.join(', ')}\n${USAGE}`);
  const sizes: SuiteSizes = {
    ...FULL_SIZES,
    soakSeconds: positiveInteger('soak-seconds', values['soak-seconds'], values.long ? 600 : FULL_SIZES.soakSeconds),
    slowlorisConnections: positiveInteger('slowloris', values.slowloris, FULL_SIZES.slowlorisConnections),
    fuzzCount: positiveInteger('fuzz-count', values['fuzz-count'], FULL_SIZES.fuzzCount),
    fuzzConcurrency: Math.max(1, positiveInteger('fuzz-concurrency', values['fuzz-concurrency'], FULL_SIZES.fuzzConcurrency)),
    seed: positiveInteger('seed', values.seed, FULL_SIZES.seed),
    ...(values['samples-dir'] === undefined ? {} : { samplesDir: values['samples-dir'] }),
  };
  const variants = selectVariants(values.variants?.split(','));
  const unbuilt = variants.filter((variant) => !isBuilt(variant));
  if (unbuilt.length > 0) throw new Error(`not built: ${unbuilt.map((variant) => variant.model).join(', ')}; run npx turbo run build`);
  // Stamped before the run: the commit is the one the servers were built from, whatever lands meanwhile.
  const run = stampRun(
    REPO_ROOT,
    sizes,
    variants.map((variant) => variant.id),
    checks,
  );
  runs.push(run);
  const longVariants = values['long-variants']?.split(',') ?? [];
  for (const variant of variants) {
    const variantSizes = longVariants.includes(variant.id) ? { ...sizes, soakSeconds: 600 } : sizes;
    results.push(await runVariant(variant, checks, variantSizes, (line) => console.log(line)));
    // After each variant: a long run stopped half-way keeps what it measured.
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ run, results } satisfies SavedRun, null, 1)}\n`);
  }
  if (values.json !== undefined) console.log(`wrote ${values.json}`);
}
const markdown = renderReport(results, checks, runs);
if (values.out === '-') console.log(markdown);
else {
  writeFileSync(values.out, markdown);
  console.log(`wrote ${values.out}`);
}
const failed = results.flatMap(({ variant, checks: byCheck }) =>
  Object.entries(byCheck)
    .filter(([, result]) => !result.pass)
    .map(([check]) => `${variant.id} ${check}`),
);
if (failed.length > 0) console.log(`failed: ${failed.join(', ')}`);
process.exitCode = failed.length > 0 ? 1 : 0;
