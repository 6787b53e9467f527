/** That the conformance suite runs on every model variant: each app is built, and each variant has its file in test/conformance/. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appIsBuilt, MODEL_VARIANTS, presentVariants, variantName } from '../src/models.js';

const VARIANT_FILES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'conformance');

const variants = presentVariants().map((variant) => ({ ...variant, name: variantName(variant) }));

describe('the conformance suite', () => {
  it('has at least one model app to run against', () => {
    const models = [...new Set(MODEL_VARIANTS.map((variant) => variant.model))];
    expect(variants.length, `none of apps/{${models.join(',')}}/package.json exists`).toBeGreaterThan(0);
  });

  it.each(variants)('runs $name, which is built: an app package without dist/main.js fails', (variant) => {
    expect(appIsBuilt(variant.model), `apps/${variant.model}/dist/main.js`).toBe(true);
  });
});

describe('the per-variant files of test/conformance/', () => {
  const calls = readdirSync(VARIANT_FILES)
    .filter((file) => file.endsWith('.test.ts'))
    .flatMap((file) =>
      [...readFileSync(path.join(VARIANT_FILES, file), 'utf8').matchAll(/describeConformance\('([^']+)'\)/g)].map((match) => match[1]),
    );

  it('run every variant of src/models.ts once, and nothing else', () => {
    expect([...calls].sort()).toEqual(MODEL_VARIANTS.map(variantName).sort());
  });
});
