/**
 * The cached thread pool: one thread per live connection, started on demand, reused when
 * its connection ends, retired after a minute idle, never more than `maxThreads` at once.
 * Connections beyond that wait, accepted but unserved, in arrival order: at most
 * `maxWaiting` of them, each at most --idle-timeout, then ERR BUSY and closed. The pool also
 * answers what threads ask the main thread: hub calls (through the HubRelay), INFO, stats.
 */

import type { Socket } from 'node:net';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  type HubChannel,
  hubEventBytes,
  isViewMessage,
  RetiredStats,
  refusalBytes,
  type StatsSnapshot,
  sessionLimits,
} from '@echoplex/core';
import { OpenSockets, type ViewChannel, ViewRelay } from '@echoplex/core/node';
import type { PoolHost } from '@echoplex/core/server';
import { Doorbell } from './kernel/doorbell.js';
import { type FifoEnds, makeFifos } from './kernel/fifo.js';
import { ConnectionBuffers, WAKE_MODE } from './kernel/shared-buffers.js';
import { SocketPump } from './kernel/socket-pump.js';
import type { FromThread, ThreadData, ToThread } from './messages.js';

/** How long an idle thread is kept for the next connection (Java's cached pool keeps 60 s). */
const KEEP_ALIVE_MS = 60_000;
/**
 * Threads started at once, at boot (--prestart) or for connections: 100 started all at once
 * took 35 s to load, two at a time 13-20 s (a loaded machine); and isolates loading by the
 * dozen starve the main thread, which must keep answering (slowloris: a fresh client got
 * no answer within 1 s while 64 threads started).
 */
const START_LANES = 2;
/** FIFOs made per mkfifo run ('fifo' wake mode). */
const FIFO_BATCH = 16;
/** How often the main thread wakes threads whose recv timed out ('fifo' wake mode): the timeouts' resolution. */
const DEADLINE_SWEEP_MS = 50;
/**
 * Bytes of room pushes posted to one thread and not yet taken off its port: over this, every
 * socket stops being read until each thread is under half (worker-pool's PUSH_WINDOW). A
 * thread busy computing takes none, and a fast sender's pushes would pile up in its port.
 */
export const PUSH_WINDOW = 1024 * 1024;

export interface ThreadPoolOptions {
  readonly maxThreads: number;
  /** Threads kept alive however long they idle: those `prestart()` started (UNP's prethreaded server). */
  readonly minThreads: number;
  /** Connections that may wait for a thread at once; the listener refuses the next one. */
  readonly maxWaiting: number;
  readonly injectFaults: boolean;
}

interface HandlerThread {
  /** As INFO's servedBy says it. */
  readonly name: string;
  /** Its bit in the doorbell. */
  readonly slot: number;
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly buffers: ConnectionBuffers;
  readonly channel: HubChannel;
  /** INFO, /metrics and its counters across the port. */
  readonly view: ViewChannel;
  readonly outbox: ToThread[];
  /** Bytes of pushes posted to it (wrapping int32), against what its buffers say it took. */
  pushesPosted: number;
  /** 'starting': loading its code; it takes the first waiting connection once ready. */
  state: 'starting' | 'busy' | 'idle' | 'retiring';
  pump: SocketPump | undefined;
  retireTimer: NodeJS.Timeout | undefined;
  /** Called once the thread has loaded and waits for a connection. */
  onReady: (() => void) | undefined;
}

const EMPTY = new Uint8Array(0);

export class CachedThreadPool {
  private readonly threads = new Map<number, HandlerThread>();
  /** Most recently freed last: the warmest thread is reused first. */
  private readonly idle: HandlerThread[] = [];
  private readonly waiting: SocketPump[] = [];
  /** Each waiting connection's deadline: --idle-timeout after it was accepted. */
  private readonly waitTimers = new Map<SocketPump, NodeJS.Timeout>();
  private readonly open = new OpenSockets<SocketPump>((pump) => pump.destroy());
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  /** Threads started for the waiting line and not ready yet. */
  private starting = 0;
  /** Connections a thread serves that it has not closed yet. */
  private serving = 0;
  private readonly doorbell: Doorbell;
  private readonly dirty = new Set<HandlerThread>();
  private readonly toWake = new Set<ConnectionBuffers>();
  /** Counters of threads that ended. */
  private readonly retired = new RetiredStats();
  private readonly view: ViewRelay;
  private shuttingDown = false;
  /** Every socket's reading is held: a thread has over PUSH_WINDOW of pushes waiting. */
  private holding = false;
  /** Each slot's FIFO ('fifo' wake mode), kept for the slot's next thread. */
  private readonly slotFifos: FifoEnds[] = [];

