/**
 * What both modes share in the parent: the live children, the sockets waiting for
 * one, the server-wide connection count, the counters of children gone, and the drain.
 * The two modes differ only in when a child is forked and which child gets a socket.
 */
import type { Socket } from 'node:net';
import { type Logger, ServerStats, type StatsSnapshot, sumSnapshots } from '@echoplex/core';
import { type ChildExit, ForkedChild, type ParentServices } from './forked-child.js';
import type { ChildConfig } from './ipc.js';

/** Children get this much less than --drain-timeout, so they close their own sockets before the parent's deadline. */
const DRAIN_MARGIN_MS = 200;

export interface PoolOptions {
  readonly child: ChildConfig;
  readonly services: ParentServices;
  readonly maxConnections: number;
  readonly logger: Logger;
}

/** An accepted socket not yet handed to a child, with the id the parent gave it. */
export interface WaitingSocket {
  readonly socket: Socket;
  readonly id: number;
}

export abstract class ChildPool {
  protected readonly children = new Set<ForkedChild>();
  protected readonly waiting: WaitingSocket[] = [];
  protected stopping = false;
  private retired: StatsSnapshot = new ServerStats().snapshot();

  constructor(protected readonly options: PoolOptions) {}

  /** Forks what must exist before the server listens. */
  abstract start(): Promise<void>;

  /** A socket the parent accepted (unread, paused) under its server-wide id. */
  abstract accept(socket: Socket, id: number): void;

  /** A child ended: the mode decides what comes next. */
  protected abstract childExited(child: ForkedChild, exit: ChildExit): void;

  /** The whole server's connections being served: the parent counts them for every child. */
  get connections(): number {
    let total = 0;
    for (const child of this.children) total += child.connections;
    return total;
  }

  /** Accepted connections still waiting for a child. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  get liveChildren(): readonly ForkedChild[] {
    return [...this.children];
  }

  /** Over --max-connections: the child answers the first request BUSY and closes. */
  protected isBusy(starting = 0): boolean {
    return this.connections + starting >= this.options.maxConnections;
  }

  /** Every child's counters, plus those of children gone, summed. */
  async stats(): Promise<StatsSnapshot> {
    const snapshots = await Promise.all(this.liveChildren.map((child) => child.stats()));
    // Read after the await: a child that exited meanwhile answered undefined and is in `retired`.
    return sumSnapshots([this.retired, ...snapshots.filter((snapshot) => snapshot !== undefined)]);
  }

  protected fork(): ForkedChild {
    const child = new ForkedChild(this.options.child, this.options.services);
    this.children.add(child);
    void child.exited.then((exit) => {
      this.children.delete(child);
      this.retired = sumSnapshots([this.retired, exit.stats]);
      if (!this.stopping && (exit.code !== 0 || exit.signal !== null)) {
        this.options.logger.warn({ child: child.pid, code: exit.code, signal: exit.signal }, 'child died');
      }
      this.childExited(child, exit);
    });
    return child;
  }

  /** Stops handing out sockets, tells every child to drain, and kills what is left at the deadline. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    // Waiting sockets have sent nothing the server read: their dialect is unknown, so they just close.
    for (const { socket } of this.waiting.splice(0)) socket.destroy();
    const children = this.liveChildren;
    for (const child of children) child.drain(Math.max(0, timeoutMs - DRAIN_MARGIN_MS));
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(children.map((child) => child.exited)),
      new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(deadline);
    for (const child of this.children) child.kill();
  }
}
