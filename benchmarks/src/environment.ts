/** Describes the machine and checkout a bench ran on, so two results files can be told apart. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { CpuProfile } from './cpu-profile.js';
import { repoRoot } from './models.js';
import type { Environment } from './results-schema.js';

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function describeEnvironment(profile: CpuProfile): Environment {
  const status = git(['status', '--porcelain']);
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    profile: profile.name,
    pinned: profile.pinned,
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status !== null && status !== '',
  };
}
