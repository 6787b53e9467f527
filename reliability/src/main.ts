#!/usr/bin/env node
/**
 * `npm run reliability`: the full suite against every variant (or those named), written
 * as docs/reliability.md. `--long` soaks 10 minutes per variant; run that by hand, under
 * `flock /tmp/echoplex-bench.lock`, since it is load.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@echoplex/conformance';
import { renderReport } from './report.js';
import { CHECK_NAMES, type CheckName, FULL_SIZES, runVariant, type SuiteSizes, type VariantResults } from './suite.js';
import { isBuilt, selectVariants } from './variants.js';

const USAGE = `usage: npm run reliability -- [options]
  --variants a,b        variants to probe (default: all): event-loop, blocking, worker-pool, prefork, per-connection, and any other app
  --checks a,b          checks to run (default: all): ${CHECK_NAMES.join(', ')}
  --long                soak 600 s per variant (default 60 s)
  --long-variants a,b   soak 600 s for these variants only, the others the default
  --soak-seconds N      soak length
  --slowloris N         slowloris connections (default 1000)
  --fuzz-count N        fuzz inputs per dialect (default 2000)
  --seed N              fuzz seed (default 1)
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
    seed: { type: 'string' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'docs', 'reliability.md') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const checks = (values.checks?.split(',') ?? [...CHECK_NAMES]) as CheckName[];
const unknownChecks = checks.filter((check) => !(CHECK_NAMES as readonly string[]).includes(check));
if (unknownChecks.length > 0) throw new Error(`unknown check ${unknownChecks.join(', ')}\n${USAGE}`);
const sizes: SuiteSizes = {
  ...FULL_SIZES,
  soakSeconds: positiveInteger('soak-seconds', values['soak-seconds'], values.long ? 600 : FULL_SIZES.soakSeconds),
  slowlorisConnections: positiveInteger('slowloris', values.slowloris, FULL_SIZES.slowlorisConnections),
  fuzzCount: positiveInteger('fuzz-count', values['fuzz-count'], FULL_SIZES.fuzzCount),
  seed: positiveInteger('seed', values.seed, FULL_SIZES.seed),
};
const variants = selectVariants(values.variants?.split(','));
const unbuilt = variants.filter((variant) => !isBuilt(variant));
if (unbuilt.length > 0) throw new Error(`not built: ${unbuilt.map((variant) => variant.model).join(', ')}; run npx turbo run build`);

const results: VariantResults[] = [];
const longVariants = values['long-variants']?.split(',') ?? [];
for (const variant of variants) {
  const variantSizes = longVariants.includes(variant.id) ? { ...sizes, soakSeconds: 600 } : sizes;
  results.push(await runVariant(variant, checks, variantSizes, (line) => console.log(line)));
}
const markdown = renderReport(results, checks, sizes, REPO_ROOT);
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
