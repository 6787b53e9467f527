/**
 * The models and variants the reliability suite probes: the known ones with the flags
 * that select them, and any other app found under apps/ (coroutine, say) with its
 * defaults, so a new model is held to the same checks the day its package exists.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { appEntryPoint, REPO_ROOT } from '@echoplex/conformance';

/** How a probe can kill one unit of the server that serves a connection, to show only that unit's connections go. */
export type CrashKind = 'thread' | 'worker' | 'child' | 'none';

export interface Variant {
  /** Short id used on the command line and in the table: `prefork`, `worker-pool`. */
  readonly id: string;
  readonly model: string;
  /** Flags that select the variant. */
  readonly flags: readonly string[];
  /** Flags that turn on the model's fault injection, for the crash check. */
  readonly crashFlags: readonly string[];
  readonly crash: CrashKind;
  /**
   * Flags that shrink a model whose connections wait for a thread or a child, so a small
   * slowloris (the fast subset) outnumbers its threads plus its waiting line, as 1000 do at the defaults.
   */
  readonly smallPoolFlags: readonly string[];
}

const KNOWN: readonly Variant[] = [
  { id: 'event-loop', model: 'event-loop', flags: [], crashFlags: [], crash: 'none', smallPoolFlags: [] },
  {
    id: 'blocking',
    model: 'blocking',
    flags: [],
    crashFlags: ['--inject-faults'],
    crash: 'thread',
    smallPoolFlags: ['--threads', '16', '--max-waiting', '16'],
  },
  {
    id: 'worker-pool',
    model: 'worker-pool',
    flags: ['--workers', '2'],
    crashFlags: ['--inject-faults'],
    crash: 'worker',
    smallPoolFlags: [],
  },
  { id: 'prefork', model: 'forking', flags: ['--mode', 'prefork', '--workers', '2'], crashFlags: [], crash: 'child', smallPoolFlags: [] },
  {
    id: 'per-connection',
    model: 'forking',
    flags: ['--mode', 'per-connection'],
    crashFlags: [],
    crash: 'child',
    smallPoolFlags: ['--max-children', '16', '--max-waiting', '16'],
  },
];

/** Every variant whose app package exists, known ones first; a package that is not built fails when it starts. */
export function discoverVariants(root = REPO_ROOT): Variant[] {
  const appsDir = path.join(root, 'apps');
  const apps = existsSync(appsDir) ? readdirSync(appsDir).filter((name) => existsSync(path.join(appsDir, name, 'package.json'))) : [];
  const known = KNOWN.filter((variant) => apps.includes(variant.model));
  const others = apps
    .filter((name) => !KNOWN.some((variant) => variant.model === name))
    .sort()
    .map((name): Variant => ({ id: name, model: name, flags: [], crashFlags: [], crash: 'none', smallPoolFlags: [] }));
  return [...known, ...others];
}

export function selectVariants(ids: readonly string[] | undefined): Variant[] {
  const all = discoverVariants();
  if (ids === undefined) return all;
  const unknown = ids.filter((id) => !all.some((variant) => variant.id === id));
  if (unknown.length > 0) throw new Error(`unknown variant ${unknown.join(', ')}; known: ${all.map((variant) => variant.id).join(', ')}`);
  return all.filter((variant) => ids.includes(variant.id));
}

export const isBuilt = (variant: Variant): boolean => existsSync(appEntryPoint(variant.model));
