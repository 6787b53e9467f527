/**
 * What a handler written against a socket API (recv, sendall, settimeout, close) shares,
 * whether its calls block a thread (apps/blocking) or are awaited on one loop
 * (apps/coroutine): the socket's errors, and the Session wired to the socket so that the
 * handler's loop reads as the textbook's: `bytes = recv()`, `sendall(connection.receive(bytes))`.
 */
import { Session, type SessionOptions, type SessionTransport } from './session.js';
import type { ServerStats } from './stats.js';

/** A `recv` that waited out its timeout (Python's `socket.timeout`). */
export class SocketTimeout extends Error {
  override readonly name = 'SocketTimeout';
}

/** The connection is gone under us, or the socket was used after `close`. */
export class SocketError extends Error {
  override readonly name = 'SocketError';

  constructor(
    readonly code: 'ECONNRESET' | 'EPIPE' | 'EBADF',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The peer as `getpeername()` reports it: an address and port, or a socket path and 0. */
export interface PeerName {
  readonly address: string;
  readonly port: number;
}

/** The calls of a handler's socket that the session's output needs: blocking ones return nothing, awaited ones a promise. */
export interface HandlerSocket {
  /** Returns (or resolves) once every byte is handed over; a slow reader makes it wait. */
  sendall(bytes: Uint8Array): void | Promise<void>;
  /**
   * A room's push, which nobody waits for: a socket that has it holds it for the loop turn's one
   * write (the coroutine's); without it, pushes go to `sendall` unawaited. Counted in `outboundBytes`.
   */
  push?(bytes: Uint8Array): void;
  /** Bytes written and not yet taken by the peer: what `--max-outbound` bounds. */
  outboundBytes(): number;
  /** Sends what is queued, then FIN. */
  close(): void;
}

export interface HandlerConnectionOptions extends Omit<SessionOptions, 'transport'> {
  /** How long the connection waited after the accept for a handler to take it (a queue for a thread); it counts as idle time. */
  readonly waitedMs?: number;
}

const EMPTY = new Uint8Array(0);

/** Requests these counters have seen, over every dialect and command. */
const requestCount = (stats: ServerStats): number =>
  Object.values(stats.requests).reduce((sum, byCommand) => Object.values(byCommand).reduce((total, count) => total + count, sum), 0);

/**
 * One connection's Session as a handler loop drives it. The replies to what `receive` was
 * given come back from it, for the loop to `sendall`; output the session makes at any other
 * moment (a room's push, an ERR TIMEOUT, SHUTTING_DOWN) goes to `sendall` at once, unawaited,
 * or, for a push, to the socket's `push` when it has one.
 * The session's idle timer becomes a deadline, and the deadline the timeout of the next recv.
 */
export class HandlerConnection {
  readonly session: Session;
  private deadline: number | undefined;
  /** Inside `receive`: output is held for the loop to send. */
  private receiving = false;
  private readonly replies: Uint8Array[] = [];
  private replyBytes = 0;
  private onClosed: (() => void) | undefined;
  /** The last send made outside the loop, when `sendall` is awaited: what a GET's next piece waits for. */
  private lastSend: Promise<void> | undefined;
  /** The session holds input (an upload waiting for the disk): the loop awaits this before its next recv. */
  private inputHold: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;

  constructor(
    private readonly socket: HandlerSocket,
    options: HandlerConnectionOptions,
  ) {
    const { stats } = options;
    // Until its first request is answered, the connection's clock runs from the accept, not from when this handler took it.
    let waited = options.waitedMs ?? 0;
    const requestsBefore = waited > 0 ? requestCount(stats) : 0;
    const transport: SessionTransport = {
      write: (bytes, pushed) => this.write(bytes, pushed === true),
      outboundBytes: () => socket.outboundBytes() + this.replyBytes,
      // Closed during `receive` (QUIT, a fatal error): the loop sends the replies, sees the session closed, closes the socket.
      close: () => {
        if (!this.receiving) socket.close();
        this.onClosed?.();
      },
      setTimer: (ms) => {
        if (waited > 0 && requestCount(stats) !== requestsBefore) waited = 0;
        this.deadline = ms === undefined ? undefined : performance.now() + Math.max(0, ms - waited);
      },
      // A GET's pieces go out as they are read, not held for the loop: one blocks in sendall, the other awaits it.
      holdInput: (held) => {
        if (held && this.inputHold === undefined) {
          let resolve = (): void => {};
          const promise = new Promise<void>((settle) => {
            resolve = settle;
          });
          this.inputHold = { promise, resolve };
        } else if (!held && this.inputHold !== undefined) {
          this.inputHold.resolve();
          this.inputHold = undefined;
        }
      },
      whenWritable: (ready) => {
        const sent = this.receiving ? this.sendReplies() : this.lastSend;
        if (sent === undefined) ready();
        else sent.then(ready, () => {});
      },
    };
    this.session = new Session({ ...options, transport });
  }

  /**
   * Before the next recv of an awaited loop: resolves once the session takes input again (an
   * upload's bytes wait for a slow disk), undefined when it does now. A loop whose store blocks
   * (blocking's) never waits: its writes are done before `receive` returns.
   */
  readable(): Promise<void> | undefined {
    return this.inputHold?.promise;
  }

  /** For `settimeout` before the next recv: seconds until the session's deadline, or null for none. */
  timeout(): number | null {
    return this.deadline === undefined ? null : Math.max(0, this.deadline - performance.now()) / 1000;
  }

  /** Feeds received bytes to the session; returns its replies (often none, as for SAY), to be sent with `sendall`. */
  receive(bytes: Buffer): Uint8Array {
    this.receiving = true;
    try {
      this.session.receive(bytes);
    } finally {
      this.receiving = false;
    }
    return this.takeReplies();
  }

  /**
   * Resolves once the session closed itself: after the peer's FIN, a hub call still under way
   * (a RedisHub's round trip) is answered first. A handler whose calls block never needs it.
   */
  closed(): Promise<void> {
    if (this.session.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClosed = resolve;
    });
  }

  private write(bytes: Buffer, pushed: boolean): void {
    if (this.receiving) {
      this.replies.push(bytes);
      this.replyBytes += bytes.length;
      return;
    }
    if (pushed && this.socket.push !== undefined) {
      this.socket.push(bytes);
      return;
    }
    // Sent from outside the handler's loop, which does not wait for it: a failure shows at the loop's next recv.
    const sent = this.socket.sendall(bytes);
    if (sent !== undefined) {
      sent.catch(() => {});
      this.lastSend = sent;
    }
  }

  /** What `receive` has gathered so far, sent now (a GET streaming inside it); the promise when sendall is awaited. */
  private sendReplies(): Promise<void> | undefined {
    const bytes = this.takeReplies();
    if (bytes.length === 0) return this.lastSend;
    const sent = this.socket.sendall(bytes);
    if (sent === undefined) return undefined;
    sent.catch(() => {});
    this.lastSend = sent;
    return sent;
  }

  private takeReplies(): Uint8Array {
    if (this.replies.length === 0) return EMPTY;
    const bytes = this.replies.length === 1 ? (this.replies[0] as Uint8Array) : Buffer.concat(this.replies, this.replyBytes);
    this.replies.length = 0;
    this.replyBytes = 0;
    return bytes;
  }
}
