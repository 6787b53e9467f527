/**
 * One child process as the parent sees it: sockets handed to it, its hub channel, the
 * connections it serves (the parent counts them), its counters on demand, and its end.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import {
  HUB_BATCH_BYTES,
  type HubChannel,
  type HubEvent,
  type HubRelay,
  hubEventMemberBytes,
  isViewMessage,
  ServerStats,
  type ServerView,
  type StatsSnapshot,
} from '@echoplex/core';
import type { ViewChannel, ViewRelay } from '@echoplex/core/node';
import { type ChildConfig, isToParent, type ToChild, type ToParent } from './ipc.js';

const CHILD_ENTRY = new URL('./child.js', import.meta.url);

/**
 * A child's V8 semi-space cap, in MiB (V8's own default on 64 bits: 16). Under a stream of
 * large SAYs V8 grows a heap's young generation to its cap (2 x 16 MiB committed, kept after),
 * and here two heaps churn the same bytes, the sender's child and the parent: a fast sender
 * grew prefork's tree by 66-72 MiB, 30 of them in the child's new space. Capped at 4, the child
 * adds ~10 (docs/reliability.md, with the bench A/B that found no throughput cost).
 */
const CHILD_SEMI_SPACE_MIB = 4;

/** The parent's Node flags, plus the semi-space cap unless the operator set one of their own. */
function childExecArgv(parentExecArgv: readonly string[]): string[] {
  const own = parentExecArgv.some((flag) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(flag));
  return own ? [...parentExecArgv] : [...parentExecArgv, `--max-semi-space-size=${CHILD_SEMI_SPACE_MIB}`];
}

/** What a child may ask of the parent: the hub authority and the whole server's numbers. */
export interface ParentServices {
  readonly relay: HubRelay;
  readonly view: ServerView;
}

/** How a child ended, with its last counters (complete when it exited cleanly). */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stats: StatsSnapshot;
}

export class ForkedChild {
  readonly pid: number;
  /** Resolves once the child listens for sockets and hub events. */
  readonly ready: Promise<void>;
  /** Resolves once the child is gone, its hub members detached. */
  readonly exited: Promise<ChildExit>;
  private isReady = false;
  private wasReady = false;
  private alive = true;
  /** Connections served here that count against --max-connections: not busy, not released. */
  private readonly counted = new Set<number>();
  private readonly process: ChildProcess;
  private readonly channel: HubChannel;
  private readonly view: ViewChannel;
  /** The channel to the child backed up (a send returned false), until every message sent is written. */
  private backlogged = false;
  /** Messages sent and not yet written to the channel. */
  private unwritten = 0;
  /** This turn's hub events for the child: they cross in one message, however many calls from other children made them. */
  private events: HubEvent[] = [];
  private eventsBytes = 0;
  private eventsQueued = false;
  private readonly sendEvents = (): void => {
    this.eventsQueued = false;
    this.eventsBytes = 0;
    const events = this.events;
    if (events.length === 0) return;
    // A fresh list each time: while a socket handed over is not yet acknowledged, Node queues messages unserialized.
    this.events = [];
    this.sendNow({ kind: 'hub', events });
  };

  constructor(
    config: ChildConfig,
    private readonly relay: HubRelay,
    view: ViewRelay,
    /** The channel to the child backed up, or drained: while one is, the pool has every child hold reading. */
    private readonly onBacklog: (child: ForkedChild, backlogged: boolean) => void,
  ) {
    this.process = fork(CHILD_ENTRY, [JSON.stringify(config)], { serialization: 'json', execArgv: childExecArgv(process.execArgv) });
    this.pid = this.process.pid ?? -1;
    this.channel = relay.connect((event) => this.queueEvent(event));
    this.view = view.connect((message) => this.send(message));
    // A send to a child that just died fails here; its 'close' does the cleanup.
    this.process.on('error', () => {});
    this.ready = new Promise((resolve) => {
      this.process.on('message', (message: unknown) => {
        if (!isToParent(message)) return;
        if (message.kind === 'ready') {
          this.isReady = true;
          this.wasReady = true;
          resolve();
        } else {
          this.handle(message);
        }
      });
    });
    // 'close' comes after the exit and after the last message was read off the channel.
    this.exited = new Promise((resolve) => {
      this.process.once('close', (code, signal) => {
        this.alive = false;
        this.isReady = false;
        relay.disconnect(this.channel);
        this.counted.clear();
        this.view.close();
        resolve({ code, signal, stats: this.view.lastSnapshot ?? new ServerStats().snapshot() });
      });
    });
  }

