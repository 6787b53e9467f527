/**
 * What a session may ask about the whole server (INFO, /metrics), and the messages that carry
 * the same questions across a thread or process boundary: `RemoteView` in a thread or child
 * asks (its parent's `ViewRelay`, in view-relay.ts, answers), as RemoteHub and HubRelay do for chat.
 * The messages are plain data, so they survive structured clone and JSON alike.
 */
import type { ServerInfo } from '@echoplex/protocol';
import type { StatsSnapshot } from './stats.js';

export type { ServerInfo };

export interface ServerView {
  /** The server-wide INFO. */
  info(done: (info: ServerInfo) => void): void;
  /** The server-wide /metrics text. */
  metrics(done: (text: string) => void): void;
}

/** A thread or child to its parent: a numbered question, or its counters answering `stats`. */
export type ViewToParent =
  | { readonly kind: 'info'; readonly call: number }
  | { readonly kind: 'metrics'; readonly call: number }
  | { readonly kind: 'stats'; readonly call: number; readonly snapshot: StatsSnapshot };

/** A parent to its thread or child: the answer to a question, or a request for its counters. */
export type ViewFromParent =
  | { readonly kind: 'info'; readonly call: number; readonly info: ServerInfo }
  | { readonly kind: 'metrics'; readonly call: number; readonly text: string }
  | { readonly kind: 'stats'; readonly call: number };

const VIEW_KINDS: ReadonlySet<string> = new Set(['info', 'metrics', 'stats']);

/** Whether a message on a thread's port or a child's channel is one of the view's, for `RemoteView` or `ViewChannel` to `receive`. */
export const isViewMessage = <M extends { readonly kind: string }>(
  message: M,
): message is Extract<M, { kind: 'info' | 'metrics' | 'stats' }> => VIEW_KINDS.has(message.kind);

/** The thread or child side: a ServerView whose answers come from the parent. Feed it every `ViewFromParent` through `receive`. */
export class RemoteView implements ServerView {
  private nextCall = 1;
  private readonly infoCalls = new Map<number, (info: ServerInfo) => void>();
  private readonly metricsCalls = new Map<number, (text: string) => void>();

  constructor(
    private readonly send: (message: ViewToParent) => void,
    /** This thread's or child's own counters, sent when the parent asks. */
    private readonly snapshot: () => StatsSnapshot,
  ) {}

  info(done: (info: ServerInfo) => void): void {
    const call = this.nextCall++;
    this.infoCalls.set(call, done);
    this.send({ kind: 'info', call });
  }

  metrics(done: (text: string) => void): void {
    const call = this.nextCall++;
    this.metricsCalls.set(call, done);
    this.send({ kind: 'metrics', call });
  }

  receive(message: ViewFromParent): void {
    switch (message.kind) {
      case 'info': {
        const done = this.infoCalls.get(message.call);
        this.infoCalls.delete(message.call);
        done?.(message.info);
        return;
      }
      case 'metrics': {
        const done = this.metricsCalls.get(message.call);
        this.metricsCalls.delete(message.call);
        done?.(message.text);
        return;
      }
      case 'stats':
        this.send({ kind: 'stats', call: message.call, snapshot: this.snapshot() });
        return;
    }
  }
}
