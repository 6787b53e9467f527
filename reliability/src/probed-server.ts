/** A server under probe: started through the conformance suite's server-process, with its memory sampled while a check runs. */
import { readdirSync, readFileSync } from 'node:fs';
import { type RunningServer, startServer } from '@echoplex/conformance';
import type { Variant } from './variants.js';
import { MIB } from './wire.js';

/** Starts the variant with `flags` (180 s to listen: niced under a load of 20-40, a server needed over 60), runs `probe`, and always stops it (SIGKILL if it does not exit). */
export async function withServer<T>(variant: Variant, flags: readonly string[], probe: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startServer(variant.model, [...variant.flags, '--log-level', 'warn', ...flags], { readyTimeoutMs: 180_000 });
  try {
    return await probe(server);
  } finally {
    await server.stop('SIGKILL', 5_000);
  }
}

/** What a server's process tree holds in memory now. */
export interface TreeMemory {
  /** The root's RSS plus each descendant's private pages (USS): what the tree takes from the machine. */
  readonly bytes: number;
  /** Every process's RSS summed, as `ps` would add them: counts the pages they share once per process. */
  readonly rssSumBytes: number;
}

const smapsField = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0) * 1024;

/**
 * The root's RSS, plus only the private pages of each descendant (a forked child). Every
 * Node process maps the same node binary and libraries, and the pages of them it touched
 * (~41 MiB in a prefork child at rest, of its 52 MiB RSS) are the same physical pages in
 * every process: summing RSS counts them once per process. A child costs the machine its
 * private pages (~11 MiB at rest); the root's RSS counts the shared ones once.
 */
export function treeMemory(rootPid: number): TreeMemory {
  let bytes = 0;
  let rssSumBytes = 0;
  for (const pid of [rootPid, ...descendantPids(rootPid)]) {
    try {
      const smaps = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const rss = smapsField(smaps, 'Rss');
      rssSumBytes += rss;
      bytes += pid === rootPid ? rss : smapsField(smaps, 'Private_Clean') + smapsField(smaps, 'Private_Dirty');
    } catch {
      // Exited while we looked.
    }
  }
  return { bytes, rssSumBytes };
}

/** Samples the server's tree memory (treeMemory) every `everyMs` until stopped. */
export class RssSampler {
  readonly samples: { readonly atMs: number; readonly bytes: number; readonly rssSumBytes: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = performance.now();

  constructor(
    private readonly pid: number,
    everyMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const memory = treeMemory(this.pid);
    this.samples.push({ atMs: performance.now() - this.startedAt, ...memory });
    return memory.bytes;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  get firstMiB(): number {
    return (this.samples[0]?.bytes ?? 0) / MIB;
  }

  get peakMiB(): number {
    return Math.max(0, ...this.samples.map((sample) => sample.bytes)) / MIB;
  }

  /** The peak of every process's RSS summed (shared pages counted once per process). */
  get peakRssSumMiB(): number {
    return Math.max(0, ...this.samples.map((sample) => sample.rssSumBytes)) / MIB;
  }

  get lastMiB(): number {
    return (this.samples.at(-1)?.bytes ?? 0) / MIB;
  }

  /** Least-squares slope in MiB per minute over the samples taken after `warmUpMs`. */
  slopeMiBPerMinute(warmUpMs: number): number {
    return leastSquaresMiBPerMinute(this.samples.filter((sample) => sample.atMs >= warmUpMs));
  }

  /**
   * The slope of the floor: the least RSS of each `windowMs` after `warmUpMs`, least squares. A leak
   * raises the floor; V8 growing and shrinking its heap between collections (the young generation
   * alone swings by tens of MiB under load) moves only what lies above it.
   */
  floorSlopeMiBPerMinute(warmUpMs: number, windowMs: number): number {
    const floors: { atMs: number; bytes: number }[] = [];
    for (const sample of this.samples) {
      if (sample.atMs < warmUpMs) continue;
      const window = Math.floor((sample.atMs - warmUpMs) / windowMs);
      const floor = floors[window];
      if (floor === undefined) floors[window] = { atMs: warmUpMs + (window + 0.5) * windowMs, bytes: sample.bytes };
      else floor.bytes = Math.min(floor.bytes, sample.bytes);
    }
    // The last window is often a stub (the run's tail): only whole ones count.
    const whole = floors.filter(
      (floor, window) => floor !== undefined && warmUpMs + (window + 1) * windowMs <= (this.samples.at(-1)?.atMs ?? 0),
    );
    return leastSquaresMiBPerMinute(whole);
  }
}

function leastSquaresMiBPerMinute(points: readonly { readonly atMs: number; readonly bytes: number }[]): number {
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const meanX = points.reduce((sum, point) => sum + point.atMs, 0) / n;
  const meanY = points.reduce((sum, point) => sum + point.bytes, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const point of points) {
    numerator += (point.atMs - meanX) * (point.bytes - meanY);
    denominator += (point.atMs - meanX) ** 2;
  }
  return denominator === 0 ? 0 : ((numerator / denominator) * 60_000) / MIB;
}

/** Pids of the process's descendants now (forked children), from /proc. */
export function descendantPids(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Exited while we looked.
    }
  }
  const found: number[] = [];
  const pending = [...(children.get(rootPid) ?? [])];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    found.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Whether a pid is a live process (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}
