/**
 * The cached thread pool: one thread per live connection, started on demand, reused when
 * its connection ends, retired after a minute idle, never more than `maxThreads` at once.
 * Connections beyond that wait, accepted and unread, in arrival order: at most `maxWaiting`
 * of them, each at most --idle-timeout, then ERR BUSY and closed. A thread gets its
 * connection's fd and does all of its I/O; the main thread only accepts, closes once the
 * thread is done, and answers what threads ask of it: hub calls (through the HubRelay), INFO, stats.
 */

import type { Socket } from 'node:net';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  type HubChannel,
  hubEventBytes,
  isViewMessage,
  pushWindowHolds,
  RetiredStats,
  type StatsSnapshot,
  sessionLimits,
} from '@echoplex/core';
import { closeLingering, OpenSockets, refusePausedSocket, type ViewChannel, ViewRelay } from '@echoplex/core/node';
import type { PoolHost } from '@echoplex/core/server';
import { closeFd, makeEventFd, ringEventFd } from './libc/libc.js';
import type { FromThread, ThreadData, ToThread } from './messages.js';
import { ThreadControl } from './thread-control.js';

/** How long an idle thread is kept for the next connection (Java's cached pool keeps 60 s). */
const KEEP_ALIVE_MS = 60_000;
/**
 * Threads started at once, at boot (--prestart) or for connections: 100 started all at once
 * took 35 s to load, two at a time 13-20 s (a loaded machine); and isolates loading by the
 * dozen starve the main thread, which must keep answering (slowloris: a fresh client got
 * no answer within 1 s while 64 threads started).
 */
const START_LANES = 2;
/**
 * Each thread's young generation, at most (V8's default lets it grow to 48 MiB): one connection's
 * garbage needs little, and 8 threads under the fuzz check grew to 440 MiB with the default.
 */
const YOUNG_GENERATION_MB = 4;
export interface ThreadPoolOptions {
  readonly maxThreads: number;
  /** Threads kept alive however long they idle: those `prestart()` started (UNP's prethreaded server). */
  readonly minThreads: number;
  /** Connections that may wait for a thread at once; the listener refuses the next one. */
  readonly maxWaiting: number;
  readonly injectFaults: boolean;
}

/** An accepted connection, paused: the main thread never reads it. */
interface Connection {
  readonly socket: Socket;
  readonly id: number;
  /** Its socket's fd, which libuv owns and closes; the serving thread reads and writes it. */
  readonly fd: number;
  /** When the listener accepted it: time spent waiting for a thread counts against its idle timeout. */
  readonly acceptedAt: number;
  /** Its wait's deadline, while it waits for a thread. */
  timer: NodeJS.Timeout | undefined;
}

/** node:net keeps the libuv handle, and its fd, on a field of its own. */
interface SocketHandle {
  readonly _handle: { readonly fd?: number } | null;
}

interface HandlerThread {
  /** As INFO's servedBy says it. */
  readonly name: string;
  readonly worker: Worker;
  readonly port: MessagePort;
  /** The eventfd it polls beside its socket: rung after each batch posted. */
  readonly wakeFd: number;
  readonly control: ThreadControl;
  readonly channel: HubChannel;
  /** INFO, /metrics and its counters across the port. */
  readonly view: ViewChannel;
  readonly outbox: ToThread[];
  /** Bytes of pushes posted to it (wrapping int32), against what its control words say it took. */
  pushesPosted: number;
  /** 'starting': loading its code; it takes the first waiting connection once ready. */
  state: 'starting' | 'busy' | 'idle' | 'retiring';
  connection: Connection | undefined;
  retireTimer: NodeJS.Timeout | undefined;
  /** Called once the thread has loaded and waits for a connection. */
  onReady: (() => void) | undefined;
}

