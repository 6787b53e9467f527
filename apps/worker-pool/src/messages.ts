/** The messages on a worker's port, both ways: packed byte records, hub traffic, and the server-wide questions a worker cannot answer alone. */
import type { HubCall, HubEvent, ServerInfo, SessionLimits, StatsSnapshot } from '@echoplex/core';

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
  | { readonly kind: 'info'; readonly call: number; readonly info: ServerInfo }
  | { readonly kind: 'metrics'; readonly call: number; readonly text: string }
  | { readonly kind: 'stats'; readonly call: number }
  | { readonly kind: 'shutdown' };

export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'records'; readonly packed: ArrayBuffer }
  /** The hub calls of one turn, in order. */
  | { readonly kind: 'hub'; readonly calls: readonly HubCall[] }
  | { readonly kind: 'info'; readonly call: number }
  | { readonly kind: 'metrics'; readonly call: number }
  | { readonly kind: 'stats'; readonly call: number; readonly snapshot: StatsSnapshot };

/** Written by a client, these bytes make a worker started with `--inject-faults` throw (crash) or exit. */
export const FAULT_TRIGGERS = { crash: 'echoplex-fault:crash-worker', exit: 'echoplex-fault:exit-worker' } as const;
