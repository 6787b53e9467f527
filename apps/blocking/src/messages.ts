/**
 * What crosses a handler thread's port (the socket's bytes never do: the thread reads and
 * writes its fd itself): control and chat. Each side sends arrays of these, one batch per
 * turn, because a thread hop costs more than the messages in it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { HubCall, HubEvent, SessionLimits, StatsSnapshot, ViewFromParent, ViewToParent } from '@echoplex/core';

/** Main thread -> handler thread. */
export type ToThread =
  /**
   * Serve this connection: `fd` is its socket's, which the main thread accepted and never read
   * (libuv still owns it and closes it once the thread says 'close'). `acceptedAt` (ms since the
   * epoch: threads have clocks of their own) starts its idle clock, so neither its wait nor
   * this thread's start-up is free time for a slow client.
   */
  | { readonly kind: 'serve'; readonly id: number; readonly fd: number; readonly acceptedAt: number }
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
  /** The handler closed its socket: the fd is the main thread's again, to send `tail`, then FIN, linger and close. */
  | { readonly kind: 'close'; readonly tail: Uint8Array }
  /** The thread took pushes off its port while every socket's reading is held: time to look again. */
  | { readonly kind: 'pushes-taken' }
  /** The thread loaded its code and waits for its first connection (what --prestart waits for at boot). */
  | { readonly kind: 'ready' }
  /** The handler returned: the thread is free for the next connection. */
  | { readonly kind: 'idle'; readonly snapshot: StatsSnapshot };

/** A thread's start-up data. */
export interface ThreadData {
  /** Both directions of messages; the thread reads its end synchronously. */
  readonly port: MessagePort;
  /** An eventfd the thread polls beside its socket: the main thread rings it after posting. */
  readonly wakeFd: number;
  /** ThreadControl's words. */
  readonly control: SharedArrayBuffer;
  readonly limits: SessionLimits;
  /** Test only: a handler that receives FAULT_BYTES throws, killing its thread. */
  readonly injectFaults: boolean;
}

/** With `--inject-faults`, a chunk holding these bytes makes its handler thread throw. */
export const FAULT_BYTES = Buffer.from('CRASH-THREAD');
