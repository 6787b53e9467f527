/**
 * The socket a coroutine sees: blocking's API (`recv`, `sendall`, `settimeout`, `close`,
 * with the same errors), each call returning a promise, over a node:net socket on the
 * one loop. `await socket.recv(n)` suspends this connection's handler and nobody else's.
 *
 * The socket's bytes wait in a small queue until the coroutine asks for them; while it is
 * busy elsewhere (awaiting a `sendall` to a slow reader) and the queue is full, the socket
 * stops reading, so the kernel's buffers fill and TCP tells the client to wait. The pushes
 * other handlers make for this connection in one loop turn, and what `sendall` is given after
 * them, leave in one write when the turn's handlers are done, as event-loop's output does; a
 * handler's replies with nothing waiting before them are written at once.
 */
import type { Socket } from 'node:net';
import { emptyKeepingCapacity, type HandlerSocket, type PeerName, SocketError, SocketTimeout, TurnBytes } from '@echoplex/core';
import { closeLingering } from '@echoplex/core/node';

/** Bytes read ahead of the coroutine before the socket stops reading: a kernel receive buffer's worth. */
export const RECEIVE_QUEUE_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);
const SENT: Promise<void> = Promise.resolve();

/**
 * The sockets given output in this turn, each written once when the turn's handlers are done:
 * a publisher's window of SAYs costs each member one write, not one per message. A microtask,
 * as event-loop's TurnFlusher: the handlers this turn resumes run before it, their output joins.
 */
export class WriteTurn {
  /** A socket's bytes of this turn, joined once for all sockets given the same pieces (a room's pushes). */
  readonly bytes = new TurnBytes();
  private readonly dirty: CoroutineSocket[] = [];
  private scheduled = false;
  private readonly writeAll = (): void => {
    this.scheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) (dirty[i] as CoroutineSocket).flush();
    emptyKeepingCapacity(dirty);
    this.bytes.forget();
  };

  schedule(socket: CoroutineSocket): void {
    this.dirty.push(socket);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.writeAll);
  }
}

/** The promise the `sendall`s that joined one turn's write return, settled once the kernel took that write. */
class TurnWrite {
  resolve: () => void = () => {};
  reject: (error: Error) => void = () => {};
  readonly sent = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

interface Receiver {
  readonly maxBytes: number;
  readonly resolve: (bytes: Buffer) => void;
  readonly reject: (error: Error) => void;
}

export class CoroutineSocket implements HandlerSocket {
  /** Undefined waits forever; 0 never waits. */
  private timeoutMs: number | undefined;
  private closed = false;
  /** The peer sent FIN, or the socket is gone. */
  private ended = false;
  private failure: SocketError | undefined;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private paused = false;
  /** The coroutine awaiting `recv`, if it is. */
  private receiver: Receiver | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bytes given to `sendall` in this turn, not yet handed to the socket, and the promise their callers wait on. */
  private readonly outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private turnWrite: TurnWrite | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly turn: WriteTurn,
  ) {
    socket.on('data', (chunk: Buffer) => this.arrived(chunk));
    socket.on('end', () => this.finish());
    socket.on('error', (error: Error) => {
      this.failure ??= new SocketError('ECONNRESET', error.message);
      this.finish();
    });
    socket.on('close', () => this.finish());
  }

