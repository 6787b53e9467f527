/** INFO's fields that every model fills the same way, written once: pid, the hub's rooms and names, uptime, PROTOCOL_VERSION. */
import { PROTOCOL_VERSION, type ServerInfo } from '@echoplex/protocol';
import type { ServerHub } from './server-hub.js';

/** What only the model knows: its name, when it started, and how many threads, processes and connections it has now. */
export interface ServerCounts {
  readonly model: string;
  /** `Date.now()` at start-up, for `uptimeSeconds`. */
  readonly startedAt: number;
  readonly threads: number;
  readonly processes: number;
  readonly connections: number;
}

/** The server-wide INFO: the counts, the hub's fields, then the model's own `extra` fields. */
export function serverInfo(chat: ServerHub, counts: ServerCounts, extra: Readonly<Record<string, unknown>> = {}): ServerInfo {
  return {
    model: counts.model,
    pid: process.pid,
    threads: counts.threads,
    processes: counts.processes,
    connections: counts.connections,
    rooms: chat.roomCount(),
    hub: chat.name,
    node: chat.node,
    uptimeSeconds: Math.round((Date.now() - counts.startedAt) / 1000),
    protocol: PROTOCOL_VERSION,
    ...extra,
  };
}
