/**
 * What crosses a handler thread's port, besides the bytes in shared memory: control and
 * chat. Each side sends arrays of these, one batch per turn, because a thread hop costs
 * more than the messages in it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { HubCall, HubEvent, SessionLimits, StatsSnapshot, ViewFromParent, ViewToParent } from '@echoplex/core';
import type { FifoEnds } from './kernel/fifo.js';

/** Main thread -> handler thread. */
export type ToThread =
  /**
   * Serve this connection: its bytes are in the thread's buffers. `acceptedAt` (ms since the
   * epoch: threads have clocks of their own) starts its idle clock, so neither its wait nor
   * this thread's start-up is free time for a slow client.
   */
  | { readonly kind: 'serve'; readonly id: number; readonly acceptedAt: number }
  | { readonly kind: 'hub'; readonly event: HubEvent }
  | { readonly kind: 'shutdown' }
  /** INFO and /metrics answered, or counters asked for: core's server-view messages. */
  | ViewFromParent
  /** Idle too long: end the thread. */
  | { readonly kind: 'retire' };

/** Handler thread -> main thread. */
export type FromThread =
  | { readonly kind: 'hub'; readonly call: HubCall }
  /** INFO and /metrics asked, or counters sent: core's server-view messages. */
  | ViewToParent
  /** The handler closed its socket: send what is in the ring, then `tail`, then FIN. */
  | { readonly kind: 'close'; readonly tail: Uint8Array }
  /** The thread loaded its code and waits for its first connection (what --prestart waits for at boot). */
  | { readonly kind: 'ready' }
  /** The handler returned: the thread is free for the next connection. */
  | { readonly kind: 'idle'; readonly snapshot: StatsSnapshot };

/** A thread's start-up data. */
export interface ThreadData {
  /** Both directions of messages; the thread reads its end synchronously. */
  readonly port: MessagePort;
  /** The thread's bit in the doorbell. */
  readonly slot: number;
  readonly buffers: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer;
  /** 'fifo' wake mode: the thread's FIFO (it sleeps reading it) and the main thread's (it rings it). */
  readonly fifo: FifoEnds | undefined;
  readonly doorbellFifo: FifoEnds | undefined;
  /** The main thread's performance.timeOrigin: a sleep's deadline is told in the main thread's clock. */
  readonly clockOrigin: number;
  readonly limits: SessionLimits;
  /** Test only: a handler that receives FAULT_BYTES throws, killing its thread. */
  readonly injectFaults: boolean;
}

/** With `--inject-faults`, a chunk holding these bytes makes its handler thread throw. */
export const FAULT_BYTES = Buffer.from('CRASH-THREAD');
