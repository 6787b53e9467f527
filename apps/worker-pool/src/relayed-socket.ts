/**
 * The main thread's half of a connection: the socket stays here (Node 20 cannot move
 * it into a worker), its bytes go to the owning worker as records, and flow control
 * holds both ways so neither thread buffers without bound.
 */
import type { Socket } from 'node:net';
import { closeLingering } from '@echoplex/core/node';
import { Op } from './records.js';

/** Bytes read and not yet taken by the worker's session, before the socket stops being read. */
export const READ_WINDOW = 256 * 1024;

/** Whether every socket of the pool stops being read: a worker has too many pushes in flight to it. */
export interface ReadHold {
  readonly held: boolean;
}

/** Where a relayed socket sends its records: the owning worker. */
export interface RecordSink {
  send(op: Op, id: number, value?: number): void;
  sendData(id: number, bytes: Buffer): void;
}

export class RelayedSocket {
  /** Bytes sent to the worker and not yet CONSUMED. */
  private inflight = 0;
  private workerPaused = false;
  private reading = true;
  /** The session closed: the socket is ending, what it still reads is discarded. */
  private closing = false;
  /** The worker died: nothing more is sent to it. */
  private orphaned = false;

  constructor(
    readonly socket: Socket,
    readonly id: number,
    busy: boolean,
    private readonly worker: RecordSink,
    private readonly hold: ReadHold,
    private readonly onRelease: (connection: RelayedSocket) => void,
    private readonly onGone: (connection: RelayedSocket) => void,
  ) {
    socket.setNoDelay(true);
    worker.send(Op.OPEN, id, busy ? 1 : 0);
    socket.on('data', (chunk: Buffer) => {
      this.inflight += chunk.length;
      worker.sendData(id, chunk);
      this.updateReading();
    });
    socket.on('end', () => {
      if (!this.closing && !this.orphaned) worker.send(Op.END, id);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (!this.orphaned) worker.send(Op.ABORT, id);
      this.closing = true;
      this.onRelease(this);
      this.onGone(this);
    });
    // Accepted while the pool holds reading: it waits like the others.
    this.updateReading();
  }

  /** A record from the worker for this connection. */
  receive(op: Op, value: number, payload: Buffer | undefined): void {
    switch (op) {
      case Op.DATA:
        if (payload !== undefined) this.write(payload);
        return;
      case Op.CONSUMED:
        this.inflight -= value;
        this.updateReading();
        return;
      case Op.PAUSE:
        this.workerPaused = true;
        this.updateReading();
        return;
      case Op.RESUME:
        this.workerPaused = false;
        this.updateReading();
        return;
      case Op.CLOSE:
        this.close();
        return;
    }
  }

  /** The owning worker died: this connection dies with it, and no one else's does. */
  orphan(): void {
    this.orphaned = true;
    this.socket.destroy();
  }

  private write(bytes: Buffer): void {
    if (this.socket.destroyed) return;
    const length = bytes.length;
    // Reported once the kernel has the bytes: until then they count as the session's outbound.
    this.socket.write(bytes, () => {
      if (!this.orphaned) this.worker.send(Op.WRITTEN, this.id, length);
    });
  }

  private close(): void {
    if (this.closing) return;
    this.closing = true;
    this.onRelease(this);
    closeLingering(this.socket);
  }

  /** The pool's hold changed. */
  holdChanged(): void {
    this.updateReading();
  }

  private updateReading(): void {
    if (this.closing) return;
    const read = !this.workerPaused && this.inflight < READ_WINDOW && !this.hold.held;
    if (read === this.reading) return;
    this.reading = read;
    if (read) this.socket.resume();
    else this.socket.pause();
  }
}
