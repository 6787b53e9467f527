/** The messages on a worker's port, both ways: packed byte records, hub traffic, and the server-wide questions a worker cannot answer alone. */
import type { HubCall, HubEvent, SessionLimits, ViewFromParent, ViewToParent } from '@echoplex/core';

/** What a worker is started with. */
export interface WorkerSetup {
  /** Its slot in the pool, 0-based; a replacement takes the slot of the worker it replaces. */
  readonly index: number;
  readonly limits: SessionLimits;
  /** `--inject-faults`: the worker dies when a client sends a trigger (tests only). */
  readonly injectFaults: boolean;
}

/** What crosses to a worker in one turn of the main thread, in order: packed records (transferred) and hub events. */
export type ToWorkerPart = ArrayBuffer | HubEvent;

/** What crosses to the main thread in one turn of a worker, in order: packed records (transferred) and runs of hub calls. */
export type FromWorkerPart = ArrayBuffer | readonly HubCall[];

export type ToWorker =
  /** One turn's records and hub events: one postMessage per worker per turn, however they interleave. */
  | { readonly kind: 'turn'; readonly parts: readonly ToWorkerPart[] }
  /** INFO and /metrics answered, or counters asked for: core's server-view messages. */
  | ViewFromParent
  | { readonly kind: 'shutdown' };

export type FromWorker =
  | { readonly kind: 'ready' }
  /** One turn's records and hub calls; a run of calls is applied with one HubRelay.handleAll. */
  | { readonly kind: 'turn'; readonly parts: readonly FromWorkerPart[] }
  /** INFO and /metrics asked, or counters sent: core's server-view messages. */
  | ViewToParent;

/** Written by a client, these bytes make a worker started with `--inject-faults` throw (crash) or exit. */
export const FAULT_TRIGGERS = { crash: 'echoplex-fault:crash-worker', exit: 'echoplex-fault:exit-worker' } as const;
