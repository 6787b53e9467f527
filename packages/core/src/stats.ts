/**
 * Plain counters kept by every session: cheap to bump on the hot path, and a snapshot
 * is a plain object that crosses threads and processes to be summed for /metrics.
 */
import type { Dialect, ErrorCode } from '@echoplex/protocol';

/** The command label of `echoplex_requests_total`: protocol commands, HTTP routes, and UNKNOWN. */
export type CommandLabel = string;

export interface StatsSnapshot {
  connectionsAccepted: number;
  bytesReceived: number;
  bytesSent: number;
  pushedMessages: number;
  /** Pushes encoded: once per push and dialect on a thread, however many members it reaches. */
  pushEncodings: number;
  /** UDP (`--udp`): datagrams received, replies sent, and datagrams left unanswered (empty, or the reply not sent). */
  datagramsReceived: number;
  datagramsSent: number;
  datagramsDropped: number;
  /** `requests[dialect][command]` */
  requests: Record<Dialect, Record<CommandLabel, number>>;
  errors: Partial<Record<ErrorCode, number>>;
}

export class ServerStats implements StatsSnapshot {
  connectionsAccepted = 0;
  bytesReceived = 0;
  bytesSent = 0;
  pushedMessages = 0;
  pushEncodings = 0;
  datagramsReceived = 0;
  datagramsSent = 0;
  datagramsDropped = 0;
  requests: Record<Dialect, Record<CommandLabel, number>> = { binary: {}, text: {}, http: {} };
  errors: Partial<Record<ErrorCode, number>> = {};

  countRequest(dialect: Dialect, command: CommandLabel): void {
    const byCommand = this.requests[dialect];
    byCommand[command] = (byCommand[command] ?? 0) + 1;
  }

  countError(code: ErrorCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot(): StatsSnapshot {
    return {
      connectionsAccepted: this.connectionsAccepted,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      pushedMessages: this.pushedMessages,
      pushEncodings: this.pushEncodings,
      datagramsReceived: this.datagramsReceived,
      datagramsSent: this.datagramsSent,
      datagramsDropped: this.datagramsDropped,
      requests: { binary: { ...this.requests.binary }, text: { ...this.requests.text }, http: { ...this.requests.http } },
      errors: { ...this.errors },
    };
  }
}

/** Sums snapshots from several threads or processes into one (undefined: one that has sent none, or is gone). */
export function sumSnapshots(snapshots: readonly (StatsSnapshot | undefined)[]): StatsSnapshot {
  const total = new ServerStats();
  for (const part of snapshots) {
    if (part === undefined) continue;
    total.connectionsAccepted += part.connectionsAccepted;
    total.bytesReceived += part.bytesReceived;
    total.bytesSent += part.bytesSent;
    total.pushedMessages += part.pushedMessages;
    total.pushEncodings += part.pushEncodings;
    total.datagramsReceived += part.datagramsReceived;
    total.datagramsSent += part.datagramsSent;
    total.datagramsDropped += part.datagramsDropped;
    for (const dialect of ['binary', 'text', 'http'] as const) {
      for (const [command, count] of Object.entries(part.requests[dialect])) {
        total.requests[dialect][command] = (total.requests[dialect][command] ?? 0) + count;
      }
    }
    for (const [code, count] of Object.entries(part.errors) as [keyof StatsSnapshot['errors'], number][]) {
      total.errors[code] = (total.errors[code] ?? 0) + count;
    }
  }
  return total.snapshot();
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
