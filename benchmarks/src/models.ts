/** Which servers a bench run compares: every app built under apps/*, plus the bare reference server. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ModelEntry {
  readonly name: string;
  /** The script `node` runs. */
  readonly script: string;
  /** The bare `socket.pipe(socket)` server: echo scenarios only, replies mirror requests. */
  readonly reference: boolean;
}

export const REFERENCE_MODEL = 'reference';

/** The repository root, from benchmarks/dist/ (or benchmarks/src/ under the tests). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The order apps are listed in when present; others follow alphabetically. */
const KNOWN_ORDER = ['blocking', 'worker-pool', 'forking', 'event-loop'];

export function discoverModels(root = repoRoot): ModelEntry[] {
  const appsDir = path.join(root, 'apps');
  const names = existsSync(appsDir) ? readdirSync(appsDir).filter((name) => existsSync(path.join(appsDir, name, 'dist', 'main.js'))) : [];
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const apps = names.map((name) => ({ name, script: path.join(appsDir, name, 'dist', 'main.js'), reference: false }));
  const reference = { name: REFERENCE_MODEL, script: path.join(root, 'benchmarks', 'dist', 'reference-server.js'), reference: true };
  return [...apps, reference];
}

function rank(name: string): number {
  const index = KNOWN_ORDER.indexOf(name);
  return index === -1 ? KNOWN_ORDER.length : index;
}
