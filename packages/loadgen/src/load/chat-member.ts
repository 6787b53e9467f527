/**
 * One member of a chat room under load: it SAYs on a timetable, each text carrying its intended
 * and actual send times, and times every MSG it receives from the others on one clock
 * (`performance.timeOrigin + performance.now()`, shared by every thread). Frames are read into
 * a scratch buffer made once; SAY frames are a ring made once and stamped in place.
 */
import net from 'node:net';
import { encodeFrame, FrameType } from '@echoplex/protocol';
import { connectOptions, type Target } from '../target.js';
import type { Schedule } from './request-stream.js';
import type { ShardStats } from './shard-stats.js';

const DIGITS = 16;
/** `<intended µs> <sent µs>` since the epoch, fixed width. */
const TEXT_LENGTH = DIGITS * 2 + 1;
const RING = 64;
const SCRATCH = 512;
const SPACE = 0x20;
const ZERO = 0x30;

const epochMillis = (now: number): number => performance.timeOrigin + now;

export class ChatMember {
  private socket: net.Socket | undefined;
  private readonly ring: Buffer[] = [];
  private ringNext = 0;
  private readonly textOffset: number;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH);
  private readonly roomBytes: Buffer;
  private headerFill = 0;
  private bodyLength = 0;
  private bodyFill = 0;
  private scheduled = 0;
  private alive = false;
  private acknowledged = 0;
  private onJoined: (() => void) | undefined;

  constructor(
    private readonly nick: string,
    private readonly room: string,
    private readonly stats: ShardStats,
  ) {
    this.roomBytes = Buffer.from(room);
    const template = encodeFrame(FrameType.SAY, Buffer.alloc(TEXT_LENGTH, ZERO));
    template[5 + DIGITS] = SPACE;
    this.textOffset = 5;
    for (let k = 0; k < RING; k++) this.ring.push(Buffer.from(template));
  }

  /** Connects, claims the nick and joins the room; resolves false on any failure. */
  join(target: Target, readBuffer: Buffer, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stats.recordError(() => `${this.nick}: not joined after ${timeoutMs} ms`);
        this.socket?.destroy();
        resolve(false);
      }, timeoutMs);
      this.onJoined = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const socket = net.connect({
        ...connectOptions(target),
        onread: { buffer: readBuffer, callback: (length: number, buffer: Uint8Array) => this.onRead(length, buffer as Buffer) },
      });
      this.socket = socket;
      socket.once('connect', () => {
        this.alive = true;
        socket.setNoDelay(true);
        socket.write(Buffer.concat([encodeFrame(FrameType.NICK, Buffer.from(this.nick)), encodeFrame(FrameType.JOIN, this.roomBytes)]));
      });
      socket.on('error', (error) => {
        if (!this.alive) {
          clearTimeout(timer);
          this.stats.recordError(() => `${this.nick}: ${error.message}`);
          resolve(false);
        }
      });
      socket.on('close', () => {
        if (this.alive && this.stats.phase !== 'done') {
          this.stats.connectionsLost++;
          this.stats.recordError(() => `${this.nick}: closed by the server`);
        }
        this.alive = false;
      });
    });
  }

  /** Sends the SAYs the timetable says are due. A send the socket cannot take yet is late, not queued. */
  pump(now: number, schedule: Schedule): void {
    if (!this.alive || !this.stats.running) return;
    const socket = this.socket as net.Socket;
    const due = Math.floor((now - schedule.startMs) / schedule.intervalMs) + 1 - this.scheduled;
    const count = Math.min(due, RING / 2);
    if (count <= 0) return;
    const frameLength = (this.ring[0] as Buffer).length;
    socket.cork();
    for (let k = 0; k < count; k++) {
      const intended = schedule.startMs + this.scheduled * schedule.intervalMs;
      this.scheduled++;
      if (now - intended > schedule.lateAfterMs) this.stats.recordLateSend();
      // The ring is reused: a slot may still sit in the socket's queue if that queue is this long.
      if (socket.writableLength > (RING / 2) * frameLength) continue;
      const frame = this.ring[this.ringNext] as Buffer;
      this.ringNext = (this.ringNext + 1) % RING;
      writeDigits(frame, this.textOffset, Math.round(epochMillis(intended) * 1000));
      writeDigits(frame, this.textOffset + DIGITS + 1, Math.round(epochMillis(now) * 1000));
      if (this.stats.phase === 'measure') this.stats.sent++;
      socket.write(frame);
    }
    socket.uncork();
  }

  stop(): void {
    this.alive = false;
    this.socket?.destroy();
  }

  /** Always true: returning false would pause the socket. */
  private onRead(length: number, buffer: Buffer): true {
    let i = 0;
    // Each turn consumes at least one byte, or a whole frame of none: bounded by `length` + frames.
    for (let turns = 0; turns <= 2 * length + 1; turns++) {
      if (this.headerFill < 5) {
        if (i >= length) return true;
        const take = Math.min(5 - this.headerFill, length - i);
        buffer.copy(this.scratch, this.headerFill, i, i + take);
        this.headerFill += take;
        i += take;
        if (this.headerFill < 5) return true;
        this.bodyLength = this.scratch.readUInt32BE(0) - 1;
        this.bodyFill = 0;
        if (this.bodyLength < 0) {
          this.stats.recordError(() => `${this.nick}: a frame of length 0`);
          this.stop();
          return true;
        }
      }
      const need = this.bodyLength - this.bodyFill;
      const take = Math.min(need, length - i);
      if (this.bodyFill + take <= SCRATCH - 5) buffer.copy(this.scratch, 5 + this.bodyFill, i, i + take);
      this.bodyFill += take;
      i += take;
      if (this.bodyFill < this.bodyLength) return true;
      this.onFrame(this.scratch[4] as number);
      this.headerFill = 0;
    }
    return true;
  }

  private onFrame(type: number): void {
    const length = this.bodyLength;
    if (type === FrameType.MSG) {
      const sentMillis = this.parseMessage(length);
      if (sentMillis !== undefined) {
        const now = performance.now();
        const intended = readDigits(this.scratch, 5 + length - TEXT_LENGTH) / 1000 - performance.timeOrigin;
        this.stats.recordReply(now, sentMillis - performance.timeOrigin, intended);
      }
      return;
    }
    if (type === FrameType.NICK_OK || type === FrameType.JOIN_OK) {
      if (++this.acknowledged === 2) this.onJoined?.();
      return;
    }
    if (type === FrameType.JOINED || type === FrameType.LEFT) return;
    const body = this.scratch.subarray(5, 5 + Math.min(length, SCRATCH - 5)).toString('utf8');
    this.stats.recordError(() => `${this.nick}: unexpected frame 0x${type.toString(16)} ${body}`);
  }

  /** Checks `room nick <digits> <digits>` and returns the actual send time in epoch ms. */
  private parseMessage(length: number): number | undefined {
    const scratch = this.scratch;
    const roomLength = this.roomBytes.length;
    const textStart = 5 + length - TEXT_LENGTH;
    const valid =
      length <= SCRATCH - 5 &&
      length > roomLength + 2 + TEXT_LENGTH &&
      scratch.compare(this.roomBytes, 0, roomLength, 5, 5 + roomLength) === 0 &&
      scratch[5 + roomLength] === SPACE &&
      scratch[textStart - 1] === SPACE &&
      scratch[textStart + DIGITS] === SPACE &&
      allDigits(scratch, textStart, DIGITS) &&
      allDigits(scratch, textStart + DIGITS + 1, DIGITS);
    if (!valid) {
      const body = scratch.subarray(5, 5 + Math.min(length, SCRATCH - 5)).toString('utf8');
      this.stats.recordError(() => `${this.nick} in ${this.room}: malformed MSG '${body}'`);
      return undefined;
    }
    return readDigits(scratch, textStart + DIGITS + 1) / 1000;
  }
}

function writeDigits(target: Buffer, offset: number, value: number): void {
  let rest = value;
  for (let k = DIGITS - 1; k >= 0; k--) {
    target[offset + k] = ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

function readDigits(source: Buffer, offset: number): number {
  let value = 0;
  for (let k = 0; k < DIGITS; k++) value = value * 10 + ((source[offset + k] as number) - ZERO);
  return value;
}

function allDigits(source: Buffer, offset: number, count: number): boolean {
  for (let k = 0; k < count; k++) {
    const byte = source[offset + k] as number;
    if (byte < ZERO || byte > ZERO + 9) return false;
  }
  return true;
}
