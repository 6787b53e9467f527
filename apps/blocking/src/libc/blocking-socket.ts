/**
 * The socket a handler thread sees, as in the classic tutorial, over the connection's real fd:
 * `recv` blocks in poll(2) until bytes come, `sendall` until the kernel took every byte,
 * `settimeout` bounds the wait (Python's semantics: b'' at EOF, SocketTimeout, SocketError).
 *
 * One thing a textbook socket has no need of: while blocked, it runs what the main thread
 * posted (room pushes, hub results), the way a signal handler runs during a blocking call.
 * Pushes are queued behind whatever is unsent and leave in one send per batch; a `sendall`
 * made meanwhile queues behind them, in order.
 */

import { type HandlerSocket, SocketError, SocketTimeout } from '@echoplex/core';
import type { MainThreadLink } from '../main-thread-link.js';
import { Errno, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, recvNow, sendNow, unsentInKernel } from './libc.js';

const EMPTY = Buffer.alloc(0);
/** At most this much is joined into one send; a bigger first chunk goes alone. */
const JOIN_BYTES = 256 * 1024;
/**
 * What recv(2) reads into; each recv returns a copy of what it got, so the Session may keep it.
 * One per thread (a module loads once per isolate), shared by the connections it serves in turn:
 * one per connection left 64 KiB to malloc per connection, and the fuzz check's 25,000 short
 * connections grew 8 threads to 460 MiB resident in freed, fragmented buffers.
 */
const scratch = Buffer.allocUnsafe(64 * 1024);

export class BlockingSocket implements HandlerSocket {
  /** Undefined blocks forever; 0 never blocks. */
  private timeoutMs: number | undefined;
  private closed = false;
  /** Set as `close` hands the fd back: from then on the main thread may close it, and a new accept reuse its number. */
  private released = false;
  /** Bytes accepted (by sendall or push) and not yet handed to the kernel, oldest first. */
  private readonly unsent: Uint8Array[] = [];
  private unsentBytes = 0;
  /** A send failed (the peer reset): every later call raises it. */
  private failure: SocketError | undefined;

  constructor(
    private readonly fd: number,
    private readonly link: MainThreadLink,
  ) {
    link.onDispatched = () => this.sendQueued();
  }

  /** Up to `maxBytes` bytes; b'' once the peer closed (or this socket was closed while waiting). */
  recv(maxBytes: number): Buffer {
    this.ensureOpen();
    const deadline = this.timeoutMs === undefined ? undefined : performance.now() + this.timeoutMs;
    const into = maxBytes >= scratch.length ? scratch : scratch.subarray(0, maxBytes);
    for (;;) {
      this.link.dispatch();
      if (this.closed) return EMPTY;
      if (this.failure !== undefined) throw this.failure;
      const held = this.link.readingHeld;
      const left = deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
      // poll first: with one request in flight, a recv right after the reply would only say EAGAIN.
      // Held: only the wake fd (and room for queued pushes), so a hung-up peer cannot make poll spin.
      const events = (held ? 0 : POLLIN) | (this.unsentBytes > 0 ? POLLOUT : 0);
      const ready = this.link.wait(events === 0 ? undefined : this.fd, events, left);
      // Closed by what the wake ran (a SLOW_CONSUMER cut): the fd may be the main thread's to close now.
      if (this.closed) return EMPTY;
      if ((ready & POLLNVAL) !== 0) throw new SocketError('EBADF', 'poll: the fd is not open');
      if ((ready & POLLOUT) !== 0) this.sendQueued();
      if (!held && (ready & (POLLIN | POLLHUP | POLLERR)) !== 0) {
        const count = recvNow(this.fd, into);
        if (count > 0) return Buffer.from(into.subarray(0, count));
        if (count === 0) return EMPTY;
        if (count !== -Errno.EAGAIN && count !== -Errno.EINTR) throw new SocketError('ECONNRESET', `recv: errno ${-count}`);
      }
      if (left === 0) throw new SocketTimeout('timed out');
    }
  }

