/**
 * Runs one load process (the load generator's bin, or the autocannon wrapper) beside the server,
 * pinned by the profile, samples its own CPU from /proc, and returns its JSON result.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { LatencyMicros, LoadResult } from '@echoplex/loadgen';
import type { CpuProfile } from './cpu-profile.js';
import type { HttpLoadSpec } from './http-load.js';
import { repoRoot } from './models.js';
import { TreeSampler, type TreeUsage } from './proc-sampler.js';

/** What the harness needs from any load process: the load generator's result satisfies it. */
export type LoadOutcome = Pick<
  LoadResult,
  | 'messagesPerSecond'
  | 'bytesPerSecond'
  | 'errors'
  | 'errorSamples'
  | 'lateSends'
  | 'latencyMicros'
  | 'uncorrectedLatencyMicros'
  | 'connectionsOpened'
  | 'connectionFailures'
> & {
  readonly timeline?: LoadResult['timeline'];
  /** `--udp` runs: the share of requests sent that got no reply within the timeout. */
  readonly lossRate?: number;
};

export interface LoadRun {
  readonly outcome: LoadOutcome;
  readonly usage: TreeUsage;
}

export const LOAD_BIN = path.join(repoRoot, 'packages', 'loadgen', 'dist', 'bin', 'load.js');
/** The measured HTTP client (µs resolution) and autocannon, its cross-check (1 ms resolution). */
export const HTTP_LOAD_SCRIPT = path.join(repoRoot, 'benchmarks', 'dist', 'http-keepalive-load.js');
export const CROSS_CHECK_SCRIPT = path.join(repoRoot, 'benchmarks', 'dist', 'http-load.js');

/** Arguments for the load generator's bin: `--flag value` pairs (booleans only when true). */
export type LoadArgs = Readonly<Record<string, string | number | boolean>>;

/** Several targets: a fanout over servers on one hub (the publisher on the first). */
export function loadGeneratorArgv(target: string | readonly string[], args: LoadArgs): string[] {
  const targets = typeof target === 'string' ? [target] : target;
  const argv = [LOAD_BIN, ...targets.flatMap((each) => ['--target', each]), '--json', '--quiet'];
  for (const [flag, value] of Object.entries(args)) {
    if (value === false) continue;
    argv.push(`--${flag}`);
    if (value !== true) argv.push(String(value));
  }
  return argv;
}

export function httpLoadArgv(spec: HttpLoadSpec): string[] {
  return [HTTP_LOAD_SCRIPT, JSON.stringify(spec)];
}

export function crossCheckArgv(spec: HttpLoadSpec): string[] {
  return [CROSS_CHECK_SCRIPT, JSON.stringify(spec)];
}

/** Spawns `node argv…` under the profile's load prefix and waits, at most `timeoutMs`, for its JSON. */
export function runLoadProcess(argv: readonly string[], profile: CpuProfile, timeoutMs: number): Promise<LoadRun> {
  const [command, ...prefixArgs] = [...profile.loadPrefix, process.execPath];
  const child = spawn(command as string, [...prefixArgs, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = new TreeSampler(child.pid as number);
  sampler.start();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const usage = sampler.stop();
      const line = stdout.trim().split('\n').pop() ?? '';
      // Exit 1 only means an assertion failed; the JSON is still the result.
      if ((code === 0 || code === 1) && line.startsWith('{')) {
        resolve({ outcome: JSON.parse(line) as LoadOutcome, usage });
      } else {
        reject(new Error(`load process ${argv[0] ?? ''} failed (${code ?? signal}): ${stderr.trim().slice(0, 1000)}`));
      }
    });
  });
}

export type { LatencyMicros };
