/**
 * What each model is told at start so it can serve every connection of the steps it will run: a
 * model's default limits (blocking's 64 threads) are for a server, not for a bench that asks for
 * 100 connections at once. The flags go into results.json beside each row.
 */
import os from 'node:os';

export interface ModelLimit {
  /** Server flags for a run whose largest step holds `connections` connections at once. */
  readonly args: readonly string[];
  /** Connections the model can serve at once on this machine with those flags. */
  readonly capacity: number;
  /** Why no more than `capacity`, for the `served X of N` outcome. */
  readonly capacityReason?: string;
  /**
   * Warmup at least this long for a step that holds more connections than any step before it on
   * the same server: its extra connections go to threads that have never served (prestarted at
   * boot, so no slow ready phase shows how cold they are). 0: the model warms as it serves.
   */
  readonly freshWarmupSeconds: number;
}

/** A blocking handler thread is a V8 isolate with core loaded: ~14 MiB RSS (apps/blocking/README.md). */
const BLOCKING_THREAD_BYTES = 16 * 1024 * 1024;
/** Blocking's own upper bound on `--threads`. */
const BLOCKING_MAX_THREADS = 10_000;
/** Threads blocking starts before its listening line at most: the 100-connection steps' worth, with headroom. */
const BLOCKING_PRESTART_MAX = 128;
/**
 * Each handler thread is its own V8 isolate that compiles its own code from its own share of the
 * traffic: the quick bench's 0.25 s warmup measured 100 of them still interpreting (echo at 100
 * connections about 0.09 of event-loop's, against 0.16 once warm: apps/blocking/README.md).
 */
const BLOCKING_FRESH_WARMUP_SECONDS = 3;
/** A step's load may hold a connection or two beyond its count (fanout's publisher): threads for them too. */
const HEADROOM = 8;

type LimitRule = (connections: number) => ModelLimit;

/**
 * One entry per model that needs a flag; a model not listed serves any number of connections
 * with its defaults (event-loop, worker-pool, forking's prefork pool, the reference).
 */
const RULES: Readonly<Record<string, LimitRule>> = {
  blocking: (connections) => {
    // A thread per connection, so the memory for them is the hard limit: half of it at most.
    const byMemory = Math.floor((os.totalmem() * 0.5) / BLOCKING_THREAD_BYTES);
    const threads = Math.max(1, Math.min(connections + HEADROOM, byMemory, BLOCKING_MAX_THREADS));
    // At least blocking's own default, so a small step measures the model as shipped.
    const limit = Math.max(threads, Math.min(64, byMemory));
    // The prethreaded server: the step's threads load at boot (~90 ms each), not in its ready phase;
    // at most BLOCKING_PRESTART_MAX, so a 1000-connection step does not hold the boot for a minute and more.
    const prestart = Math.min(connections, limit, BLOCKING_PRESTART_MAX);
    return {
      args: ['--threads', String(limit), '--prestart', String(prestart)],
      capacity: limit,
      capacityReason: `${limit} threads at most here: ${BLOCKING_THREAD_BYTES / 1024 / 1024} MiB each within half of the RAM`,
      freshWarmupSeconds: BLOCKING_FRESH_WARMUP_SECONDS,
    };
  },
};

export function modelLimit(model: string, connections: number): ModelLimit {
  const rule = RULES[model];
  return rule === undefined ? { args: [], capacity: Number.POSITIVE_INFINITY, freshWarmupSeconds: 0 } : rule(connections);
}