  /** Returns once the kernel took every byte (and every byte queued before them); blocks while a slow reader leaves no room. */
  sendall(bytes: Uint8Array): void {
    this.ensureOpen();
    this.raiseIfFailed();
    if (bytes.length > 0) this.queue(bytes);
    for (;;) {
      this.sendQueued();
      this.raiseIfFailed();
      if (this.unsentBytes === 0 || this.closed) return;
      this.link.wait(this.fd, POLLOUT, undefined);
    }
  }

  /** A room's push: queued behind what is unsent, sent once the batch that made it has run. */
  push(bytes: Uint8Array): void {
    if (this.closed || this.failure !== undefined || bytes.length === 0) return;
    this.queue(bytes);
  }

  /** Bytes written and not yet taken by the peer: what is queued here plus the kernel's send queue (SIOCOUTQ). */
  outboundBytes(): number {
    return this.unsentBytes + (this.released ? 0 : unsentInKernel(this.fd));
  }

  /**
   * Hands the kernel what it takes now, then the fd and what is still unsent to the main
   * thread, whose libuv sends the rest, then FIN, and reads and discards a while (core's
   * closeLingering) so the peer gets our last bytes rather than a reset, as a kernel does
   * after close(2). The thread is free for its next connection at once.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sendQueued();
    const tail = this.failure === undefined && this.unsentBytes > 0 ? Buffer.concat(this.unsent, this.unsentBytes) : EMPTY;
    this.unsent.length = 0;
    this.unsentBytes = 0;
    this.released = true;
    // Not flushed here: the thread's `idle` joins it in one batch, so the main thread frees the
    // thread as it closes this connection, before the client's next connect can find none free.
    this.link.post({ kind: 'close', tail });
  }

  /** Seconds, as in Python: null blocks forever, 0 never blocks. */
  settimeout(seconds: number | null): void {
    this.timeoutMs = seconds === null ? undefined : Math.max(0, seconds * 1000);
  }

  private queue(bytes: Uint8Array): void {
    this.unsent.push(bytes);
    this.unsentBytes += bytes.length;
  }

  /** Hands the kernel what it takes of the queue now, joined into one send; never blocks. */
  private sendQueued(): void {
    while (this.unsent.length > 0 && this.failure === undefined && !this.released) {
      const head = this.joinHead();
      const count = sendNow(this.fd, head);
      if (count < 0) {
        if (count === -Errno.EAGAIN || count === -Errno.EINTR) return;
        this.failure = new SocketError(count === -Errno.EPIPE ? 'EPIPE' : 'ECONNRESET', `send: errno ${-count}`);
        return;
      }
      this.unsentBytes -= count;
      if (count < head.length) {
        this.unsent[0] = head.subarray(count);
        return;
      }
      this.unsent.shift();
    }
  }

  /** The queue's head, with the chunks after it joined on while under JOIN_BYTES: one send for a batch of pushes. */
  private joinHead(): Uint8Array {
    const head = this.unsent[0] as Uint8Array;
    if (this.unsent.length === 1 || head.length >= JOIN_BYTES) return head;
    let count = 1;
    let total = head.length;
    while (count < this.unsent.length) {
      const next = (this.unsent[count] as Uint8Array).length;
      if (total + next > JOIN_BYTES) break;
      total += next;
      count += 1;
    }
    if (count === 1) return head;
    const joined = Buffer.concat(this.unsent.slice(0, count), total);
    this.unsent.splice(0, count, joined);
    return joined;
  }

  /** A send that failed earlier (a push's, in the background) fails this sendall: EPIPE, as a write after a reset does. */
  private raiseIfFailed(): void {
    if (this.failure !== undefined) throw new SocketError('EPIPE', this.failure.message);
  }

  private ensureOpen(): void {
    if (this.closed) throw new SocketError('EBADF', 'the socket is closed');
  }
}
