/** Which servers a bench run compares: every app built under apps/*, plus the bare reference server. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisModel } from './fanout-scenario.js';

export interface ModelEntry {
  readonly name: string;
  /** The script `node` runs. */
  readonly script: string;
  /** The bare `socket.pipe(socket)` server: echo scenarios only, replies mirror requests. */
  readonly reference: boolean;
  /** Only these scenarios (a reference that speaks another protocol, as Redis does); absent: every one it can run. */
  readonly scenarios?: readonly string[];
  /** Another protocol than Echoplex's (Redis): the load generator is told, and no Echoplex ready phase runs. */
  readonly protocol?: 'redis';
  /** Extra load generator flags for this model's steps (Redis: `--redis`). */
  readonly loadArgs?: Readonly<Record<string, string | number | boolean>>;
}

export const REFERENCE_MODEL = 'reference';

/** The repository root, from benchmarks/dist/ (or benchmarks/src/ under the tests). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The order apps are listed in when present; others follow alphabetically. */
const KNOWN_ORDER = ['blocking', 'worker-pool', 'forking', 'event-loop', 'coroutine'];

export function discoverModels(root = repoRoot): ModelEntry[] {
  const appsDir = path.join(root, 'apps');
  const names = existsSync(appsDir) ? readdirSync(appsDir).filter((name) => existsSync(path.join(appsDir, name, 'dist', 'main.js'))) : [];
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const apps = names.map((name) => ({ name, script: path.join(appsDir, name, 'dist', 'main.js'), reference: false }));
  const reference = { name: REFERENCE_MODEL, script: path.join(root, 'benchmarks', 'dist', 'reference-server.js'), reference: true };
  const redis = redisModel(root);
  return [...apps, reference, ...(redis === undefined ? [] : [redis])];
}

function rank(name: string): number {
  const index = KNOWN_ORDER.indexOf(name);
  return index === -1 ? KNOWN_ORDER.length : index;
}
