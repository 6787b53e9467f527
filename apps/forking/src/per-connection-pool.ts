/**
 * Fork per connection (Python's ForkingMixIn): each accepted socket gets a fresh child
 * that exits when the connection ends. At most --max-children live at once; the other
 * connections wait, accepted and unread, until a child exits.
 */
import type { Socket } from 'node:net';
import { ChildPool, type PoolOptions, type WaitingSocket } from './child-pool.js';

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

  accept(socket: Socket, id: number): void {
    this.waiting.push({ socket, id });
    this.dispatch();
  }

  protected childExited(): void {
    this.dispatch();
  }

  private dispatch(): void {
    while (!this.stopping && this.children.size < this.maxChildren) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      this.forkFor(next);
    }
  }

  /** Busy is decided now, counting children still starting, so a burst cannot overshoot --max-connections. */
  private forkFor({ socket, id }: WaitingSocket): void {
    const busy = this.isBusy(this.starting);
    if (!busy) this.starting += 1;
    const child = this.fork();
    void Promise.race([child.ready.then(() => true), child.exited.then(() => false)]).then((ready) => {
      if (!busy) this.starting -= 1;
      if (ready && !this.stopping) child.serve(socket, id, busy);
      else socket.destroy();
    });
  }
}
