/**
 * A handler thread's line to the main thread, and the one place the thread ever waits.
 * Messages go out in batches; messages in are read synchronously (receiveMessageOnPort)
 * whenever the thread would block, so a push or a reply reaches the thread whichever
 * blocking call it is in: recv, sendall, a hub call, or waiting for its next connection.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { type HubEvent, hubEventBytes, isViewMessage, RemoteView, type ServerInfo, type StatsSnapshot } from '@echoplex/core';
import type { Doorbell } from './kernel/doorbell.js';
import type { ConnectionBuffers } from './kernel/shared-buffers.js';
import type { FromThread, ToThread } from './messages.js';

export type Assignment = Extract<ToThread, { kind: 'serve' }>;

export class MainThreadLink {
  private readonly outbox: FromThread[] = [];
  private readonly inbox: ToThread[] = [];
  private batchesTaken = 0;
  /** INFO, /metrics and this thread's counters, asked of and by the main thread. */
  private readonly view: RemoteView;
  private next: Assignment | 'retire' | undefined;
  /** The thread moved bytes the main thread has not been told about yet. */
  private unannounced = false;
  /** Sticky: once SIGTERM reached this thread, a connection handed over in the same batch shuts down at once. */
  shuttingDown = false;
  /** Set by the hub adapter: results and pushes from the HubRelay. */
  onHubEvent: (event: HubEvent) => void = () => {};
  /** Set by the handler for the connection it serves. */
  onShutdown: () => void = () => {};

  constructor(
    private readonly port: MessagePort,
    private readonly buffers: ConnectionBuffers,
    private readonly doorbell: Doorbell,
    private readonly slot: number,
    snapshot: () => StatsSnapshot,
  ) {
    this.view = new RemoteView((message) => this.post(message), snapshot);
  }

  /** Queues a message; it leaves with the batch, before the thread next sleeps. */
  post(message: FromThread): void {
    this.outbox.push(message);
  }

  /** The rings changed (bytes written, or room made): the main thread hears of it at the next flush. */
  announce(): void {
    this.unannounced = true;
  }

  /**
   * Sends the batch and rings the doorbell. Called after each chunk the handler handled
   * and before the thread sleeps, not on every write: each ring costs a thread hop.
   */
  flush(): void {
    if (this.outbox.length > 0) this.port.postMessage(this.outbox.splice(0));
    if (!this.unannounced) return;
    this.unannounced = false;
    this.doorbell.ring(this.slot);
  }

  /**
   * Blocks until `ready()` holds (true) or `timeoutMs` passes (false), running what the
   * main thread sends meanwhile. Sleeps in Atomics.wait: a blocked thread costs no CPU.
   */
  block(ready: () => boolean, timeoutMs = Number.POSITIVE_INFINITY): boolean {
    this.dispatch();
    if (ready()) return true;
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        const seen = this.buffers.goingToSleep();
        this.dispatch();
        if (ready()) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        this.flush();
        this.buffers.sleep(seen, left);
      }
    } finally {
      this.buffers.awake();
    }
  }

  /** INFO: a blocking call to the main thread, which sees the whole server. */
  requestInfo(): ServerInfo {
    return this.await<ServerInfo>((done) => this.view.info(done));
  }

  /** /metrics: a blocking call; the main thread asks every thread for its counters. */
  requestMetrics(): string {
    return this.await<string>((done) => this.view.metrics(done));
  }

  /** Idle: blocks until the main thread hands over a connection (or retires the thread: undefined). */
  nextConnection(): Assignment | undefined {
    this.block(() => this.next !== undefined);
    const next = this.next;
    this.next = undefined;
    return next === 'retire' ? undefined : next;
  }

  /** Asks, then blocks until the answer is in. */
  private await<T>(ask: (done: (answer: T) => void) => void): T {
    let answered = false;
    let answer: T | undefined;
    ask((value) => {
      answered = true;
      answer = value;
    });
    this.block(() => answered);
    return answer as T;
  }

  /** Runs, in order, every message the main thread sent. One that throws leaves the rest for the next call. */
  private dispatch(): void {
    for (;;) {
      const message = this.inbox.shift();
      if (message !== undefined) {
        this.route(message);
        continue;
      }
      // The counter saves a port read on every recv when nothing was posted.
      if (this.buffers.postedBatches === this.batchesTaken) return;
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) return;
      this.batchesTaken += 1;
      this.inbox.push(...(received.message as ToThread[]));
    }
  }

  private route(message: ToThread): void {
    if (isViewMessage(message)) return this.view.receive(message);
    switch (message.kind) {
      case 'serve':
        this.next = message;
        return;
      case 'retire':
        this.next = 'retire';
        return;
      case 'hub': {
        const bytes = hubEventBytes(message.event);
        if (bytes > 0 && this.buffers.tookPushes(bytes)) this.announce();
        this.onHubEvent(message.event);
        return;
      }
      case 'shutdown':
        this.shuttingDown = true;
        this.onShutdown();
        return;
    }
  }
}
