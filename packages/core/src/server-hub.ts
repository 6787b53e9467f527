/**
 * The hub a server's flags name, with what INFO, /metrics and the connection ids need from
 * it: the in-process LocalHub, or with `--hub` a RedisHub shared with every server on that
 * Redis. Each model opens it once, where its authority lives (the loop, the main thread, the parent).
 */
import { hostname } from 'node:os';
import { LocalHub } from './local-hub.js';
import type { Logger } from './logger.js';
import type { HubCounters } from './metrics.js';
import { RedisHub } from './redis-hub.js';

export interface ServerHub {
  readonly hub: LocalHub | RedisHub;
  /** INFO's `hub`: `"local"`, or the Redis URL without credentials. */
  readonly name: string;
  /** INFO's `node`: this server among those sharing the hub. */
  readonly node: string;
  /** Where this server's connection ids start, so ids and guest nicks are unique across every server on the hub. */
  readonly firstConnectionId: number;
  /** Rooms with members on this server. */
  roomCount(): number;
  /** Redis went away or came back (never, without `--hub`): a model with a HubRelay calls `relay.availabilityChanged()`. */
  onAvailabilityChange(listener: () => void): void;
  /** For /metrics; undefined without `--hub`. */
  counters(): HubCounters | undefined;
  /** After the drain: members' releases reach Redis before the process exits. */
  close(): Promise<void>;
}

/** Opens the hub `--hub` names (waiting up to 10 s for Redis, else `HubUnreachableError`), or a LocalHub without it. */
export async function openHub(hubUrl: string | undefined, logger: Logger): Promise<ServerHub> {
  if (hubUrl === undefined) {
    const hub = new LocalHub();
    return {
      hub,
      name: 'local',
      node: `${hostname()}/${process.pid}`,
      firstConnectionId: 1,
      roomCount: () => hub.roomCount,
      onAvailabilityChange: () => undefined,
      counters: () => undefined,
      close: async () => undefined,
    };
  }
  const hub = await RedisHub.open({ url: hubUrl, logger });
  return {
    hub,
    name: hub.name,
    node: hub.node,
    firstConnectionId: hub.firstConnectionId,
    roomCount: () => hub.roomCount,
    onAvailabilityChange: (listener) => hub.onAvailabilityChange(listener),
    counters: () => hub.counters,
    close: () => hub.close(),
  };
}