  /** Ready for sockets and not gone. */
  get serving(): boolean {
    return this.isReady && this.alive;
  }

  /** Whether it ever got ready: one that dies before is broken, not unlucky. */
  get startedUp(): boolean {
    return this.wasReady;
  }

  /** Connections this child serves now, as the parent counts them. */
  get connections(): number {
    return this.counted.size;
  }

  /** Hands an accepted, unread socket over (it waited `waitedMs` for a child); the parent's copy closes once the child has it. */
  serve(socket: Socket, id: number, busy: boolean, waitedMs: number): void {
    if (!this.alive) {
      socket.destroy();
      return;
    }
    if (!busy) this.counted.add(id);
    this.sendEvents();
    const message: ToChild = { kind: 'connection', id, busy, waitedMs };
    this.process.send(message, socket, { keepOpen: false }, (error) => {
      if (error === null) return;
      this.counted.delete(id);
      socket.destroy();
    });
  }

  /** The child's counters now; `undefined` if it exited meanwhile (its last ones are in its exit). */
  stats(): Promise<StatsSnapshot | undefined> {
    return this.view.stats();
  }

  /** Asks the child to finish its requests, say SHUTTING_DOWN, and exit. */
  drain(timeoutMs: number): void {
    this.send({ kind: 'drain', timeoutMs });
  }

  /** Stop reading your sockets (on), or read them again: another child's channel is backed up, or none is now. */
  holdReading(on: boolean): void {
    this.send({ kind: on ? 'hold' : 'release' });
  }

  kill(): void {
    if (this.alive) this.process.kill('SIGKILL');
  }

  private handle(message: Exclude<ToParent, { kind: 'ready' }>): void {
    if (isViewMessage(message)) return this.view.receive(message);
    switch (message.kind) {
      case 'hub':
        this.relay.handleAll(this.channel, message.calls);
        break;
      case 'released':
        this.counted.delete(message.id);
        break;
      case 'exiting':
        this.view.lastSnapshot = message.snapshot;
        break;
    }
  }

  /** A hub event joins this turn's message; no more than HUB_BATCH_BYTES of pushes per member wait in it (one write's worth in the child). */
  private queueEvent(event: HubEvent): void {
    if (!this.alive) return;
    this.events.push(event);
    this.eventsBytes += hubEventMemberBytes(event);
    if (this.eventsBytes >= HUB_BATCH_BYTES) return this.sendEvents();
    if (this.eventsQueued) return;
    this.eventsQueued = true;
    setImmediate(this.sendEvents);
  }

  /** Any other message goes after this turn's hub events: the child sees one order. */
  private send(message: ToChild): void {
    this.sendEvents();
    this.sendNow(message);
  }

  /**
   * Pushes for a room come as fast as any member anywhere sends: when the child reads them
   * slower (false: Node's queue for the channel is over its mark), the senders are held until
   * the queue is empty again, so it stays bounded (and holds do not flap at the mark).
   */
  private sendNow(message: ToChild): void {
    if (!this.alive || !this.process.connected) return;
    this.unwritten += 1;
    const flowing = this.process.send(message, undefined, undefined, () => {
      this.unwritten -= 1;
      if (this.unwritten > 0 || !this.backlogged) return;
      this.backlogged = false;
      this.onBacklog(this, false);
    });
    if (!flowing && !this.backlogged) {
      this.backlogged = true;
      this.onBacklog(this, true);
    }
  }
}
