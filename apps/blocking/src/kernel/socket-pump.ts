/**
 * The main thread as the kernel for one connection: it reads the node:net socket into the
 * serving thread's inbound ring and writes the outbound ring to the socket, and holds back
 * whichever side runs ahead. A full inbound ring pauses the socket; a socket that does not
 * drain leaves the outbound ring full, which blocks the thread in sendall.
 */
import type { Socket } from 'node:net';
import { closeLingering, OUTPUT_HIGH_WATER } from '@echoplex/core/node';
import { type ConnectionBuffers, PeerState, RING_BYTES } from './shared-buffers.js';

export class SocketPump {
  /** The serving thread's buffers; undefined while the connection waits for a thread, and after it closed. */
  private buffers: ConnectionBuffers | undefined;
  /** Inbound bytes not yet in the ring: what arrived while waiting, or what did not fit. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private peerEnded = false;
  private endPassed = false;
  private paused = false;
  /** Held by the pool: no socket is read while a thread has too many pushes waiting. */
  private held = false;
  private closing = false;
  private gone = false;
  /** When the listener accepted it: time spent waiting for a thread counts against its idle timeout. */
  readonly acceptedAt = performance.now();

  constructor(
    readonly socket: Socket,
    readonly id: number,
    /** Wakes the serving thread, once per turn of the event loop however many times it is asked. */
    private readonly wakeSoon: (buffers: ConnectionBuffers) => void,
    private readonly onGone: (pump: SocketPump) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      this.peerEnded = true;
      this.passEnd();
    });
    socket.on('drain', () => this.service());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.gone = true;
      if (this.buffers !== undefined) {
        this.buffers.setPeer(PeerState.reset);
        this.wakeSoon(this.buffers);
      }
      this.onGone(this);
    });
  }

  /** What arrived while it waited for a thread (at most a ring's worth), for the dialect of a refusal. */
  get received(): Buffer {
    return Buffer.concat(this.pending);
  }

  /** A thread takes the connection: what arrived while it waited moves into the thread's ring. */
  attach(buffers: ConnectionBuffers): void {
    this.buffers = buffers;
    this.fillInbound();
  }

  /** The thread rang, or the socket drained: move bytes both ways. */
  service(): void {
    const { buffers } = this;
    if (buffers === undefined || this.gone || this.socket.destroyed) return;
    const { outbound } = buffers;
    let moved = false;
    while (outbound.used > 0 && this.socket.writableLength < OUTPUT_HIGH_WATER) {
      this.socket.write(outbound.read(RING_BYTES));
      moved = true;
    }
    buffers.publishSocketQueued(this.socket.writableLength);
    if (moved && buffers.takeOutboundBlocked()) this.wakeSoon(buffers);
    if (this.pendingBytes > 0) this.fillInbound();
  }

  /**
   * The thread closed its socket: send what is left in the ring and what it handed over,
   * then FIN, and keep reading (and discarding) a while so the peer gets our last bytes
   * rather than a reset. Also closes a connection that never got a thread.
   */
  close(tail: Uint8Array): void {
    const { buffers } = this;
    this.buffers = undefined;
    this.closing = true;
    this.pending.length = 0;
    this.pendingBytes = 0;
    if (this.gone) return;
    if (buffers !== undefined) {
      while (buffers.outbound.used > 0) this.socket.write(buffers.outbound.read(RING_BYTES));
    }
    if (tail.length > 0) this.socket.write(tail);
    this.paused = false;
    closeLingering(this.socket);
  }

  /** Stops (or resumes) reading the socket, whatever the rings say; its own pause stands. */
  hold(held: boolean): void {
    if (held === this.held || this.closing) return;
    this.held = held;
    if (held) this.socket.pause();
    else if (!this.paused) this.socket.resume();
  }

  /** The thread died, or the drain timed out. */
  destroy(): void {
    this.buffers = undefined;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.fillInbound();
  }

  private fillInbound(): void {
    const { buffers } = this;
    if (buffers !== undefined) {
      const { inbound } = buffers;
      let moved = 0;
      while (this.pending.length > 0) {
        const head = this.pending[0] as Buffer;
        const count = inbound.write(head);
        moved += count;
        this.pendingBytes -= count;
        if (count === head.length) {
          this.pending.shift();
          continue;
        }
        this.pending[0] = head.subarray(count);
        // Marked before the last look for room: the thread either sees the mark or made the room.
        buffers.markInboundBlocked();
        if (inbound.free === 0) break;
      }
      if (moved > 0) this.wakeSoon(buffers);
    }
    // Attached: hold nothing back beyond the ring. Waiting: buffer a ring's worth, as a kernel would.
    const limit = buffers === undefined ? RING_BYTES : 1;
    if (this.pendingBytes >= limit && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (this.pendingBytes < limit && this.paused) {
      this.paused = false;
      if (!this.held) this.socket.resume();
    }
    this.passEnd();
  }

  /** FIN reaches the thread only after every byte before it. */
  private passEnd(): void {
    const { buffers } = this;
    if (!this.peerEnded || this.endPassed || this.pendingBytes > 0 || buffers === undefined) return;
    this.endPassed = true;
    buffers.setPeer(PeerState.ended);
    this.wakeSoon(buffers);
  }
}
