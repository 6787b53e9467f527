/**
 * A handler thread's line to the main thread, and where the thread waits: in poll(2) on its
 * eventfd (the main thread rings it after posting) and, inside recv or sendall, its socket.
 * Messages go out in batches; messages in are read synchronously (receiveMessageOnPort)
 * whenever the main thread posted some, so a push or a reply reaches the thread whichever
 * blocking call it is in: recv, sendall, a hub call, or waiting for its next connection.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { type HubEvent, hubEventBytes, isViewMessage, RemoteView, type ServerInfo, type StatsSnapshot } from '@echoplex/core';
import { drainEventFd, POLLIN, Poller } from './libc/libc.js';
import type { FromThread, ToThread } from './messages.js';
import type { ThreadControl } from './thread-control.js';

export type Assignment = Extract<ToThread, { kind: 'serve' }>;

export class MainThreadLink {
  private readonly outbox: FromThread[] = [];
  private readonly inbox: ToThread[] = [];
  private batchesTaken = 0;
  /** Pushes were taken while reading is held: the main thread hears of it once per batch run. */
  private tookWhileHeld = false;
  private readonly poller = new Poller();
  /** INFO, /metrics and this thread's counters, asked of and by the main thread. */
  private readonly view: RemoteView;
  private next: Assignment | 'retire' | undefined;
  /** Sticky: once SIGTERM reached this thread, a connection handed over in the same batch shuts down at once. */
  shuttingDown = false;
  /** Set by the hub adapter: results and pushes from the HubRelay. */
  onHubEvent: (event: HubEvent) => void = () => {};
  /** Set by the handler for the connection it serves. */
  onShutdown: () => void = () => {};
  /** Set by the socket: after a batch ran, what its pushes queued leaves in one send. */
  onDispatched: () => void = () => {};

  constructor(
    private readonly port: MessagePort,
    private readonly wakeFd: number,
    private readonly control: ThreadControl,
    snapshot: () => StatsSnapshot,
  ) {
    this.view = new RemoteView((message) => this.post(message), snapshot);
  }

  /** Every socket's reading is held for pushes (the push window): recv waits without reading. */
  get readingHeld(): boolean {
    return this.control.held;
  }

  /** Queues a message; it leaves with the batch, before the thread next waits. */
  post(message: FromThread): void {
    this.outbox.push(message);
  }

  /** Sends the batch: after each chunk the handler handled and before the thread waits, not on every post. */
  flush(): void {
    if (this.outbox.length > 0) this.port.postMessage(this.outbox.splice(0));
  }

  /**
   * Waits in poll(2) for the wake fd and, with `fd`, the socket's `events`, at most `timeoutMs`
   * (undefined: no limit); runs what the main thread posted. Returns the socket's revents (0 when
   * woken for messages or timed out). A blocked thread costs no CPU.
   */
  wait(fd: number | undefined, events: number, timeoutMs: number | undefined): number {
    this.flush();
    this.poller.wait(this.wakeFd, POLLIN, fd, events, timeoutMs);
    const socketReady = this.poller.secondReady;
    if (this.control.exiting) this.control.parkForExit();
    if ((this.poller.firstReady & POLLIN) !== 0) drainEventFd(this.wakeFd);
    this.dispatch();
    return socketReady;
  }

  /** Blocks until `ready()` holds (true) or `timeoutMs` passes (false), running what the main thread sends meanwhile. */
  block(ready: () => boolean, timeoutMs: number | undefined = undefined): boolean {
    this.dispatch();
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    for (;;) {
      if (ready()) return true;
      const left = deadline === undefined ? undefined : deadline - performance.now();
      if (left !== undefined && left <= 0) return false;
      this.wait(undefined, 0, left);
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

  /**
   * Runs, in order, every message the main thread sent, then lets the socket send what they
   * queued. One that throws leaves the rest for the next call. Safe to call often: the posted
   * counter saves a port read when nothing was posted.
   */
  dispatch(): void {
    let ran = false;
    for (;;) {
      const message = this.inbox.shift();
      if (message !== undefined) {
        ran = true;
        this.route(message);
        continue;
      }
      if (this.control.postedBatches === this.batchesTaken) break;
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) break;
      this.batchesTaken += 1;
      this.inbox.push(...(received.message as ToThread[]));
    }
    if (this.tookWhileHeld) {
      this.tookWhileHeld = false;
      this.post({ kind: 'pushes-taken' });
    }
    if (ran) this.onDispatched();
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
        if (bytes > 0 && this.control.tookPushes(bytes)) this.tookWhileHeld = true;
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
