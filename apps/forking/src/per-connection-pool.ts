/**
 * Fork per connection (Python's ForkingMixIn): each accepted socket gets a fresh child
 * that exits when the connection ends. At most --max-children live at once; the other
 * connections wait, accepted and unread, until a child exits (at most --max-waiting of
 * them, each at most --idle-timeout). Over --max-connections the parent answers BUSY
 * itself: no child is forked to refuse a connection.
 */
import type { Socket } from 'node:net';
import { ChildPool, type PoolOptions, type WaitingSocket } from './child-pool.js';

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

export class PerConnectionPool extends ChildPool {
  /** Children forked for a connection that counts, and not yet handed its socket. */
  private starting = 0;

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
    if (this.waiting.length === 0 && this.children.size < this.maxChildren && !this.stopping) this.forkFor(socket, id, performance.now());
    else this.wait(socket, id);
  }

  protected childExited(): void {
    this.dispatch();
  }

  private dispatch(): void {
    while (!this.stopping && this.children.size < this.maxChildren) {
      const next = this.nextWaiting();
      if (next === undefined) return;
      const { waitTimeoutMs } = this.options;
      if (waitTimeoutMs > 0 && waitTimeoutMs - (performance.now() - next.acceptedAt) < FORK_BUDGET_MS) this.turnAway(next);
      else this.forkFor(next.socket, next.id, next.acceptedAt);
    }
  }

  /**
   * Until the child has the socket, the connection counts as starting; the fork's time counts against its idle timeout too.
   * A fork can take longer than that (seconds on a loaded machine): then the parent answers the connection BUSY itself,
   * FORK_GRACE_MS after its idle timeout, and the child, once up, takes the oldest waiting connection or exits.
   */
  private forkFor(socket: Socket, id: number, acceptedAt: number): void {
    this.starting += 1;
    const child = this.fork();
    let own: WaitingSocket | undefined = { socket, id, acceptedAt, timer: undefined };
    const { waitTimeoutMs } = this.options;
    const deadline =
      waitTimeoutMs === 0
        ? undefined
        : setTimeout(
            () => {
              if (own === undefined) return;
              this.starting -= 1;
              this.answerAndClose(own.socket, 'BUSY', `no child up within ${(waitTimeoutMs + FORK_GRACE_MS) / 1000} s`);
              own = undefined;
            },
            Math.max(0, waitTimeoutMs + FORK_GRACE_MS - (performance.now() - acceptedAt)),
          );
    void Promise.race([child.ready.then(() => true), child.exited.then(() => false)]).then((ready) => {
      clearTimeout(deadline);
      const mine = own;
      own = undefined;
      if (mine !== undefined) this.starting -= 1;
      if (this.stopping) {
        if (mine !== undefined) this.answerAndClose(mine.socket, 'SHUTTING_DOWN', 'the server is shutting down');
        return;
      }
      if (!ready) return mine?.socket.destroy();
      const next = mine ?? this.nextWaiting();
      if (next === undefined) child.drain(0);
      else child.serve(next.socket, next.id, false, performance.now() - next.acceptedAt);
    });
  }
}
