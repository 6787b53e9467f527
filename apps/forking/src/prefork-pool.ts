/**
 * Prefork (Apache's MPM prefork): --workers children forked up front, each serving
 * many connections. The parent accepts and hands each socket to the child with the
 * fewest connections (ties in turn), and replaces a child that dies.
 */
import type { Socket } from 'node:net';
import { ChildPool, type PoolOptions } from './child-pool.js';
import type { ForkedChild } from './forked-child.js';

/** A child that dies before it is even ready is replaced after this pause, not in a tight loop. */
const RESPAWN_DELAY_MS = 1_000;

export class PreforkPool extends ChildPool {
  private turn = 0;

  constructor(
    options: PoolOptions,
    private readonly workers: number,
  ) {
    super(options);
  }

  async start(): Promise<void> {
    const children = Array.from({ length: this.workers }, () => this.spawn());
    await Promise.all(
      children.map((child) =>
        Promise.race([
          child.ready,
          child.exited.then((exit) => {
            throw new Error(`child ${child.pid} exited (code ${exit.code}, signal ${exit.signal}) before it was ready`);
          }),
        ]),
      ),
    );
  }

  serve(socket: Socket, id: number): void {
    const child = this.pick();
    if (child === undefined) this.wait(socket, id);
    else child.serve(socket, id, this.isBusy(), 0);
  }

  protected childExited(child: ForkedChild): void {
    if (this.stopping) return;
    if (child.startedUp) this.spawn();
    else setTimeout(() => this.respawn(), RESPAWN_DELAY_MS);
  }

  private respawn(): void {
    if (!this.stopping) this.spawn();
  }

  private spawn(): ForkedChild {
    const child = this.fork();
    void child.ready.then(() => {
      for (let next = this.nextWaiting(); next !== undefined; next = this.nextWaiting()) {
        (this.pick() ?? child).serve(next.socket, next.id, this.isBusy(), performance.now() - next.acceptedAt);
      }
    });
    return child;
  }

  /** Least connections first: long-lived chat members must not pile up on one child. */
  private pick(): ForkedChild | undefined {
    const ready = this.liveChildren.filter((child) => child.serving);
    if (ready.length === 0) return undefined;
    this.turn = (this.turn + 1) % ready.length;
    let best = ready[this.turn] as ForkedChild;
    for (let i = 1; i < ready.length; i++) {
      const candidate = ready[(this.turn + i) % ready.length] as ForkedChild;
      if (candidate.connections < best.connections) best = candidate;
    }
    return best;
  }
}
