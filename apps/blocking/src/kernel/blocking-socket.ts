/**
 * The socket a handler thread sees, as in the classic tutorial: `recv` blocks until bytes
 * come, `sendall` until every byte is handed over, `settimeout` bounds the wait. Node has
 * no such sockets, so this one reads and writes the thread's shared rings, which the main
 * thread fills from and drains to the real node:net socket; it blocks in Atomics.wait.
 *
 * One thing a textbook socket has no need of: while blocked, it runs what the main thread
 * sent (room pushes, replies), the way a signal handler runs during a blocking call. A
 * `sendall` made from such a handler while another is blocked queues behind it, in order.
 */

import { type HandlerSocket, SocketError, SocketTimeout } from '@echoplex/core';
import type { MainThreadLink } from '../main-thread-link.js';
import { type ConnectionBuffers, PeerState } from './shared-buffers.js';

const EMPTY = Buffer.alloc(0);

export class BlockingSocket implements HandlerSocket {
  /** Undefined blocks forever; 0 never blocks. */
  private timeoutMs: number | undefined;
  private closed = false;
  /** Bytes `sendall` accepted and the outbound ring had no room for yet. */
  private readonly unsent: Uint8Array[] = [];
  private unsentBytes = 0;
  private sending = false;

  constructor(
    private readonly buffers: ConnectionBuffers,
    private readonly link: MainThreadLink,
  ) {}

  /** Up to `maxBytes` bytes; b'' once the peer closed (or this socket was closed while waiting). */
  recv(maxBytes: number): Buffer {
    this.ensureOpen();
    const { buffers } = this;
    const ready = () => this.closed || buffers.inbound.used > 0 || buffers.peer !== 0;
    if (!this.link.block(ready, this.timeoutMs)) throw new SocketTimeout('timed out');
    if (this.closed) return EMPTY;
    if (buffers.inbound.used > 0) {
      const bytes = buffers.inbound.read(maxBytes);
      if (buffers.takeInboundBlocked()) this.link.announce();
      return bytes;
    }
    if ((buffers.peer & PeerState.reset) !== 0) throw new SocketError('ECONNRESET', 'connection reset by peer');
    return EMPTY;
  }

  /** Returns once every byte is in the outbound ring; blocks while a slow reader leaves it full. */
  sendall(bytes: Uint8Array): void {
    this.ensureOpen();
    if ((this.buffers.peer & PeerState.reset) !== 0) throw new SocketError('EPIPE', 'broken pipe');
    if (bytes.length === 0) return;
    this.unsent.push(bytes);
    this.unsentBytes += bytes.length;
    if (this.sending) return;
    this.sending = true;
    try {
      const { buffers } = this;
      const roomOrGone = () => this.closed || buffers.outbound.free > 0 || (buffers.peer & PeerState.reset) !== 0;
      for (;;) {
        this.moveUnsent();
        if (this.unsentBytes === 0) return;
        // Marked before the last look for room: the main thread either sees the mark or made the room.
        buffers.markOutboundBlocked();
        if (buffers.outbound.free > 0) continue;
        this.link.block(roomOrGone);
        if (this.closed) return;
        if ((buffers.peer & PeerState.reset) !== 0) throw new SocketError('EPIPE', 'broken pipe');
      }
    } finally {
      this.sending = false;
    }
  }

  /** Bytes written and not yet taken by the peer's kernel (Linux's SIOCOUTQ): what `--max-outbound` bounds. */
  outboundBytes(): number {
    return this.unsentBytes + this.buffers.outbound.used + this.buffers.socketQueued;
  }

  /** Hands what is still unsent to the main thread (the kernel sends it after close), then FIN. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const tail = new Uint8Array(this.unsentBytes);
    let offset = 0;
    for (const chunk of this.unsent) {
      tail.set(chunk, offset);
      offset += chunk.length;
    }
    this.unsent.length = 0;
    this.unsentBytes = 0;
    this.link.post({ kind: 'close', tail });
  }

  /** Seconds, as in Python: null blocks forever, 0 never blocks. */
  settimeout(seconds: number | null): void {
    this.timeoutMs = seconds === null ? undefined : Math.max(0, seconds * 1000);
  }

  private moveUnsent(): void {
    const { outbound } = this.buffers;
    let moved = 0;
    while (this.unsent.length > 0) {
      const head = this.unsent[0] as Uint8Array;
      const count = outbound.write(head);
      moved += count;
      this.unsentBytes -= count;
      if (count < head.length) {
        this.unsent[0] = head.subarray(count);
        break;
      }
      this.unsent.shift();
    }
    if (moved > 0) this.link.announce();
  }

  private ensureOpen(): void {
    if (this.closed) throw new SocketError('EBADF', 'the socket is closed');
  }
}