export class CachedThreadPool {
  private readonly threads = new Set<HandlerThread>();
  /** Most recently freed last: the warmest thread is reused first. */
  private readonly idle: HandlerThread[] = [];
  private readonly waiting: Connection[] = [];
  private readonly open = new OpenSockets<Socket>((socket) => socket.destroy());
  /** Threads started for the waiting line and not ready yet. */
  private starting = 0;
  /** Connections a thread serves that it has not closed yet. */
  private serving = 0;
  private readonly dirty = new Set<HandlerThread>();
  /** Counters of threads that ended. */
  private readonly retired = new RetiredStats();
  private readonly view: ViewRelay;
  private shuttingDown = false;
  /** Every socket's reading is held: a thread has over core's PUSH_WINDOW of pushes not taken off its port (one busy computing takes none). */
  private holding = false;

  constructor(
    /** The main thread's process: limits, counters (a waiting connection turned away counts BUSY there), relay, logs, view. */
    private readonly host: PoolHost,
    private readonly options: ThreadPoolOptions,
  ) {
    this.view = new ViewRelay(host.view);
    // Node ends each thread before the process exits and waits for it; one blocked in poll(2) would never end.
    process.once('exit', () => {
      for (const thread of this.threads) {
        thread.control.setExiting();
        ringEventFd(thread.wakeFd);
      }
    });
  }

  get liveThreads(): number {
    return this.threads.size;
  }

