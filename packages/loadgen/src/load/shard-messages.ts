/** The messages between the thread that runs a load and the worker threads that hold its shards. */
import type { ShardReport, ShardSecond, ShardSpec } from './shard.js';

export type ToWorker = { readonly type: 'start'; readonly startEpochMs: number } | { readonly type: 'abort' };

export type FromWorker =
  | { readonly type: 'connected' }
  | { readonly type: 'second'; readonly second: ShardSecond }
  | { readonly type: 'report'; readonly report: ShardReport }
  | { readonly type: 'failed'; readonly message: string };

export type WorkerInput = ShardSpec;
