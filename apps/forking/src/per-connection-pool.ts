/**
 * Fork per connection (Python's ForkingMixIn): each accepted socket gets a fresh child
 * that exits when the connection ends. At most --max-children live at once; the other
 * connections wait, accepted and unread, until a child exits (at most --max-waiting of
 * them, each at most --idle-timeout). Over --max-connections the parent answers BUSY
 * itself: no child is forked to refuse a connection.
 */
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { ChildPool, type PoolOptions, type WaitingSocket } from './child-pool.js';
import type { ForkedChild } from './forked-child.js';

/**
 * A fork takes this long at worst on a loaded machine: a connection with less of its
 * --idle-timeout left is answered BUSY at once rather than forked for and cut on arrival.
 */
const FORK_BUDGET_MS = 1_000;

/**
 * A connection whose child is still forking at its --idle-timeout gets this much longer (what it sent
 * is answered by a child that comes up in that time): past it, the parent answers it BUSY itself. Under
 * a load of 25 a fork took seconds, and connections waited for their child with no bound at all.
 */
const FORK_GRACE_MS = 2_000;

/**
 * Forks in flight at once. A fork blocks the parent until the child has exec'd (libuv waits for it):
 * at a load of 16, 40 forks at once took 52-58 ms each (median) and up to 1.5 s, 3.2-5.7 s in all,
 * and the parent's accepts, refusals and timers waited behind them. A child's start is CPU-bound
 * (~0.15 s), so more at once than twice the cores start none sooner.
 */
const MAX_FORKING = 2 * availableParallelism();

/** A connection whose child is to be forked, or is forking; `socket` is gone once it was answered BUSY at its deadline. */
interface ForkRequest {
  own: WaitingSocket | undefined;
}

export class PerConnectionPool extends ChildPool {
  /** Connections that count and wait for a child being (or to be) forked for them. */
  private starting = 0;
  /** Forks started and not yet up (or dead). */
  private forking = 0;
  /** Connections for which a fork waits for one of the MAX_FORKING slots, oldest first. */
  private readonly forkQueue: ForkRequest[] = [];

  constructor(
    options: PoolOptions,
    private readonly maxChildren: number,
  ) {
    super(options);
  }

  async start(): Promise<void> {
    // Nothing is forked before a connection arrives: that is the model.
  }

  serve(socket: Socket, id: number): void {
    // Counting children still starting and connections waiting, so a burst cannot overshoot --max-connections.
    if (this.isBusy(this.starting)) return this.options.refuse(socket, id);
    if (this.waiting.length === 0 && this.hasRoom() && !this.stopping) this.forkFor(socket, id, performance.now());
    else this.wait(socket, id);
  }

  /** Connections whose fork had no slot yet are answered SHUTTING_DOWN (and the drain waits for that) as those waiting in line are. */
  override async drain(timeoutMs: number): Promise<void> {
    for (const request of this.forkQueue.splice(0)) {
      const own = request.own;
      request.own = undefined;
      if (own === undefined) continue;
      this.starting -= 1;
      this.answerAndClose(own.socket, 'SHUTTING_DOWN', 'the server is shutting down');
    }
    await super.drain(timeoutMs);
  }

  protected childExited(): void {
    this.dispatch();
  }

  /** Fewer children than --max-children, counting those whose fork waits for a slot. */
  private hasRoom(): boolean {
    return this.children.size + this.forkQueue.length < this.maxChildren;
  }

  private dispatch(): void {
    while (!this.stopping && this.hasRoom()) {
      const next = this.nextWaiting();
      if (next === undefined) return;
      const { waitTimeoutMs } = this.options;
      if (waitTimeoutMs > 0 && waitTimeoutMs - (performance.now() - next.acceptedAt) < FORK_BUDGET_MS) this.turnAway(next);
      else this.forkFor(next.socket, next.id, next.acceptedAt);
    }
  }

  /**
   * Until the child has the socket, the connection counts as starting; the fork's time (and its wait for
   * a fork slot) counts against its idle timeout too. A fork can take longer than that (seconds on a
   * loaded machine): then the parent answers the connection BUSY itself, FORK_GRACE_MS after its idle
   * timeout, and the child, once up, takes the oldest waiting connection or exits.
   */
  private forkFor(socket: Socket, id: number, acceptedAt: number): void {
    this.starting += 1;
    const request: ForkRequest = { own: { socket, id, acceptedAt, timer: undefined } };
    const { waitTimeoutMs } = this.options;
    if (waitTimeoutMs > 0) {
      const deadline = setTimeout(
        () => {
          const own = request.own;
          if (own === undefined) return;
          request.own = undefined;
          this.starting -= 1;
          this.answerAndClose(own.socket, 'BUSY', `no child up within ${(waitTimeoutMs + FORK_GRACE_MS) / 1000} s`);
        },
        Math.max(0, waitTimeoutMs + FORK_GRACE_MS - (performance.now() - acceptedAt)),
      );
      socket.once('close', () => clearTimeout(deadline));
    }
    this.forkQueue.push(request);
    this.forkNext();
  }

  /** Starts queued forks while slots are free; one whose connection was answered meanwhile is not forked. */
  private forkNext(): void {
    while (this.forking < MAX_FORKING && !this.stopping) {
      const request = this.forkQueue.shift();
      if (request === undefined) return;
      if (request.own === undefined && this.waiting.length === 0) continue;
      this.forking += 1;
      const child = this.fork();
      void Promise.race([child.ready.then(() => true), child.exited.then(() => false)]).then((ready) => {
        this.forking -= 1;
        this.handOver(child, request, ready);
        this.forkNext();
      });
    }
  }

  private handOver(child: ForkedChild, request: ForkRequest, ready: boolean): void {
    const mine = request.own;
    request.own = undefined;
    if (mine !== undefined) this.starting -= 1;
    if (this.stopping) {
      if (mine !== undefined) this.answerAndClose(mine.socket, 'SHUTTING_DOWN', 'the server is shutting down');
      return;
    }
    if (!ready) {
      mine?.socket.destroy();
      return;
    }
    const next = mine ?? this.nextWaiting();
    if (next === undefined) child.drain(0);
    else child.serve(next.socket, next.id, false, performance.now() - next.acceptedAt);
  }
}
