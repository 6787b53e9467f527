/** A server under probe: started through the conformance suite's server-process, with its memory sampled while a check runs. */
import { readdirSync, readFileSync } from 'node:fs';
import { processTreeRssBytes, type RunningServer, startServer } from '@echoplex/conformance';
import type { Variant } from './variants.js';
import { MIB } from './wire.js';

/** Starts the variant with `flags`, runs `probe`, and always stops it (SIGKILL if it does not exit). */
export async function withServer<T>(variant: Variant, flags: readonly string[], probe: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startServer(variant.model, [...variant.flags, '--log-level', 'warn', ...flags], { readyTimeoutMs: 20_000 });
  try {
    return await probe(server);
  } finally {
    await server.stop('SIGKILL', 5_000);
  }
}

/** Samples the server's process-tree RSS every `everyMs` until stopped. */
export class RssSampler {
  readonly samples: { readonly atMs: number; readonly bytes: number }[] = [];
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
    const bytes = processTreeRssBytes(this.pid);
    this.samples.push({ atMs: performance.now() - this.startedAt, bytes });
    return bytes;
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
