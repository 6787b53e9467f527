/** The models and variants the conformance suite runs, so that every model is held to the same tests. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { appDirectory, appEntryPoint } from './server-process.js';

export type ModelName = 'event-loop' | 'blocking' | 'worker-pool' | 'forking' | 'coroutine';

export interface ModelVariant {
  readonly model: ModelName;
  /** Flags that select the variant, before the suite's own. */
  readonly flags: readonly string[];
  /** Whether connections are spread over several threads or processes (rooms must still span them). */
  readonly spreads: boolean;
}

export const MODEL_VARIANTS: readonly ModelVariant[] = [
  { model: 'event-loop', flags: [], spreads: false },
  { model: 'blocking', flags: [], spreads: true },
  { model: 'worker-pool', flags: ['--workers', '1'], spreads: false },
  { model: 'worker-pool', flags: ['--workers', '4'], spreads: true },
  { model: 'forking', flags: ['--mode', 'prefork'], spreads: true },
  { model: 'forking', flags: ['--mode', 'per-connection'], spreads: true },
  { model: 'coroutine', flags: [], spreads: false },
];

/** `worker-pool --workers 4`: how a variant reads in test names. */
export const variantName = (variant: ModelVariant): string => [variant.model, ...variant.flags].join(' ');

/** Whether the app's package exists: from then on it must be built and pass. */
export const appPackageExists = (model: ModelName): boolean => existsSync(path.join(appDirectory(model), 'package.json'));

export const appIsBuilt = (model: ModelName): boolean => existsSync(appEntryPoint(model));

/** The variants whose app package exists; a missing build is a failure, not a skip. */
export const presentVariants = (): ModelVariant[] => MODEL_VARIANTS.filter((variant) => appPackageExists(variant.model));

/** Models whose package does not exist yet, for the report. */
export const absentModels = (): ModelName[] =>
  [...new Set(MODEL_VARIANTS.map((variant) => variant.model))].filter((model) => !appPackageExists(model));
