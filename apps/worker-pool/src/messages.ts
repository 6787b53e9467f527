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

export type ToWorker =
  | { readonly kind: 'records'; readonly packed: ArrayBuffer }
  | { readonly kind: 'hub'; readonly event: HubEvent }
  /** INFO and /metrics answered, or counters asked for: core's server-view messages. */
  | ViewFromParent
  | { readonly kind: 'shutdown' };

export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'records'; readonly packed: ArrayBuffer }
  /** The hub calls of one turn, in order. */
  | { readonly kind: 'hub'; readonly calls: readonly HubCall[] }
  /** INFO and /metrics asked, or counters sent: core's server-view messages. */
  | ViewToParent;

/** Written by a client, these bytes make a worker started with `--inject-faults` throw (crash) or exit. */
export const FAULT_TRIGGERS = { crash: 'echoplex-fault:crash-worker', exit: 'echoplex-fault:exit-worker' } as const;
