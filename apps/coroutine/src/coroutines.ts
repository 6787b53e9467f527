/**
 * The coroutines running on the loop, one per connection: what `--max-connections`
 * counts, what shutdown reaches, and the sockets a drain waits for (closing ones too).
 */
import type { Socket } from 'node:net';
import type { Session, SessionOptions } from '@echoplex/core';
import { OpenSockets } from '@echoplex/core/node';
import { CoroutineSocket, WriteTurn } from './coroutine-socket.js';
import { handle } from './handler.js';

export type CoroutineSessionOptions = Omit<SessionOptions, 'transport' | 'id' | 'busy'>;

export class Coroutines {
  /** Sessions of running coroutines, busy ones included: what shutdown reaches. */
  private readonly running = new Set<Session>();
  /** Those counted against `--max-connections`: not busy, and leaving as soon as their session closes. */
  private readonly serving = new Set<Session>();
  /** Every socket still open, lingering ones included. */
  private readonly open = new OpenSockets<Socket>((socket) => socket.destroy());
  private shuttingDown = false;
  /** The loop's one turn of output: each socket written once per turn. */
  private readonly turn = new WriteTurn();

  constructor(readonly sessionOptions: CoroutineSessionOptions) {}

  /** Connections being served now. */
  get connections(): number {
    return this.serving.size;
  }

  /** Starts a coroutine for the socket, under a server-wide unique id. A busy one gets ERR BUSY for its first request. */
  serve(socket: Socket, id: number, busy: boolean): void {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    void handle(new CoroutineSocket(socket, this.turn), id, busy, this);
  }

  /** The coroutine's session exists: count it, and shut it down at once if the server is stopping. */
  started(session: Session, busy: boolean): void {
    this.running.add(session);
    if (!busy) this.serving.add(session);
    if (this.shuttingDown) session.shutdown();
  }

  /** The coroutine returned: its session is closed, its socket closing. */
  finished(session: Session): void {
    this.running.delete(session);
    this.serving.delete(session);
  }

  /** Shuts every session down, and resolves once all sockets closed or `drainTimeoutMs` passed (the rest are destroyed). */
  async drain(drainTimeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    for (const session of [...this.running]) session.shutdown();
    await this.open.drain(drainTimeoutMs);
  }
}
