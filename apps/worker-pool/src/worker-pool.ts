/**
 * The pool as the main thread sees it: a fixed number of worker slots, the assignment
 * of each new connection to one of them, and the replacement of a worker that dies,
 * closing only the connections it owned.
 */
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  emptyKeepingCapacity,
  HUB_BATCH_BYTES,
  type HubCall,
  type HubChannel,
  type HubEvent,
  type HubRelay,
  hubEventBytes,
  hubEventMemberBytes,
  isViewMessage,
  pushWindowHolds,
  RetiredStats,
  type ServerView,
  type StatsSnapshot,
} from '@echoplex/core';
import { OpenSockets, type ViewChannel, ViewRelay } from '@echoplex/core/node';
import type { Logger } from '@echoplex/core/server';
import type { FromWorker, ToWorker, ToWorkerPart, WorkerSetup } from './messages.js';
import { Op, RecordBatch, readRecords } from './records.js';
import { type ReadHold, type RecordSink, RelayedSocket } from './relayed-socket.js';

/** One live worker thread in a slot, and the connections it owns. */
class PoolWorker implements RecordSink {
  readonly thread: Worker;
  readonly channel: HubChannel;
  /** INFO, /metrics and its counters across the port. */
  readonly view: ViewChannel;
  readonly connections = new Map<number, RelayedSocket>();
  /** Connections served now: not busy, not closing. */
  readonly serving = new Set<RelayedSocket>();
  /** The worker loaded its code and listens: if it dies before that, a replacement would too. */
  ready = false;
  dead = false;
  /** Push bytes sent to the worker whose output has not come back yet (PUSH_WINDOW). */
  pushesInFlight = 0;
  private readonly outgoing = new RecordBatch();
  /** This turn's records and hub events so far, in order; the records being gathered now are in `outgoing`. */
  private readonly parts: ToWorkerPart[] = [];
  private readonly transfer: ArrayBuffer[] = [];
  /** Pushes per member in this turn's events (hubEventMemberBytes): at HUB_BATCH_BYTES the message goes at once. */
  private eventsBytes = 0;
  private flushScheduled = false;

  constructor(
    readonly setup: WorkerSetup,
    private readonly relay: HubRelay,
    view: ViewRelay,
    private readonly logger: Logger,
    private readonly onPushes: () => void,
  ) {
    this.thread = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
    this.channel = relay.connect((event) => {
      const bytes = hubEventBytes(event);
      this.queueEvent(event);
      if (bytes === 0 || this.dead) return;
      this.pushesInFlight += bytes;
      this.onPushes();
    });
    this.view = view.connect((message) => this.post(message));
    this.thread.on('message', (message: FromWorker) => this.onMessage(message));
  }

  send(op: Op, id: number, value = 0): void {
    if (this.dead) return;
    this.outgoing.add(op, id, value);
    this.scheduleFlush();
  }

  sendData(id: number, bytes: Buffer): void {
    if (this.dead) return;
    this.outgoing.addData(id, bytes);
    this.scheduleFlush();
  }

  /** Any other message goes after this turn's records and events: the worker sees one order of events. */
  post(message: ToWorker): void {
    if (this.dead) return;
    this.flush();
    this.thread.postMessage(message);
  }

  /** A hub event joins this turn's message, after the records gathered before it. */
  private queueEvent(event: HubEvent): void {
    if (this.dead) return;
    this.closeRecords();
    this.parts.push(event);
    this.eventsBytes += hubEventMemberBytes(event);
    if (this.eventsBytes >= HUB_BATCH_BYTES) this.flush();
    else this.scheduleFlush();
  }

  private closeRecords(): void {
    if (this.outgoing.isEmpty) return;
    const packed = this.outgoing.take();
    this.parts.push(packed);
    this.transfer.push(packed);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the poll phase: every socket read in this turn of the loop rides in one message.
    setImmediate(() => this.flush());
  }

  /** One postMessage for the whole turn (it is cloned at once, so the lists are reused). */
  private flush(): void {
    this.flushScheduled = false;
    this.eventsBytes = 0;
    if (this.dead) return;
    this.closeRecords();
    if (this.parts.length === 0) return;
    this.thread.postMessage({ kind: 'turn', parts: this.parts } satisfies ToWorker, this.transfer);
    emptyKeepingCapacity(this.parts);
    emptyKeepingCapacity(this.transfer);
  }

  private readonly onRecord = (op: Op, id: number, value: number, payload: Buffer | undefined): void => {
    if (op !== Op.TAKEN) return this.connections.get(id)?.receive(op, value, payload);
    this.pushesInFlight -= value;
    this.onPushes();
  };

  private handleCalls(calls: readonly HubCall[]): void {
    try {
      this.relay.handleAll(this.channel, calls);
    } catch (error) {
      // A hub call the authority cannot apply is a bug, but it must not take the whole server down.
      this.logger.error({ err: error, calls, worker: this.setup.index }, 'hub call failed');
    }
  }

