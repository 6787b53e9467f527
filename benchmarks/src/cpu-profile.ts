/** CPU placement as a named profile, so results say where the server and the load generator ran. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export type ProfileName = 'split' | 'shared';

export interface CpuProfile {
  readonly name: ProfileName;
  /** Command prefix for the server and for the load generator (`taskset -c N`, or nothing). */
  readonly serverPrefix: readonly string[];
  readonly loadPrefix: readonly string[];
  /** Cores the load generator may use: its saturation point. */
  readonly loadCores: number;
  readonly pinned: boolean;
}

const hasTaskset = ((): boolean => {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * `split`: server on CPU 0, load on CPU 1 (via taskset when present). `shared`: no pinning, the
 * only way a multi-core model shows what it does on a 2-core machine.
 */
export function cpuProfile(name: ProfileName): CpuProfile {
  const cores = os.availableParallelism();
  if (name === 'split' && hasTaskset && cores >= 2) {
    return { name, serverPrefix: ['taskset', '-c', '0'], loadPrefix: ['taskset', '-c', '1'], loadCores: 1, pinned: true };
  }
  return { name, serverPrefix: [], loadPrefix: [], loadCores: cores, pinned: false };
}