  /** Up to `maxBytes` bytes; b'' once the peer closed (or this socket was closed while waiting). */
  recv(maxBytes: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new SocketError('EBADF', 'the socket is closed'));
    if (this.receiver !== undefined) return Promise.reject(new Error('recv while another recv of this socket waits'));
    if (this.queuedBytes > 0) return Promise.resolve(this.take(maxBytes));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(EMPTY);
    const { timeoutMs } = this;
    if (timeoutMs === 0) return Promise.reject(new SocketTimeout('timed out'));
    return new Promise<Buffer>((resolve, reject) => {
      this.receiver = { maxBytes, resolve, reject };
      if (timeoutMs !== undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.receiver = undefined;
          reject(new SocketTimeout('timed out'));
        }, timeoutMs);
      }
    });
  }

  /**
   * Resolves once the kernel took every byte; a slow reader keeps it waiting (that is the backpressure).
   * Written at once, unless pushes wait for this turn's write: then the bytes join it, after them.
   */
  sendall(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new SocketError('EBADF', 'the socket is closed'));
    if (this.failure !== undefined || this.socket.destroyed) return Promise.reject(new SocketError('EPIPE', 'broken pipe'));
    if (bytes.length === 0) return SENT;
    if (this.outgoing.length > 0) {
      this.outgoing.push(bytes);
      this.outgoingBytes += bytes.length;
      this.turnWrite ??= new TurnWrite();
      return this.turnWrite.sent;
    }
    let settle: ((error: Error | null | undefined) => void) | undefined;
    this.socket.write(bytes, (error) => settle?.(error));
    // Nothing left in Node's buffer: the kernel took it all during the write, as it mostly does.
    if (this.socket.writableLength === 0) return SENT;
    return new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(new SocketError('EPIPE', error.message)) : resolve());
    });
  }

  /**
   * A room's push, which nobody awaits: held for this turn's one write. Dropped once the socket is
   * closed or broken; the handler learns that at its next recv.
   */
  push(bytes: Uint8Array): void {
    if (this.closed || this.failure !== undefined || this.socket.destroyed || bytes.length === 0) return;
    if (this.outgoing.length === 0) this.turn.schedule(this);
    this.outgoing.push(bytes);
    this.outgoingBytes += bytes.length;
  }

  /** Bytes given and not yet taken by the kernel, this turn's included: what `--max-outbound` bounds. */
  outboundBytes(): number {
    return this.socket.writableLength + this.outgoingBytes;
  }

  /** Hands this turn's bytes to the socket in one write; the `sendall`s that joined it settle once the kernel took it. */
  flush(): void {
    const outgoing = this.outgoing;
    const count = outgoing.length;
    if (count === 0) return;
    const bytes = count === 1 ? (outgoing[0] as Uint8Array) : this.turn.bytes.join(outgoing, this.outgoingBytes);
    emptyKeepingCapacity(outgoing);
    this.outgoingBytes = 0;
    const write = this.turnWrite;
    this.turnWrite = undefined;
    if (this.failure !== undefined || this.socket.destroyed) {
      write?.reject(new SocketError('EPIPE', 'broken pipe'));
      return;
    }
    if (write === undefined) {
      this.socket.write(bytes);
      return;
    }
    this.socket.write(bytes, (error) => (error ? write.reject(new SocketError('EPIPE', error.message)) : write.resolve()));
    // Nothing left in Node's buffer: the kernel took it all during the write, as it mostly does.
    if (this.socket.writableLength === 0) write.resolve();
  }

  /** Sends what is queued, then FIN; a coroutine waiting in `recv` gets b''. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.wake(EMPTY);
    if (this.socket.destroyed) return;
    if (this.failure !== undefined) this.socket.destroy();
    else closeLingering(this.socket);
  }

  /** Seconds, as in Python: null waits forever, 0 never waits. */
  settimeout(seconds: number | null): void {
    this.timeoutMs = seconds === null ? undefined : Math.max(0, seconds * 1000);
  }

  gettimeout(): number | null {
    return this.timeoutMs === undefined ? null : this.timeoutMs / 1000;
  }

  getpeername(): PeerName {
    const { remoteAddress, remotePort } = this.socket;
    return { address: remoteAddress ?? '', port: remotePort ?? 0 };
  }

  private arrived(chunk: Buffer): void {
    if (this.receiver !== undefined && chunk.length <= this.receiver.maxBytes) return this.wake(chunk);
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.receiver !== undefined) return this.wake(this.take(this.receiver.maxBytes));
    if (this.queuedBytes >= RECEIVE_QUEUE_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** What the queue holds, up to `maxBytes`, in one buffer. */
  private take(maxBytes: number): Buffer {
    let bytes: Buffer;
    const head = this.queue[0] as Buffer;
    if (head.length >= maxBytes || this.queue.length === 1) {
      bytes = head.length > maxBytes ? head.subarray(0, maxBytes) : head;
      if (bytes.length === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(bytes.length);
    } else {
      const parts: Buffer[] = [];
      let size = 0;
      while (this.queue.length > 0 && size + (this.queue[0] as Buffer).length <= maxBytes) {
        const part = this.queue.shift() as Buffer;
        parts.push(part);
        size += part.length;
      }
      bytes = Buffer.concat(parts, size);
    }
    this.queuedBytes -= bytes.length;
    if (this.paused && this.queuedBytes < RECEIVE_QUEUE_BYTES) {
      this.paused = false;
      this.socket.resume();
    }
    return bytes;
  }

  /** The peer ended, or the socket failed or closed: a waiting `recv` learns it now. */
  private finish(): void {
    this.ended = true;
    if (this.receiver === undefined) return;
    if (this.failure !== undefined) {
      const { reject } = this.receiver;
      this.clearReceiver();
      reject(this.failure);
    } else {
      this.wake(EMPTY);
    }
  }

  private wake(bytes: Buffer): void {
    const receiver = this.receiver;
    if (receiver === undefined) return;
    this.clearReceiver();
    receiver.resolve(bytes);
  }

  private clearReceiver(): void {
    this.receiver = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
