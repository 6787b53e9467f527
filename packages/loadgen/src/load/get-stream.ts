/**
 * The `get` scenario's connection: one binary GET at a time, in a closed loop. The reply's frames
 * are walked by offset arithmetic in the thread's shared read buffer, never gathered: a download
 * costs its byte count (and, with `--sha256`, a hash update), however large the file.
 */
import { createHash, type Hash } from 'node:crypto';
import type net from 'node:net';
import { encodeBinaryRequest, FRAME_HEADER_BYTES, FrameType, MAX_FRAME_LIMIT } from '@echoplex/protocol';
import { LoadStream } from './load-stream.js';
import type { ShardStats } from './shard-stats.js';

/** What each download must be: its size always, its SHA-256 (lower-case hex) when given. */
export interface ExpectedFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256?: string;
}

/** The part of an ERR body kept to describe it. */
const ERR_TEXT_BYTES = 200;

export class GetStream extends LoadStream {
  private readonly request: Buffer;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private frameType = 0;
  private bodyRemaining = 0;
  private errText = '';
  /** File bytes of the download in progress. */
  private received = 0;
  private hash: Hash | undefined;
  private sentAt = 0;
  private downloads = 0;

  constructor(
    index: number,
    private readonly file: ExpectedFile,
    stats: ShardStats,
  ) {
    super(index, stats);
    this.request = encodeBinaryRequest({ command: 'GET', name: file.name });
  }

  /** The closed loop: the first GET now, each next one when the last ends. */
  startClosed(now: number): void {
    if (this.alive) this.send(now);
  }

  protected override progress(): string {
    return `${this.downloads} downloads`;
  }

  private send(now: number): void {
    this.received = 0;
    this.hash = this.file.sha256 === undefined ? undefined : createHash('sha256');
    this.sentAt = now;
    (this.socket as net.Socket).write(this.request);
  }

  protected override onRead(length: number, buffer: Buffer): true {
    let i = 0;
    // Each turn consumes at least one byte, or ends a frame with an empty body: within `length` turns plus one per frame.
    while (i < length || (this.headerFill === FRAME_HEADER_BYTES && this.bodyRemaining === 0)) {
      if (this.headerFill < FRAME_HEADER_BYTES) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, length - i);
        buffer.copy(this.header, this.headerFill, i, i + take);
        this.headerFill += take;
        i += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const frameLength = this.header.readUInt32BE(0);
        if (frameLength === 0 || frameLength > MAX_FRAME_LIMIT + 1) {
          this.stats.recordError(() => `connection ${this.index}: a frame length of ${frameLength}, out of step with the server`);
          this.stop();
          return true;
        }
        this.frameType = this.header[4] as number;
        this.bodyRemaining = frameLength - 1;
        this.errText = '';
        continue;
      }
      if (this.bodyRemaining > 0) {
        const take = Math.min(this.bodyRemaining, length - i);
        if (this.frameType === FrameType.FILE_DATA) {
          this.received += take;
          this.hash?.update(buffer.subarray(i, i + take));
        } else if (this.frameType === FrameType.ERR && this.errText.length < ERR_TEXT_BYTES) {
          this.errText += buffer.toString('utf8', i, Math.min(i + take, i + ERR_TEXT_BYTES - this.errText.length));
        }
        this.bodyRemaining -= take;
        i += take;
        if (this.bodyRemaining > 0) break;
      }
      const empty = this.header.readUInt32BE(0) === 1;
      this.headerFill = 0;
      this.frameEnded(empty);
      if (!this.alive) return true;
    }
    return true;
  }

  private frameEnded(empty: boolean): void {
    const download = this.downloads + 1;
    if (this.frameType === FrameType.FILE_DATA) {
      if (empty) this.downloadEnded();
      return;
    }
    if (this.frameType === FrameType.ERR) {
      // The server answered this GET with an error instead of the file: the download is over.
      const text = this.errText;
      this.stats.recordError(() => `connection ${this.index}, download ${download}: ERR ${text}`);
      this.downloads++;
      this.next();
      return;
    }
    const type = this.frameType;
    this.stats.recordError(() => `connection ${this.index}, download ${download}: a frame of type 0x${type.toString(16)} in a GET reply`);
  }

  private downloadEnded(): void {
    const now = performance.now();
    const download = ++this.downloads;
    const received = this.received;
    if (received !== this.file.bytes) {
      this.stats.recordError(() => `connection ${this.index}, download ${download}: ${received} bytes, expected ${this.file.bytes}`);
    } else if (this.hash !== undefined && this.hash.digest('hex') !== this.file.sha256) {
      this.stats.recordError(() => `connection ${this.index}, download ${download}: the bytes' SHA-256 is not ${this.file.sha256}`);
    } else {
      this.stats.recordReply(now, this.sentAt, this.sentAt);
    }
    this.next(now);
  }

  private next(now = performance.now()): void {
    if (this.alive && this.stats.running) this.send(now);
  }
}
