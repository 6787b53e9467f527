/**
 * What both modes share in the parent: the live children, the sockets waiting for
 * one (at most --max-waiting, each at most --idle-timeout), the server-wide connection
 * count, the counters of children gone, and the drain. The two modes differ only in
 * when a child is forked and which child gets a socket.
 */
import type { Socket } from 'node:net';
import { RetiredStats, type ServerStats, type StatsSnapshot, sessionLimits } from '@echoplex/core';
import { refusePausedSocket, ViewRelay } from '@echoplex/core/node';
import type { Logger, PoolHost } from '@echoplex/core/server';
import { type ChildExit, ForkedChild, type ParentServices } from './forked-child.js';
import type { ChildConfig } from './ipc.js';

/** Children get this much less than --drain-timeout, so they close their own sockets before the parent's deadline. */
const DRAIN_MARGIN_MS = 200;

export interface PoolOptions {
  readonly child: ChildConfig;
  readonly services: ParentServices;
  readonly maxConnections: number;
  /** Sockets that may wait for a child at once; the next one is refused. */
  readonly maxWaiting: number;
  /** How long a socket waits for a child before ERR BUSY (--idle-timeout; 0: no limit). */
  readonly waitTimeoutMs: number;
  /** The parent's counters, where its own refusals count. */
  readonly stats: ServerStats;
  /** Answers the socket's first request ERR BUSY in the parent, and closes it. */
  readonly refuse: (socket: Socket, id: number) => void;
  readonly logger: Logger;
}

/** An accepted socket not yet handed to a child, with the id the parent gave it. */
export interface WaitingSocket {
  readonly socket: Socket;
  readonly id: number;
  /** When it was accepted: its wait counts against its idle timeout once a child has it. */
  readonly acceptedAt: number;
  readonly timer: NodeJS.Timeout | undefined;
}

export abstract class ChildPool {
  protected readonly children = new Set<ForkedChild>();
  protected readonly waiting: WaitingSocket[] = [];
  protected stopping = false;
  /** Sockets the parent is answering itself (BUSY, SHUTTING_DOWN), until they close. */
  private readonly answering = new Set<Promise<void>>();
  /** Counters of children gone, so totals do not go backwards. */
  private readonly retired = new RetiredStats();
  private readonly view: ViewRelay;
  /** Children whose channel from the parent is backed up: while there is one, every child holds reading its sockets. */
  private readonly backlogged = new Set<ForkedChild>();

  constructor(protected readonly options: PoolOptions) {
    this.view = new ViewRelay(options.services.view);
  }

  /** Forks what must exist before the server listens. */
  abstract start(): Promise<void>;

  /** A socket the parent accepted (unread, paused) under its server-wide id. */
  abstract serve(socket: Socket, id: number): void;

  /** A child ended: the mode decides what comes next. */
  protected abstract childExited(child: ForkedChild, exit: ChildExit): void;

