/**
 * One churn slot: connect, one ECHO, check the reply, close, and again, until the run ends.
 * Latency is the whole cycle, from starting the connect to the last reply byte.
 */
import net from 'node:net';
import { connectOptions, type Target } from '../target.js';
import type { Exchange } from './exchange.js';
import type { ShardStats } from './shard-stats.js';

/** Pause before retrying after a failed connect, so a refusing server is not spun against. */
const RETRY_DELAY_MS = 10;

export class ChurnSlot {
  private replyOffset = 0;
  private replyBad = false;
  private startedAt = 0;
  private cycles = 0;
  private stopped = false;
  private socket: net.Socket | undefined;
  /** The latest connect failed: the slot is retrying against a target that refuses it. */
  failing = false;

  constructor(
    private readonly index: number,
    private readonly exchange: Exchange,
    private readonly stats: ShardStats,
    private readonly target: Target,
    private readonly readBuffer: Buffer,
  ) {}

  start(): void {
    if (this.stopped || !this.stats.running) return;
    this.replyOffset = 0;
    this.replyBad = false;
    this.startedAt = performance.now();
    let finished = false;
    const socket = net.connect({
      ...connectOptions(this.target),
      onread: {
        buffer: this.readBuffer,
        callback: (length: number, buffer: Uint8Array) => {
          if (!finished && this.onRead(length, buffer as Buffer)) {
            finished = true;
            socket.destroy();
            this.start();
          }
          return true;
        },
      },
    });
    this.socket = socket;
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      this.failing = false;
      this.stats.connectionsOpened++;
      socket.write(this.exchange.request);
    });
    socket.on('error', (error) => {
      if (finished || this.stopped) return;
      finished = true;
      if (!connected) this.failing = true;
      this.stats.connectionFailures++;
      this.stats.recordError(() => `churn slot ${this.index}, cycle ${this.cycles + 1}: ${error.message}`);
      setTimeout(() => this.start(), RETRY_DELAY_MS);
    });
    socket.on('close', () => {
      if (finished || this.stopped) return;
      finished = true;
      this.stats.recordError(() => `churn slot ${this.index}, cycle ${this.cycles + 1}: closed before the reply`);
      setTimeout(() => this.start(), RETRY_DELAY_MS);
    });
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  /** True once the whole reply is in. */
  private onRead(length: number, buffer: Buffer): boolean {
    const expected = this.exchange.reply;
    const take = Math.min(length, expected.length - this.replyOffset);
    if (!this.replyBad && buffer.compare(expected, this.replyOffset, this.replyOffset + take, 0, take) !== 0) {
      this.replyBad = true;
      this.stats.recordError(() => `churn slot ${this.index}, cycle ${this.cycles + 1}: wrong reply bytes`);
    }
    this.replyOffset += take;
    if (this.replyOffset < expected.length) return false;
    this.cycles++;
    if (!this.replyBad) {
      const now = performance.now();
      this.stats.recordReply(now, this.startedAt, this.startedAt);
    }
    return true;
  }
}
