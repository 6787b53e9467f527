/**
 * The glue between `node:net` sockets and sessions living on the same thread: flow
 * control both ways, the idle timer, lingering close, and draining on shutdown. The
 * event-loop server and each forked child use it as is.
 */
import type { Socket } from 'node:net';
import type { FileStore } from './file-store.js';
import type { Hub } from './hub.js';
import { IdleTimer } from './idle-timer.js';
import { closeLingering } from './lingering-close.js';
import { OpenSockets } from './open-sockets.js';
import type { ServerView } from './server-view.js';
import { emptyKeepingCapacity, Session, type SessionLimits, type SessionTransport } from './session.js';
import type { ServerStats } from './stats.js';
import { TurnBytes } from './turn-bytes.js';

/** Stop reading a socket while this much output waits for it: a client that does not read is not read from. */
export const OUTPUT_HIGH_WATER = 64 * 1024;

export interface SocketSessionsOptions {
  readonly limits: SessionLimits;
  readonly hub: Hub;
  readonly server: ServerView;
  readonly stats: ServerStats;
  readonly servedBy: string;
  /** `--files DIR` as this thread reads and writes it (a LoopFileStore). */
  readonly files?: FileStore | undefined;
}

/**
 * Output queued while one event is handled (a read, a hub message) leaves in one write per
 * connection once it is done, as Redis writes its clients' buffers before the loop sleeps: a
 * publisher's window of SAYs in one read costs each member one syscall, not one per message.
 * Flushed on a microtask rather than setImmediate: measured faster for fan-out (bench fanout m100,
 * event-loop: 1.02M deliveries/s against 0.77M), since a turn rarely holds two events for one member.
 * Joined with Buffer.concat, once for all members with the same pieces (TurnBytes), and written with
 * one socket.write: cork + a write per piece + uncork (one writev) cost 15 % more CPU per delivery
 * (docs/fanout-profile.md).
 */
class TurnFlusher {
  readonly bytes = new TurnBytes();
  private readonly dirty: SocketConnection[] = [];
  private scheduled = false;
  private readonly flushAll = (): void => {
    this.scheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) (dirty[i] as SocketConnection).flush();
    emptyKeepingCapacity(dirty);
    this.bytes.forget();
  };

  schedule(connection: SocketConnection): void {
    this.dirty.push(connection);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flushAll);
  }
}

/** One socket and its session. */
class SocketConnection implements SessionTransport {
  readonly session: Session;
  /** Bytes queued in this turn, not yet handed to the socket. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly idle = new IdleTimer(() => this.session.timeout());
  private released = false;
  /** Reading stopped because the peer does not take our output. */
  private paused = false;
  /** Reading stopped because the session asked (an upload waiting for the disk). */
  private inputHeld = false;

  constructor(
    readonly socket: Socket,
    id: number,
    busy: boolean,
    options: SocketSessionsOptions,
    private readonly onRelease: (connection: SocketConnection) => void,
    private readonly onGone: (connection: SocketConnection) => void,
    private readonly flusher: TurnFlusher,
  ) {
    socket.setNoDelay(true);
    this.session = new Session({ ...options, id, busy, transport: this });
    socket.on('data', (chunk: Buffer) => this.session.receive(chunk));
    socket.on('end', () => this.session.end());
    socket.on('drain', () => {
      if (this.paused && !this.session.isClosed) {
        this.paused = false;
        if (this.inputHeld) return;
        socket.resume();
        this.idle.release();
      }
    });
    socket.on('error', () => {
      this.session.abort();
      this.release();
      socket.destroy();
    });
    socket.on('close', () => {
      this.session.abort();
      this.idle.clear();
      this.release();
      this.onGone(this);
    });
  }

  write(bytes: Buffer, pushed = false): void {
    if (this.socket.destroyed) return;
    // A reply after a read is already all that read's output: it goes at once, unless pushes wait before it.
    if (!pushed && this.pending.length === 0) {
      this.socket.write(bytes);
      this.holdIfBehind();
      return;
    }
    if (this.pending.length === 0) this.flusher.schedule(this);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /** Hands this turn's output to the socket in one write. */
  flush(): void {
    const pending = this.pending;
    const count = pending.length;
    if (count === 0) return;
    const socket = this.socket;
    if (!socket.destroyed) {
      socket.write(count === 1 ? (pending[0] as Buffer) : this.flusher.bytes.join(pending, this.pendingBytes));
    }
    emptyKeepingCapacity(pending);
    this.pendingBytes = 0;
    this.holdIfBehind();
  }

  outboundBytes(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  close(): void {
    this.flush();
    this.idle.clear();
    this.release();
    this.paused = false;
    closeLingering(this.socket);
  }

  setTimer(ms: number | undefined): void {
    this.idle.set(ms);
  }

  /** A GET's next piece waits while the peer is behind; a socket gone never calls back (its close aborts the session). */
  whenWritable(ready: () => void): void {
    if (this.socket.destroyed) return;
    if (this.outboundBytes() <= OUTPUT_HIGH_WATER) ready();
    else this.socket.once('drain', ready);
  }

  /** The session's own hold on reading; time held does not count as the peer's idleness. */
  holdInput(held: boolean): void {
    if (this.inputHeld === held || this.socket.destroyed) return;
    this.inputHeld = held;
    if (this.paused) return;
    if (held) {
      this.socket.pause();
      this.idle.hold();
    } else {
      this.socket.resume();
      this.idle.release();
    }
  }

  /** A peer this far behind is not read from until it catches up ('drain'). */
  private holdIfBehind(): void {
    if (!this.paused && this.socket.writableLength > OUTPUT_HIGH_WATER) {
      this.paused = true;
      if (this.inputHeld) return;
      this.socket.pause();
      this.idle.hold();
    }
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
  }
}

/** The sessions of one thread, each on its own socket. */
export class SocketSessions {
  /** Connections counted against `--max-connections`: served, not closing, not busy. */
  private readonly serving = new Set<SocketConnection>();
  /** Every socket still open, closing ones included. */
  private readonly open = new OpenSockets<SocketConnection>((connection) => connection.socket.destroy());
  private readonly flusher = new TurnFlusher();

  constructor(private readonly options: SocketSessionsOptions) {}

  /** Connections being served now (closing ones no longer count). */
  get connections(): number {
    return this.serving.size;
  }

  /** Serves a socket under a server-wide unique id. A busy connection gets ERR BUSY for its first request. */
  serve(socket: Socket, id: number, busy: boolean): void {
    const connection = new SocketConnection(
      socket,
      id,
      busy,
      this.options,
      (released) => this.serving.delete(released),
      (gone) => this.open.delete(gone),
      this.flusher,
    );
    this.open.add(connection);
    if (!busy && !connection.session.isClosed) this.serving.add(connection);
  }

  /** Shuts every session down, and resolves once all sockets closed or `drainTimeoutMs` passed (the rest are destroyed). */
  async drain(drainTimeoutMs: number): Promise<void> {
    for (const connection of [...this.open]) connection.session.shutdown();
    await this.open.drain(drainTimeoutMs);
  }
}