  constructor(
    /** The main thread's process: limits, counters (a waiting connection turned away counts BUSY there), relay, logs, view. */
    private readonly host: PoolHost,
    private readonly options: ThreadPoolOptions,
  ) {
    this.view = new ViewRelay(host.view);
    this.doorbell = Doorbell.forThreads(options.maxThreads);
    void this.doorbell.watch((slot) => this.service(slot));
    if (WAKE_MODE === 'fifo') {
      process.once('exit', () => {
        for (const thread of this.threads.values()) thread.buffers.wakeToExit();
      });
      setInterval(() => {
        const now = performance.now();
        for (const thread of this.threads.values()) thread.buffers.wakeIfOverdue(now);
      }, DEADLINE_SWEEP_MS).unref();
    }
  }

  get liveThreads(): number {
    return this.threads.size;
  }

  get busyThreads(): number {
    let busy = 0;
    for (const thread of this.threads.values()) if (thread.state === 'busy') busy += 1;
    return busy;
  }

  get waitingConnections(): number {
    return this.waiting.length;
  }

  /** What counts against --max-connections: connections served and not closing, and those waiting for a thread. */
  get connections(): number {
    return this.serving + this.waiting.length;
  }

  /**
   * Whether a new connection would be served or may wait: false once `maxWaiting` connections
   * wait beyond those a thread starting (or yet to start, under --threads) will take.
   */
  get admits(): boolean {
    const toStart = this.options.maxThreads - this.threads.size + this.starting;
    return this.idle.length > 0 || this.waiting.length < this.options.maxWaiting + toStart;
  }

  /**
   * A new connection: served by an idle thread, else it waits in line, timed, while a thread
   * starts for it (START_LANES at a time, under --threads) or one frees up.
   */
  serve(socket: Socket, id: number): void {
    const pump = new SocketPump(
      socket,
      id,
      (buffers) => this.wakeSoon(buffers),
      (gone) => this.forget(gone),
    );
    this.open.add(pump);
    if (this.holding) pump.hold(true);
    const thread = this.idle.pop();
    if (thread !== undefined) return this.assign(thread, pump);
    this.wait(pump);
    this.startForLine();
  }

