/**
 * The reliability suite's fast subset, part of `npm test`: on every variant, the HTTP
 * requests that must be refused, a small slowloris against shrunken pools, and a short
 * fuzz per dialect. The full suite (`npm run reliability`) runs the same checks bigger.
 */
import { killAllServers } from '@echoplex/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_SIZES, runVariant } from '../src/suite.js';
import { discoverVariants, isBuilt } from '../src/variants.js';

afterAll(killAllServers);

const variants = discoverVariants();

it('finds the four known models and any other app', () => {
  expect(variants.map((variant) => variant.id)).toEqual(
    expect.arrayContaining(['event-loop', 'blocking', 'worker-pool', 'prefork', 'per-connection']),
  );
});

describe.each(variants.map((variant) => [variant.id, variant] as const))('%s', (_id, variant) => {
  it('is built', () => {
    expect(isBuilt(variant), `apps/${variant.model}/dist/main.js is missing: run npx turbo run build`).toBe(true);
  });

  it('refuses the bad HTTP requests, survives a small slowloris and a short fuzz', async () => {
    const { checks } = await runVariant(variant, ['http', 'slowloris', 'fuzz'], FAST_SIZES, () => {});
    for (const [name, result] of Object.entries(checks)) {
      expect(result.pass, `${name}: ${result.cell} ${JSON.stringify(result.details)}`).toBe(true);
    }
  });
});
