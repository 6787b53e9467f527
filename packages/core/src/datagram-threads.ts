/**
 * Datagrams answered on worker threads, for the models whose strategy is threads: the thread
 * that owns the UDP socket hands each datagram to a thread running a DatagramHandler and sends
 * the reply it gets back. A fixed pool started up front (worker-pool: WORK spreads over the
 * cores), or threads started as datagrams need them and kept for the next, one datagram each
 * at a time (blocking, as Python's ThreadingUDPServer gives each request a thread).
 */
import { Worker } from 'node:worker_threads';
import type { DatagramLimits } from '@echoplex/protocol';
import type { DatagramServe } from './datagram-endpoint.js';
import { isViewMessage, type ServerView, type ViewFromParent, type ViewToParent } from './server-view.js';
import { type StatsSnapshot, sumSnapshots } from './stats.js';
import { type ViewChannel, ViewRelay } from './view-relay.js';

/** What a datagram thread is started with. */
export interface DatagramThreadSetup {
  readonly limits: DatagramLimits;
  readonly servedBy: string;
}

/** Besides datagrams and replies, the server-view messages (INFO answered, counters asked for). */
export type ToDatagramThread = { readonly kind: 'datagram'; readonly id: number; readonly bytes: Uint8Array } | ViewFromParent;

export type FromDatagramThread = { readonly kind: 'reply'; readonly id: number; readonly bytes: Uint8Array | null } | ViewToParent;

export interface DatagramThreadsOptions {
  /** Threads at most. */
  readonly threads: number;
  /** Start every thread at once (a fixed pool), or one whenever a datagram finds none free. */
  readonly startAll: boolean;
  /** Datagrams a thread holds at once: 1 is a thread per request; more lets a thread's own loop queue them. */
  readonly perThread: number;
  /** Datagrams waiting for a free thread at most; beyond, they are dropped, as a full receive buffer drops them. */
  readonly waitingLimit: number;
  readonly limits: DatagramLimits;
  /** INFO is answered from here, with the whole server's numbers. */
  readonly server: ServerView;
  /** `udp thread` -> servedBy `udp thread 2` in INFO. */
  readonly label: string;
}

type Answer = (reply: Buffer | undefined) => void;

interface DatagramThread {
  readonly worker: Worker;
  readonly index: number;
  readonly answers: Map<number, Answer>;
  readonly view: ViewChannel;
}

/** The bytes alone, so that posting them copies no more than they hold (a pooled Buffer is a view into 8 KiB). */
export const exactBytes = (bytes: Uint8Array): Uint8Array =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.prototype.slice.call(bytes);

const THREAD_ENTRY = new URL('./datagram-thread.js', import.meta.url);

export class DatagramThreads {
  private readonly threads: DatagramThread[] = [];
  private readonly waiting: { bytes: Buffer; answer: Answer }[] = [];
  private nextId = 0;
  private nextIndex = 0;
  private closed = false;
  private readonly view: ViewRelay;

  constructor(private readonly options: DatagramThreadsOptions) {
    this.view = new ViewRelay(options.server);
    if (options.startAll) for (let i = 0; i < options.threads; i++) this.start();
  }

  /** As Python's ThreadingUDPServer: each datagram to a thread of its own, an idle one, else a new one (up to `threads`), kept for the next. */
  static threadPerDatagram(threads: number, limits: DatagramLimits, server: ServerView): DatagramThreads {
    return new DatagramThreads({ threads, startAll: false, perThread: 1, waitingLimit: 1024, limits, server, label: 'udp thread' });
  }

  /** A fixed pool started up front (none for `threads` 0): each datagram to the least busy thread, whose loop holds 64 at once. */
  static fixedPool(threads: number, limits: DatagramLimits, server: ServerView): DatagramThreads {
    return new DatagramThreads({ threads, startAll: true, perThread: 64, waitingLimit: 4096, limits, server, label: 'udp worker' });
  }

  /** Threads alive now. */
  get size(): number {
    return this.threads.length;
  }

  /** The strategy DatagramEndpoint calls with each datagram. */
  readonly serve: DatagramServe = (bytes, answer) => {
    if (this.closed) return answer(undefined);
    const thread = this.freeThread();
    if (thread !== undefined) this.hand(thread, bytes, answer);
    else if (this.waiting.length < this.options.waitingLimit) this.waiting.push({ bytes, answer });
    else answer(undefined);
  };

  /** Every thread's counters summed, for /metrics (one busy past STATS_TIMEOUT_MS counts as the last it sent). */
  async stats(): Promise<StatsSnapshot> {
    return sumSnapshots(await Promise.all(this.threads.map((thread) => thread.view.stats())));
  }

  /** Stops the threads; datagrams they held are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const { answer } of this.waiting.splice(0)) answer(undefined);
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  /** The least busy thread with room, starting one if none has room and the limit allows. */
  private freeThread(): DatagramThread | undefined {
    let best: DatagramThread | undefined;
    for (const thread of this.threads) {
      if (thread.answers.size < this.options.perThread && (best === undefined || thread.answers.size < best.answers.size)) best = thread;
    }
    if (best !== undefined && best.answers.size === 0) return best;
    if (this.threads.length < this.options.threads) return this.start();
    return best;
  }

  private hand(thread: DatagramThread, bytes: Buffer, answer: Answer): void {
    this.nextId += 1;
    thread.answers.set(this.nextId, answer);
    thread.worker.postMessage({ kind: 'datagram', id: this.nextId, bytes: exactBytes(bytes) } satisfies ToDatagramThread);
  }

  private start(): DatagramThread {
    this.nextIndex += 1;
    const setup: DatagramThreadSetup = { limits: this.options.limits, servedBy: `${this.options.label} ${this.nextIndex}` };
    const worker = new Worker(THREAD_ENTRY, { workerData: setup });
    const view = this.view.connect((message) => worker.postMessage(message satisfies ToDatagramThread));
    const thread: DatagramThread = { worker, index: this.nextIndex, answers: new Map(), view };
    this.threads.push(thread);
    worker.on('message', (message: FromDatagramThread) => this.receive(thread, message));
    // A thread that dies loses only the datagrams it held; the next datagram starts another.
    worker.on('error', () => {});
    worker.on('exit', () => this.lost(thread));
    return thread;
  }

  private receive(thread: DatagramThread, message: FromDatagramThread): void {
    if (isViewMessage(message)) return thread.view.receive(message);
    switch (message.kind) {
      case 'reply': {
        const answer = thread.answers.get(message.id);
        thread.answers.delete(message.id);
        answer?.(
          message.bytes === null ? undefined : Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength),
        );
        const next = this.waiting.shift();
        if (next !== undefined) this.hand(thread, next.bytes, next.answer);
        return;
      }
    }
  }

  private lost(thread: DatagramThread): void {
    const at = this.threads.indexOf(thread);
    if (at !== -1) this.threads.splice(at, 1);
    for (const answer of thread.answers.values()) answer(undefined);
    thread.answers.clear();
    // Its counters die with it: a scrape waiting on it counts none from it.
    thread.view.close();
    if (!this.closed && this.options.startAll) this.start();
  }
}
