/**
 * What a session may ask about the whole server (INFO, /metrics), and the same questions
 * across a thread or process boundary: `RemoteView` in a thread or child asks, `ViewRelay`
 * in its parent answers and collects its counters, as RemoteHub and HubRelay do for chat.
 * The messages are plain data, so they survive structured clone and JSON alike.
 */
import type { ServerInfo } from '@echoplex/protocol';
import { ServerStats, type StatsSnapshot, sumSnapshots } from './stats.js';

export type { ServerInfo };

export interface ServerView {
  /** The server-wide INFO. */
  info(done: (info: ServerInfo) => void): void;
  /** The server-wide /metrics text. */
  metrics(done: (text: string) => void): void;
}

/** How long a parent waits for a thread's or child's counters (it may be busy in WORK) before using the last ones it sent. */
export const STATS_TIMEOUT_MS = 2_000;

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

/** The parent side: answers every thread's or child's questions from the parent's own view; one `ViewChannel` per thread or child. */
export class ViewRelay {
  constructor(private readonly server: ServerView) {}

  connect(send: (message: ViewFromParent) => void): ViewChannel {
    return new ViewChannel(send, this.server);
  }
}

/** One thread or child as its parent's view sees it: its questions answered, its counters asked for. */
export class ViewChannel {
  /** The last counters it sent, standing in for it while it is busy, and once it is gone. */
  lastSnapshot: StatsSnapshot | undefined;
  private nextCall = 1;
  private closed = false;
  private readonly statsCalls = new Map<number, (snapshot: StatsSnapshot | undefined) => void>();

  constructor(
    private readonly send: (message: ViewFromParent) => void,
    private readonly server: ServerView,
  ) {}

  receive(message: ViewToParent): void {
    switch (message.kind) {
      case 'info':
        this.server.info((info) => this.send({ kind: 'info', call: message.call, info }));
        return;
      case 'metrics':
        this.server.metrics((text) => this.send({ kind: 'metrics', call: message.call, text }));
        return;
      case 'stats': {
        this.lastSnapshot = message.snapshot;
        const done = this.statsCalls.get(message.call);
        this.statsCalls.delete(message.call);
        done?.(message.snapshot);
        return;
      }
    }
  }

  /**
   * Its counters now, or the last it sent if it does not answer within STATS_TIMEOUT_MS
   * (undefined if it never sent any); undefined once it is gone: its last counters belong in a RetiredStats then.
   */
  stats(): Promise<StatsSnapshot | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const call = this.nextCall++;
      const timer = setTimeout(() => {
        this.statsCalls.delete(call);
        resolve(this.lastSnapshot);
      }, STATS_TIMEOUT_MS);
      timer.unref();
      this.statsCalls.set(call, (snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      this.send({ kind: 'stats', call });
    });
  }

  /** The thread or child is gone (`last`: the counters it sent on its way out, if any); calls under way get undefined. */
  close(last?: StatsSnapshot): void {
    this.closed = true;
    if (last !== undefined) this.lastSnapshot = last;
    for (const done of this.statsCalls.values()) done(undefined);
    this.statsCalls.clear();
  }
}

/** The counters of threads or children that ended, kept as one sum, so the server's totals never go backwards. */
export class RetiredStats {
  private sum: StatsSnapshot = new ServerStats().snapshot();

  add(snapshot: StatsSnapshot | undefined): void {
    if (snapshot !== undefined) this.sum = sumSnapshots([this.sum, snapshot]);
  }

  /** The retired counters plus those given (the live ones; undefined: a thread that never sent any). */
  plus(snapshots: readonly (StatsSnapshot | undefined)[]): StatsSnapshot {
    return sumSnapshots([this.sum, ...snapshots]);
  }
}