  /** What counts against --max-connections: connections children serve (the parent counts them), and those waiting for a child. */
  get connections(): number {
    let total = this.waiting.length;
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

  /** No child for it now: it waits in line (or is refused when the line is full), and gets ERR BUSY if its wait outlasts --idle-timeout. */
  protected wait(socket: Socket, id: number): void {
    if (this.waiting.length >= this.options.maxWaiting || this.isBusy()) return this.options.refuse(socket, id);
    // The parent holds the socket meanwhile: a reset must not reach it as an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    const { waitTimeoutMs } = this.options;
    const timer = waitTimeoutMs === 0 ? undefined : setTimeout(() => this.stopWaiting(entry), waitTimeoutMs);
    const entry: WaitingSocket = { socket, id, acceptedAt: performance.now(), timer };
    this.waiting.push(entry);
  }

  /** The next waiting socket (oldest first), its wait over. */
  protected nextWaiting(): WaitingSocket | undefined {
    const next = this.waiting.shift();
    clearTimeout(next?.timer);
    return next;
  }

  /** Its wait ran out: out of the line, and turned away. */
  private stopWaiting(entry: WaitingSocket): void {
    const index = this.waiting.indexOf(entry);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    this.turnAway(entry);
  }

  /** No child for it in time: read what it sent so far (the parent never did), answer ERR BUSY in that dialect, and close. */
  protected turnAway(entry: WaitingSocket): void {
    clearTimeout(entry.timer);
    this.answerAndClose(entry.socket, 'BUSY', `no child free within ${this.options.waitTimeoutMs / 1000} s`);
  }

  /** Answers a socket no child has taken with one error, in the dialect of what it sent (nothing sent: closed without a word). */
  protected answerAndClose(socket: Socket, code: 'BUSY' | 'SHUTTING_DOWN', message: string): void {
    // The drain waits for these: the parent must not exit before its answer is out.
    const closed = refusePausedSocket(socket, code, message, (counted) => this.options.stats.countError(counted));
    this.answering.add(closed);
    void closed.then(() => this.answering.delete(closed));
  }

  /** Every child's counters, plus those of children gone, summed (the parent's own are the process's, summed beside them). */
  async stats(): Promise<StatsSnapshot> {
    const snapshots = await Promise.all(this.liveChildren.map((child) => child.stats()));
    // Read after the await: a child that exited meanwhile answered undefined and is in `retired`.
    return this.retired.plus(snapshots);
  }

  protected fork(): ForkedChild {
    const child = new ForkedChild(this.options.child, this.options.services.relay, this.view, (which, backlogged) =>
      this.backlogChanged(which, backlogged),
    );
    this.children.add(child);
    if (this.backlogged.size > 0) child.holdReading(true);
    void child.exited.then((exit) => {
      this.backlogChanged(child, false);
      this.children.delete(child);
      this.retired.add(exit.stats);
      if (!this.stopping && (exit.code !== 0 || exit.signal !== null)) {
        this.options.logger.warn({ child: child.pid, code: exit.code, signal: exit.signal }, 'child died');
      }
      this.childExited(child, exit);
    });
    return child;
  }

  /** The first child backed up holds every child's reading; the last one drained releases it. */
  private backlogChanged(child: ForkedChild, backlogged: boolean): void {
    const wasHeld = this.backlogged.size > 0;
    if (backlogged) this.backlogged.add(child);
    else this.backlogged.delete(child);
    const held = this.backlogged.size > 0;
    if (held !== wasHeld) for (const each of this.children) each.holdReading(held);
  }

  /** Stops handing out sockets, tells every child to drain, and kills what is left at the deadline. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    // No child will take a waiting socket now: what it sent is answered SHUTTING_DOWN.
    for (let next = this.nextWaiting(); next !== undefined; next = this.nextWaiting()) {
      this.answerAndClose(next.socket, 'SHUTTING_DOWN', 'the server is shutting down');
    }
    const children = this.liveChildren;
    for (const child of children) child.drain(Math.max(0, timeoutMs - DRAIN_MARGIN_MS));
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      // Sockets answered meanwhile (a fork that came up too late) are waited for too.
      Promise.all(children.map((child) => child.exited)).then(() => Promise.all(this.answering)),
      new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(deadline);
    for (const child of this.children) child.kill();
  }
}

/** A pool's options from the process that runs it (its relay, view, counters, logs and refusals, and the limits its flags set). */
export function poolOptions(server: PoolHost, settings: { readonly once: boolean; readonly maxWaiting: number }): PoolOptions {
  const { config } = server;
  return {
    child: { limits: sessionLimits(config), drainTimeoutMs: config.drainTimeoutMs, once: settings.once },
    services: { relay: server.relay, view: server.view },
    maxConnections: config.maxConnections,
    maxWaiting: settings.maxWaiting,
    waitTimeoutMs: config.idleTimeoutMs,
    stats: server.stats,
    // While no child can take a connection, the parent answers BUSY itself rather than fork a child to refuse it.
    refuse: (socket, id) => server.refuse(socket, id),
    logger: server.logger,
  };
}