  get busyThreads(): number {
    let busy = 0;
    for (const thread of this.threads) if (thread.state === 'busy') busy += 1;
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
   * A new connection, accepted paused: served by an idle thread, else it waits in line, timed,
   * while a thread starts for it (START_LANES at a time, under --threads) or one frees up.
   */
  serve(socket: Socket, id: number): void {
    const fd = (socket as unknown as SocketHandle)._handle?.fd;
    if (fd === undefined || fd < 0) {
      socket.destroy();
      return;
    }
    // Nothing here reads or writes it, so no error should come; one must not destroy a socket a thread uses.
    socket.on('error', (error) => this.host.logger.warn({ err: error, connection: id }, 'socket error on the main thread'));
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    const connection: Connection = { socket, id, fd, acceptedAt: performance.now(), timer: undefined };
    const thread = this.idle.pop();
    if (thread !== undefined) return this.assign(thread, connection);
    this.wait(connection);
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
    return this.retired.plus(await Promise.all([...this.threads].map((thread) => thread.view.stats())));
  }

  /**
   * SIGTERM: a waiting connection gets ERR SHUTTING_DOWN if it sent anything (no thread
   * will take it now), else it just closes; served ones shut down. Resolves when all
   * sockets closed or the time is up.
   */
  async drain(drainTimeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    for (const connection of this.waiting.splice(0)) {
      clearTimeout(connection.timer);
      this.turnAway(connection, 'SHUTTING_DOWN', 'the server is shutting down');
    }
    for (const thread of this.threads) if (thread.connection !== undefined) this.post(thread, { kind: 'shutdown' });
    await this.open.drain(drainTimeoutMs);
  }

  private start(): HandlerThread {
    const wakeFd = makeEventFd();
    const control = new ThreadControl();
    if (this.holding) control.setHeld(true);
    const { port1, port2 } = new MessageChannel();
    const data: ThreadData = {
      port: port2,
      wakeFd,
      control: control.shared,
      limits: sessionLimits(this.host.config),
      injectFaults: this.options.injectFaults,
    };
    const worker = new Worker(new URL('./handler-thread.js', import.meta.url), {
      workerData: data,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const outbox: ToThread[] = [];
    // The relay may answer at once, inside connect (the hub is away: UNAVAILABLE), before `thread` exists: that waits in its outbox.
    let created: HandlerThread | undefined;
    const toThread = (message: ToThread): void => {
      if (created === undefined) outbox.push(message);
      else this.post(created, message);
    };
    const thread: HandlerThread = {
      name: `thread ${worker.threadId}`,
      worker,
      port: port1,
      wakeFd,
      control,
      channel: this.host.relay.connect((event) => toThread({ kind: 'hub', event })),
      view: this.view.connect(toThread),
      outbox,
      pushesPosted: 0,
      state: 'starting',
      connection: undefined,
      retireTimer: undefined,
      onReady: undefined,
    };
    port1.on('message', (batch: readonly FromThread[]) => {
      for (const message of batch) this.handle(thread, message);
    });
    worker.on('error', (error) => this.host.logger.warn({ err: error, thread: thread.name }, 'handler thread died'));
    worker.on('exit', () => this.remove(thread));
    this.threads.add(thread);
    created = thread;
    for (const message of outbox.splice(0)) this.post(thread, message);
    return thread;
  }

  private assign(thread: HandlerThread, connection: Connection): void {
    clearTimeout(thread.retireTimer);
    clearTimeout(connection.timer);
    connection.timer = undefined;
    thread.state = 'busy';
    thread.connection = connection;
    this.serving += 1;
    // The time it waited counts against its idle timeout, as if a thread had served it from the accept.
    this.post(thread, { kind: 'serve', id: connection.id, fd: connection.fd, acceptedAt: performance.timeOrigin + connection.acceptedAt });
  }

  /** No thread for it now: it waits in line, and is turned away with ERR BUSY if none frees up within --idle-timeout. */
  private wait(connection: Connection): void {
    this.waiting.push(connection);
    const { idleTimeoutMs } = this.host.config;
    if (idleTimeoutMs === 0) return;
    connection.timer = setTimeout(() => {
      const index = this.waiting.indexOf(connection);
      if (index < 0) return;
      this.waiting.splice(index, 1);
      this.turnAway(connection, 'BUSY', `no thread free within ${idleTimeoutMs / 1000} s`);
    }, idleTimeoutMs);
  }

  /**
   * Answers a connection no thread took with one error, in the dialect of what it sent (read
   * now: nothing read it before), and closes it; one that sent nothing at SIGTERM just closes.
   */
  private turnAway(connection: Connection, code: 'BUSY' | 'SHUTTING_DOWN', message: string): void {
    void refusePausedSocket(connection.socket, code, message, (counted) => this.host.stats.countError(counted));
  }

  private handle(thread: HandlerThread, message: FromThread): void {
    if (isViewMessage(message)) return thread.view.receive(message);
    switch (message.kind) {
      case 'hub':
        this.host.relay.handle(thread.channel, message.call);
        return;
      case 'close': {
        const { connection } = thread;
        if (connection === undefined) return;
        thread.connection = undefined;
        this.serving -= 1;
        // The thread is done with the fd: libuv sends what it left, then FIN, lingers, and closes.
        const { socket } = connection;
        socket.removeAllListeners('error');
        socket.on('error', () => socket.destroy());
        if (message.tail.length > 0) socket.write(message.tail);
        closeLingering(socket);
        return;
      }
      case 'pushes-taken':
        if (this.holding) this.pushesChanged();
        return;
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
    if (!this.threads.delete(thread)) return;
    clearTimeout(thread.retireTimer);
    const index = this.idle.indexOf(thread);
    if (index >= 0) this.idle.splice(index, 1);
    this.dirty.delete(thread);
    thread.port.close();
    closeFd(thread.wakeFd);
    this.host.relay.disconnect(thread.channel);
    thread.view.close();
    this.retired.add(thread.view.lastSnapshot);
    const { connection } = thread;
    if (connection !== undefined) {
      thread.connection = undefined;
      this.serving -= 1;
      connection.socket.destroy();
    }
    if (thread.state === 'starting' && thread.onReady === undefined) this.starting -= 1;
    if (this.holding) this.pushesChanged();
    this.startForLine();
  }

  /** Holds every thread's reading once one is over PUSH_WINDOW, releases it (and wakes them) once all are under half. */
  private pushesChanged(): void {
    let most = 0;
    for (const thread of this.threads) most = Math.max(most, thread.control.pushesWaiting(thread.pushesPosted));
    const holding = pushWindowHolds(this.holding, most);
    if (holding === this.holding) return;
    this.holding = holding;
    for (const thread of this.threads) {
      thread.control.setHeld(holding);
      // A held recv waits on the wake fd only: ring it to read again.
      if (!holding) ringEventFd(thread.wakeFd);
    }
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

  /** Posts each thread's batch, counts it in its control words, and rings its wake fd: one wake-up per thread per turn. */
  private flush(): void {
    for (const thread of this.dirty) {
      thread.port.postMessage(thread.outbox.splice(0));
      thread.control.countPosted();
      ringEventFd(thread.wakeFd);
    }
    this.dirty.clear();
  }
}
