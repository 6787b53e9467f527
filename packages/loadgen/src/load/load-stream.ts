/**
 * What every load stream's connection does alike, written once: open the socket with the thread's
 * shared read buffer, time the connect out, and count a connection the server closed mid-run as
 * lost. A stream adds only what it sends and how it reads the replies.
 */
import net from 'node:net';
import { connectOptions, type Target } from '../target.js';
import type { ShardStats } from './shard-stats.js';

export abstract class LoadStream {
  protected socket: net.Socket | undefined;
  /** Open, and not stopped: false before the connect, after the close and after `stop()`. */
  protected alive = false;

  constructor(
    protected readonly index: number,
    protected readonly stats: ShardStats,
  ) {}

  /** Opens the connection; `readBuffer` is shared by every connection of the thread. Resolves false on any failure. */
  connect(target: Target, readBuffer: Buffer, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({
        ...connectOptions(target),
        onread: { buffer: readBuffer, callback: (length: number, buffer: Uint8Array) => this.onRead(length, buffer as Buffer) },
      });
      this.socket = socket;
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.alive = true;
        socket.setNoDelay(true);
        resolve(true);
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        if (!this.alive) {
          this.stats.recordError(() => `connection ${this.index}: ${error.message}`);
          resolve(false);
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (this.alive && this.stats.phase !== 'done') {
          this.stats.connectionsLost++;
          this.stats.recordError(() => `connection ${this.index}: closed by the server after ${this.progress()}`);
        }
        this.alive = false;
      });
    });
  }

  stop(): void {
    this.alive = false;
    this.socket?.destroy();
  }

  /** The socket's read callback. Always true: returning false would pause the socket. */
  protected abstract onRead(length: number, buffer: Buffer): true;

  /** What the connection got done before the server closed it, as the lost-connection error says it: `12 replies`. */
  protected abstract progress(): string;
}