  /**
   * The prethreaded server: starts `count` threads now and resolves once each has loaded its
   * code and waits for a connection, so the first `count` connections start no thread.
   */
  async prestart(count: number): Promise<void> {
    const total = Math.min(count, this.options.maxThreads);
    const startOne = async (): Promise<void> => {
      const thread = this.start();
      await new Promise<void>((resolve, reject) => {
        thread.onReady = resolve;
        thread.worker.once('exit', () => reject(new Error(`${thread.name} exited before it was ready`)));
      });
    };
    let begun = 0;
    const lane = async (): Promise<void> => {
      while (begun < total) {
        begun += 1;
        await startOne();
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_LANES, total) }, lane));
  }

  /** Counters of every thread, live or ended, summed; a thread busy computing answers late, so its last counters stand in. */
  async stats(): Promise<StatsSnapshot> {
    return this.retired.plus(await Promise.all([...this.threads.values()].map((thread) => thread.view.stats())));
  }

  /**
   * SIGTERM: a waiting connection gets ERR SHUTTING_DOWN if it sent anything (no thread
   * will take it now), else it just closes; served ones shut down. Resolves when all
   * sockets closed or the time is up.
   */
  async drain(drainTimeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    for (const pump of this.waiting.splice(0)) {
      this.stopWaiting(pump);
      const { received } = pump;
      pump.close(received.length === 0 ? EMPTY : refusalBytes(received, 'SHUTTING_DOWN', 'the server is shutting down'));
    }
    for (const thread of this.threads.values()) if (thread.pump !== undefined) this.post(thread, { kind: 'shutdown' });
    await this.open.drain(drainTimeoutMs);
  }

  private start(): HandlerThread {
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    const fifo = WAKE_MODE === 'fifo' ? this.fifoFor(slot) : undefined;
    const buffers = new ConnectionBuffers(undefined, fifo);
    const { port1, port2 } = new MessageChannel();
    const limits = this.host.config;
    const data: ThreadData = {
      port: port2,
      slot,
      buffers: buffers.shared,
      doorbell: this.doorbell.shared,
      fifo,
      doorbellFifo: this.doorbell.fifo,
      clockOrigin: performance.timeOrigin,
      limits: sessionLimits(limits),
      injectFaults: this.options.injectFaults,
    };
    const worker = new Worker(new URL('./handler-thread.js', import.meta.url), { workerData: data, transferList: [port2] });
    const outbox: ToThread[] = [];
    // The relay may answer at once, inside connect (the hub is away: UNAVAILABLE), before `thread` exists: that waits in its outbox.
    let created: HandlerThread | undefined;
    const toThread = (message: ToThread): void => {
      if (created === undefined) outbox.push(message);
      else this.post(created, message);
    };
    const thread: HandlerThread = {
      name: `thread ${worker.threadId}`,
      slot,
      worker,
      port: port1,
      buffers,
      channel: this.host.relay.connect((event) => toThread({ kind: 'hub', event })),
      view: this.view.connect(toThread),
      outbox,
      pushesPosted: 0,
      state: 'starting',
      pump: undefined,
      retireTimer: undefined,
      onReady: undefined,
    };
    port1.on('message', (batch: readonly FromThread[]) => {
      for (const message of batch) this.handle(thread, message);
    });
    worker.on('error', (error) => this.host.logger.warn({ err: error, thread: thread.name }, 'handler thread died'));
    worker.on('exit', () => this.remove(thread));
    this.threads.set(slot, thread);
    created = thread;
    for (const message of outbox.splice(0)) this.post(thread, message);
    return thread;
  }

  private fifoFor(slot: number): FifoEnds {
    while (this.slotFifos.length <= slot) this.slotFifos.push(...makeFifos(FIFO_BATCH));
    return this.slotFifos[slot] as FifoEnds;
  }

  /** The thread rang: move its connection's bytes. A failure there closes that connection, not the watch. */
  private service(slot: number): void {
    if (this.holding) this.pushesChanged();
    const pump = this.threads.get(slot)?.pump;
    try {
      pump?.service();
    } catch (error) {
      this.host.logger.warn({ err: error, connection: pump?.id }, 'moving bytes failed; closing the connection');
      pump?.destroy();
    }
  }

  private assign(thread: HandlerThread, pump: SocketPump): void {
    clearTimeout(thread.retireTimer);
    this.stopWaiting(pump);
    thread.state = 'busy';
    thread.pump = pump;
    this.serving += 1;
    thread.buffers.reset();
    pump.attach(thread.buffers);
    // The time it waited counts against its idle timeout, as if a thread had served it from the accept.
    this.post(thread, { kind: 'serve', id: pump.id, acceptedAt: performance.timeOrigin + pump.acceptedAt });
  }

  /** No thread for it now: it waits in line, and is turned away with ERR BUSY if none frees up within --idle-timeout. */
  private wait(pump: SocketPump): void {
    this.waiting.push(pump);
    const { idleTimeoutMs } = this.host.config;
    if (idleTimeoutMs === 0) return;
    const timer = setTimeout(() => {
      const index = this.waiting.indexOf(pump);
      if (index >= 0) this.waiting.splice(index, 1);
      this.waitTimers.delete(pump);
      this.host.stats.countError('BUSY');
      pump.close(refusalBytes(pump.received, 'BUSY', `no thread free within ${idleTimeoutMs / 1000} s`));
    }, idleTimeoutMs);
    this.waitTimers.set(pump, timer);
  }

  private stopWaiting(pump: SocketPump): void {
    clearTimeout(this.waitTimers.get(pump));
    this.waitTimers.delete(pump);
  }

  private handle(thread: HandlerThread, message: FromThread): void {
    if (isViewMessage(message)) return thread.view.receive(message);
    switch (message.kind) {
      case 'hub':
        this.host.relay.handle(thread.channel, message.call);
        return;
      case 'close': {
        const { pump } = thread;
        if (pump === undefined) return;
        thread.pump = undefined;
        this.serving -= 1;
        pump.close(message.tail);
        return;
      }
      case 'idle':
        thread.view.lastSnapshot = message.snapshot;
        this.release(thread);
        return;
      case 'ready':
        if (thread.onReady !== undefined) {
          thread.onReady();
          thread.onReady = undefined;
          this.release(thread);
          return;
        }
        this.starting -= 1;
        this.release(thread);
        this.startForLine();
        return;
    }
  }

  /** The thread's connection is over: it takes the next waiting one, or rests. */
  private release(thread: HandlerThread): void {
    const next = this.shuttingDown ? undefined : this.waiting.shift();
    if (next !== undefined) return this.assign(thread, next);
    this.rest(thread);
  }

  /** Idle, first in line for the next connection; retired after KEEP_ALIVE_MS unless the pool is at `minThreads`. */
  private rest(thread: HandlerThread): void {
    thread.state = 'idle';
    this.idle.push(thread);
    thread.retireTimer = setTimeout(() => this.retire(thread), KEEP_ALIVE_MS);
    thread.retireTimer.unref();
  }

  private retire(thread: HandlerThread): void {
    const index = this.idle.indexOf(thread);
    if (index < 0) return;
    if (this.threads.size <= this.options.minThreads) {
      thread.retireTimer = setTimeout(() => this.retire(thread), KEEP_ALIVE_MS);
      thread.retireTimer.unref();
      return;
    }
    this.idle.splice(index, 1);
    thread.state = 'retiring';
    this.post(thread, { kind: 'retire' });
  }

  /** The thread ended, by retiring or by dying: its connection (if any) closes, its hub members leave their rooms. */
  private remove(thread: HandlerThread): void {
    if (this.threads.get(thread.slot) !== thread) return;
    this.threads.delete(thread.slot);
    this.freeSlots.push(thread.slot);
    clearTimeout(thread.retireTimer);
    const index = this.idle.indexOf(thread);
    if (index >= 0) this.idle.splice(index, 1);
    this.dirty.delete(thread);
    thread.port.close();
    this.host.relay.disconnect(thread.channel);
    thread.view.close();
    this.retired.add(thread.view.lastSnapshot);
    const { pump } = thread;
    if (pump !== undefined) {
      thread.pump = undefined;
      this.serving -= 1;
      pump.destroy();
    }
    if (thread.state === 'starting' && thread.onReady === undefined) this.starting -= 1;
    this.startForLine();
  }

  /** Holds every socket's reading once a thread is over PUSH_WINDOW, releases it once all are under half. */
  private pushesChanged(): void {
    let most = 0;
    for (const thread of this.threads.values()) most = Math.max(most, thread.buffers.pushesWaiting(thread.pushesPosted));
    const holding = this.holding ? most >= PUSH_WINDOW / 2 : most > PUSH_WINDOW;
    if (holding === this.holding) return;
    this.holding = holding;
    for (const thread of this.threads.values()) thread.buffers.setPushesHeld(holding);
    for (const pump of this.open) pump.hold(holding);
  }

  /** Starts threads for connections in line that no starting thread will take, START_LANES loading at a time. */
  private startForLine(): void {
    while (
      !this.shuttingDown &&
      this.starting < START_LANES &&
      this.starting < this.waiting.length &&
      this.threads.size < this.options.maxThreads
    ) {
      this.starting += 1;
      this.start();
    }
  }

  private forget(pump: SocketPump): void {
    this.open.delete(pump);
    this.stopWaiting(pump);
    const index = this.waiting.indexOf(pump);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** Queues a message for the thread; everything queued in one turn of the event loop crosses as one batch. */
  private post(thread: HandlerThread, message: ToThread): void {
    thread.outbox.push(message);
    if (this.dirty.size === 0) queueMicrotask(() => this.flush());
    this.dirty.add(thread);
    const bytes = message.kind === 'hub' ? hubEventBytes(message.event) : 0;
    if (bytes === 0) return;
    thread.pushesPosted = (thread.pushesPosted + bytes) | 0;
    this.pushesChanged();
  }

  /**
   * Wakes a thread after every socket ready in this turn was read: on one core, a thread
   * woken at once preempts the main thread, so waking per read means a context switch per
   * message, while waking after the poll phase lets the main thread finish its batch first.
   */
  private wakeSoon(buffers: ConnectionBuffers): void {
    if (this.toWake.size === 0) {
      setImmediate(() =>
        this.doorbell.whileAwake(() => {
          for (const sleeper of this.toWake) sleeper.wakeThread();
          this.toWake.clear();
        }),
      );
    }
    this.toWake.add(buffers);
  }

  private flush(): void {
    for (const thread of this.dirty) {
      thread.port.postMessage(thread.outbox.splice(0));
      thread.buffers.countPosted();
      thread.buffers.wakeThread();
    }
    this.dirty.clear();
  }
}
