/**
 * The hot path: one connection sending the same pre-encoded frame and checking each reply
 * byte for byte against the expected one by offset arithmetic. Nothing is allocated per message:
 * the socket reads into a buffer shared by the thread, batches of frames are views made once,
 * and send times live in a ring of doubles.
 */
import type net from 'node:net';
import type { Exchange } from './exchange.js';
import { LoadStream } from './load-stream.js';
import type { ShardStats } from './shard-stats.js';

/** The open model's timetable for one connection: message k is due at `startMs + k * intervalMs`. */
export interface Schedule {
  readonly startMs: number;
  readonly intervalMs: number;
  /** A send this far behind its intended time is counted late. */
  readonly lateAfterMs: number;
}

export class RequestStream extends LoadStream {
  /** `batches[k]` is k request frames back to back: one write for k sends. */
  private readonly batches: Buffer[];
  private readonly sentAt: Float64Array;
  private readonly intendedAt: Float64Array;
  private readonly capacity: number;
  private readonly replyLength: number;
  private head = 0;
  private inFlight = 0;
  /** Open model: how many of the timetable's messages have been sent. */
  private scheduled = 0;
  private replyOffset = 0;
  private replyBad = false;
  private replies = 0;

  constructor(
    index: number,
    private readonly exchange: Exchange,
    pipeline: number,
    stats: ShardStats,
  ) {
    super(index, stats);
    this.capacity = pipeline;
    this.replyLength = exchange.reply.length;
    const all = Buffer.allocUnsafe(exchange.request.length * pipeline);
    for (let k = 0; k < pipeline; k++) exchange.request.copy(all, k * exchange.request.length);
    this.batches = [];
    for (let k = 0; k <= pipeline; k++) this.batches.push(all.subarray(0, k * exchange.request.length));
    this.sentAt = new Float64Array(pipeline);
    this.intendedAt = new Float64Array(pipeline);
  }

  /** Closed model: fill the pipeline; each reply then sends the next request. */
  startClosed(now: number): void {
    if (!this.alive) return;
    this.send(this.capacity, now, now);
  }

  /** Open model: send what the timetable says is due, as far as the in-flight cap allows. */
  pump(now: number, schedule: Schedule): void {
    if (!this.alive || this.stats.phase === 'done') return;
    const due = Math.floor((now - schedule.startMs) / schedule.intervalMs) + 1 - this.scheduled;
    const room = this.capacity - this.inFlight;
    const count = Math.min(due, room);
    if (count <= 0) return;
    const tail = this.head + this.inFlight;
    for (let k = 0; k < count; k++) {
      const intended = schedule.startMs + this.scheduled * schedule.intervalMs;
      if (now - intended > schedule.lateAfterMs) this.stats.recordLateSend();
      const slot = (tail + k) % this.capacity;
      this.sentAt[slot] = now;
      this.intendedAt[slot] = intended;
      this.scheduled++;
    }
    this.inFlight += count;
    (this.socket as net.Socket).write(this.batches[count] as Buffer);
  }

  /** Set by the shard in the open model, so a reply can release sends held back by the cap. */
  schedule: Schedule | undefined;

  protected override progress(): string {
    return `${this.replies} replies`;
  }

  private send(count: number, now: number, intended: number): void {
    const tail = this.head + this.inFlight;
    for (let k = 0; k < count; k++) {
      const slot = (tail + k) % this.capacity;
      this.sentAt[slot] = now;
      this.intendedAt[slot] = intended;
    }
    this.inFlight += count;
    (this.socket as net.Socket).write(this.batches[count] as Buffer);
  }

  protected override onRead(length: number, buffer: Buffer): true {
    const expected = this.exchange.reply;
    const replyLength = this.replyLength;
    let completed = 0;
    let now = 0;
    let i = 0;
    // Each turn consumes at least one byte: the loop ends within `length` turns.
    while (i < length) {
      const need = replyLength - this.replyOffset;
      const take = Math.min(need, length - i);
      if (!this.replyBad && buffer.compare(expected, this.replyOffset, this.replyOffset + take, i, i + take) !== 0) {
        this.replyBad = true;
        this.describeMismatch(buffer, i, take);
      }
      i += take;
      this.replyOffset += take;
      if (this.replyOffset === replyLength) {
        if (now === 0) now = performance.now();
        this.complete(now);
        completed++;
      }
    }
    if (completed === 0 || !this.alive || !this.stats.running) return true;
    if (this.schedule === undefined) this.send(completed, now, now);
    else this.pump(now, this.schedule);
    return true;
  }

  private complete(now: number): void {
    this.replies++;
    if (this.inFlight === 0) {
      this.stats.recordError(() => `connection ${this.index}: a reply nobody asked for`);
    } else {
      const slot = this.head;
      this.head = (slot + 1) % this.capacity;
      this.inFlight--;
      if (!this.replyBad) this.stats.recordReply(now, this.sentAt[slot] as number, this.intendedAt[slot] as number);
    }
    this.replyOffset = 0;
    this.replyBad = false;
  }

  /** The error path may allocate: it describes the first wrong byte of this reply. */
  private describeMismatch(buffer: Buffer, start: number, take: number): void {
    const expected = this.exchange.reply;
    for (let k = 0; k < take; k++) {
      const want = expected[this.replyOffset + k] as number;
      const got = buffer[start + k] as number;
      if (want !== got) {
        const hex = (value: number): string => `0x${value.toString(16).padStart(2, '0')}`;
        const at = this.replyOffset + k;
        this.stats.recordError(
          () => `connection ${this.index}, reply ${this.replies + 1}: byte ${at} is ${hex(got)}, expected ${hex(want)}`,
        );
        return;
      }
    }
  }
}