  private onMessage(message: FromWorker): void {
    if (isViewMessage(message)) return this.view.receive(message);
    switch (message.kind) {
      case 'ready':
        this.ready = true;
        return;
      case 'turn':
        for (const part of message.parts) {
          if (part instanceof ArrayBuffer) readRecords(part, this.onRecord);
          else this.handleCalls(part);
        }
        return;
    }
  }
}

/**
 * Assignment is least-connections, ties broken round-robin: connections live from
 * milliseconds (HTTP) to hours (chat), so counting turns would drift, while the live
 * count is known here for free; and a replaced worker, starting empty, is refilled first.
 */
export class WorkerPool {
  private readonly slots: PoolWorker[] = [];
  private readonly open = new OpenSockets<RelayedSocket>((connection) => connection.socket.destroy());
  private rotation = 0;
  private stopping = false;
  /** Counters of workers that died, as last reported, so totals do not go backwards. */
  private readonly retired = new RetiredStats();
  private readonly view: ViewRelay;
  /** Every socket's reading, held while a worker has over PUSH_WINDOW of pushes in flight. */
  private readonly hold: { held: boolean } = { held: false };

  constructor(
    size: number,
    private readonly setup: (index: number) => WorkerSetup,
    private readonly relay: HubRelay,
    server: ServerView,
    private readonly logger: Logger,
  ) {
    this.view = new ViewRelay(server);
    for (let index = 0; index < size; index++) this.slots.push(this.start(index));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Connections served now across the pool (closing and busy ones do not count). */
  get connections(): number {
    let total = 0;
    for (const worker of this.slots) total += worker.serving.size;
    return total;
  }

  /** Connections served now by each worker, by slot. */
  connectionsByWorker(): number[] {
    return this.slots.map((worker) => worker.serving.size);
  }

  /** Hands a socket to the least loaded worker for its whole life. */
  serve(socket: Socket, id: number, busy: boolean): void {
    const worker = this.leastLoaded();
    const connection = new RelayedSocket(
      socket,
      id,
      busy,
      worker,
      this.hold satisfies ReadHold,
      (released) => worker.serving.delete(released),
      (gone) => {
        worker.connections.delete(gone.id);
        this.open.delete(gone);
      },
    );
    worker.connections.set(id, connection);
    this.open.add(connection);
    if (!busy) worker.serving.add(connection);
  }

  /** Every worker's counters, summed with those of workers that died. */
  async stats(): Promise<StatsSnapshot> {
    return this.retired.plus(await Promise.all(this.slots.map((worker) => worker.view.stats())));
  }

  /** Shuts every session down in every worker; resolves once all sockets closed or `drainTimeoutMs` passed. */
  async drain(drainTimeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const worker of this.slots) worker.post({ kind: 'shutdown' });
    await this.open.drain(drainTimeoutMs);
    await Promise.all(this.slots.map((worker) => worker.thread.terminate()));
  }

  private leastLoaded(): PoolWorker {
    const count = this.slots.length;
    let best = this.slots[this.rotation % count] as PoolWorker;
    for (let step = 1; step < count; step++) {
      const candidate = this.slots[(this.rotation + step) % count] as PoolWorker;
      if (candidate.serving.size < best.serving.size) best = candidate;
    }
    this.rotation = (this.rotation + 1) % count;
    return best;
  }

  /** Holds every socket's reading once a worker is over PUSH_WINDOW, releases it once all are under half. */
  private pushesChanged(): void {
    let most = 0;
    for (const worker of this.slots) if (!worker.dead) most = Math.max(most, worker.pushesInFlight);
    const held = pushWindowHolds(this.hold.held, most);
    if (held === this.hold.held) return;
    this.hold.held = held;
    for (const connection of this.open) connection.holdChanged();
  }

  private start(index: number): PoolWorker {
    const worker = new PoolWorker(this.setup(index), this.relay, this.view, this.logger, () => this.pushesChanged());
    worker.thread.on('error', (error) => this.logger.error({ err: error, worker: index }, 'worker crashed'));
    worker.thread.on('exit', (code) => this.replace(worker, code));
    return worker;
  }

  /** A worker exited: its connections close, its members leave their rooms, and a new worker takes the slot. */
  private replace(worker: PoolWorker, code: number): void {
    worker.dead = true;
    worker.view.close();
    // Its pushes in flight will never come back: they no longer hold anyone.
    this.pushesChanged();
    this.retired.add(worker.view.lastSnapshot);
    for (const connection of worker.connections.values()) connection.orphan();
    this.relay.disconnect(worker.channel);
    if (this.stopping) return;
    const index = worker.setup.index;
    if (!worker.ready) {
      // It died before running any of our code: a new one would too. Better to stop than to spin.
      this.logger.fatal({ worker: index, code }, 'worker failed to start');
      process.exit(1);
    }
    this.logger.warn({ worker: index, code, closed: worker.connections.size }, 'worker exited; starting a replacement');
    this.slots[index] = this.start(index);
  }
}
