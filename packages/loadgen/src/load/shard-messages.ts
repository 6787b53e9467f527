/** The messages between the thread that runs a load and the worker threads that hold its shards. */
import type { ShardReport, ShardSecond, ShardSpec } from './shard.js';

export type ToWorker = { readonly type: 'start'; readonly startEpochMs: number } | { readonly type: 'abort' };

export type FromWorker =
  | { readonly type: 'connected' }
  | { readonly type: 'second'; readonly second: ShardSecond }
  | { readonly type: 'report'; readonly report: ShardReport }
  /** `unreachable`: the target could not be reached (a `TargetUnreachableError`), not a fault of the worker. */
  | { readonly type: 'failed'; readonly message: string; readonly unreachable: boolean };

export type WorkerInput = ShardSpec;
