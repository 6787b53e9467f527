/**
 * Everything the parent and a child say to each other over the IPC channel: plain
 * data (JSON), so the protocol between processes reads as two small unions.
 */
import type { HubCall, HubEvent, SessionLimits, StatsSnapshot, ViewFromParent, ViewToParent } from '@echoplex/core';

/** What a child is told at fork time (its one argv argument, as JSON). */
export interface ChildConfig {
  readonly limits: SessionLimits;
  /** How long a child told to stop by a signal of its own drains. */
  readonly drainTimeoutMs: number;
  /** per-connection mode: serve one connection, then exit. */
  readonly once: boolean;
}

/** Parent to child. A `connection` message carries the accepted socket as its handle. */
export type ToChild =
  /** `waitedMs`: how long it waited for a child, which counts against its idle timeout. */
  | { readonly kind: 'connection'; readonly id: number; readonly busy: boolean; readonly waitedMs: number }
  /** One turn's hub events for this child's members, in order (at most HUB_BATCH_BYTES of pushes per member). */
  | { readonly kind: 'hub'; readonly events: readonly HubEvent[] }
  /** INFO and /metrics answered, or counters asked for: core's server-view messages. */
  | ViewFromParent
  | { readonly kind: 'drain'; readonly timeoutMs: number }
  /** The parent's channel to some child is backed up: stop reading your sockets until 'release'. */
  | { readonly kind: 'hold' }
  | { readonly kind: 'release' };

/** Child to parent. */
export type ToParent =
  | { readonly kind: 'ready' }
  /** The hub calls of one turn, in order. */
  | { readonly kind: 'hub'; readonly calls: readonly HubCall[] }
  /** The connection is closing or gone: it no longer counts against --max-connections. */
  | { readonly kind: 'released'; readonly id: number }
  /** INFO and /metrics asked, or counters sent: core's server-view messages. */
  | ViewToParent
  /** Sent last before a clean exit, so the parent keeps the child's counters. */
  | { readonly kind: 'exiting'; readonly snapshot: StatsSnapshot };

const hasKind = (message: unknown): message is { kind: string } =>
  typeof message === 'object' && message !== null && typeof (message as { kind?: unknown }).kind === 'string';

const TO_CHILD_KINDS = new Set(['connection', 'hub', 'info', 'metrics', 'stats', 'drain', 'hold', 'release']);
const TO_PARENT_KINDS = new Set(['ready', 'hub', 'released', 'info', 'metrics', 'stats', 'exiting']);

export const isToChild = (message: unknown): message is ToChild => hasKind(message) && TO_CHILD_KINDS.has(message.kind);
export const isToParent = (message: unknown): message is ToParent => hasKind(message) && TO_PARENT_KINDS.has(message.kind);
