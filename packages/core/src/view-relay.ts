/**
 * The parent's side of the server view across a thread or process boundary: `ViewRelay`
 * answers each thread's or child's INFO and /metrics from the parent's own view, and asks it
 * for its counters, waiting STATS_TIMEOUT_MS at most (a timer: this half is not sans-IO).
 */
import type { ServerView, ViewFromParent, ViewToParent } from './server-view.js';
import type { StatsSnapshot } from './stats.js';

/** How long a parent waits for a thread's or child's counters (it may be busy in WORK) before using the last ones it sent. */
export const STATS_TIMEOUT_MS = 2_000;

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
