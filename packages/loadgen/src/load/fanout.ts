/**
 * The fan-out scenario: one publisher, N members in one room, at most `window` messages not yet
 * delivered to every member. It speaks Echoplex's text dialect (JOIN/SAY) or Redis's inline
 * commands (SUBSCRIBE/PUBLISH), with the same code on the hot path, so the Redis row compares
 * servers, not clients. With several targets (servers on one hub) the members are dealt over
 * them and the publisher stays on the first, so most deliveries cross the hub. Everything runs on
 * the calling thread: completion is one counter per message in flight, shared by every member.
 */
import net from 'node:net';
import { connectOptions, formatTarget, type Target } from '../target.js';
import { summarise } from './latency-histogram.js';
import type { LoadOptions } from './load-options.js';
import type { LoadResult, TimelineSecond } from './load-result.js';
import type { RunHooks } from './run-load.js';
import { ShardStats } from './shard-stats.js';

const LF = 0x0a;
const READ_BUFFER_BYTES = 256 * 1024;
/** Members connect this many at a time, so the server's accept queue is not flooded. */
const CONNECT_BATCH = 200;

/** What one protocol says on the wire for this scenario; everything else is shared. */
interface FanoutWire {
  /** Bytes a member sends to join (SUBSCRIBE, or NICK + JOIN). */
  readonly memberHello: (index: number) => Buffer;
  /** Bytes the publisher sends before the run (Echoplex: NICK + JOIN; Redis: nothing). */
  readonly publisherHello: Buffer;
  /** One published message. */
  readonly publish: Buffer;
  /** The exact bytes one member receives for one message. */
  readonly delivery: Buffer;
  /** Whether `line` (without its LF) is the reply that says a member or the publisher has joined. */
  readonly joined: (line: string) => boolean;
}

function echoplexWire(room: string, text: string): FanoutWire {
  const publisherNick = `${room}-pub`;
  return {
    memberHello: (index) => Buffer.from(`NICK ${room}-m${index}\nJOIN ${room}\n`),
    publisherHello: Buffer.from(`NICK ${publisherNick}\nJOIN ${room}\n`),
    publish: Buffer.from(`SAY ${text}\n`),
    delivery: Buffer.from(`MSG ${room} ${publisherNick} ${text}\n`),
    joined: (line) => line === `OK JOIN ${room}`,
  };
}

function redisWire(channel: string, text: string): FanoutWire {
  return {
    memberHello: () => Buffer.from(`SUBSCRIBE ${channel}\r\n`),
    publisherHello: Buffer.alloc(0),
    publish: Buffer.from(`PUBLISH ${channel} ${text}\r\n`),
    delivery: Buffer.from(`*3\r\n$7\r\nmessage\r\n$${channel.length}\r\n${channel}\r\n$${text.length}\r\n${text}\r\n`),
    // The subscribe reply's last line is the subscription count, `:1`.
    joined: (line) => line === ':1\r',
  };
}

/** The messages in flight, by sequence number modulo a power of two at least `window`. */
class Window {
  readonly mask: number;
  readonly sentAt: Float64Array;
  readonly remaining: Int32Array;
  sent = 0;
  completed = 0;

  constructor(
    readonly size: number,
    readonly members: number,
  ) {
    let slots = 1;
    while (slots < size) slots *= 2;
    this.mask = slots - 1;
    this.sentAt = new Float64Array(slots);
    this.remaining = new Int32Array(slots);
  }
}

/** A member reads lines until it has joined, then counts fixed-size deliveries. */
class FanoutMember {
  socket: net.Socket | undefined;
  joined = false;
  /** Past the handshake and the pushes before the first delivery (JOINED): counting fixed-size deliveries. */
  private counting = false;
  /** Messages received since joining: the next delivery's sequence number. */
  received = 0;
  /** Bytes into the current delivery. */
  private offset = 0;
  private line = '';

  constructor(
    private readonly name: string,
    private readonly run: FanoutRun,
  ) {}

  onRead(length: number, buffer: Buffer): true {
    let at = 0;
    if (!this.counting) {
      at = this.readHandshake(length, buffer);
      if (!this.counting) return true;
    }
    this.run.deliveries(this, buffer, at, length);
    return true;
  }

  /** Consumes lines until the first delivery (JOINED pushes of later members come before it); returns where it starts. */
  private readHandshake(length: number, buffer: Buffer): number {
    const first = this.run.wire.delivery[0] as number;
    let at = 0;
    while (at < length) {
      if (this.joined && this.line === '' && buffer[at] === first) {
        this.counting = true;
        return at;
      }
      const end = buffer.indexOf(LF, at);
      if (end === -1 || end >= length) {
        this.line += buffer.toString('latin1', at, length);
        return length;
      }
      const line = this.line + buffer.toString('latin1', at, end);
      this.line = '';
      at = end + 1;
      if (line.startsWith('ERR') || line.startsWith('-')) this.run.stats.recordError(() => `${this.name}: ${line.trim()}`);
      if (!this.joined && this.run.wire.joined(line)) {
        this.joined = true;
        this.run.memberJoined();
      }
    }
    return at;
  }

  /** Walks `buffer[from, to)` as fixed-size deliveries: returns how many complete here, checking each one's first byte. */
  countDeliveries(buffer: Buffer, from: number, to: number, delivery: Buffer): number {
    const size = delivery.length;
    let at = from;
    let complete = 0;
    if (this.offset > 0) {
      const need = size - this.offset;
      if (to - at < need) {
        this.offset += to - at;
        return 0;
      }
      at += need;
      this.offset = 0;
      complete++;
    }
    const first = delivery[0] as number;
    const last = delivery[size - 1] as number;
    while (to - at >= size) {
      if (buffer[at] !== first || buffer[at + size - 1] !== last) {
        const seen = buffer.toString('latin1', at, Math.min(to, at + size)).trim();
        this.run.stats.recordError(() => `${this.name}: expected '${delivery.toString('latin1').trim()}', got '${seen}'`);
        this.socket?.destroy();
        return complete;
      }
      at += size;
      complete++;
    }
    if (at < to) {
      if (buffer[at] !== first)
        this.run.stats.recordError(() => `${this.name}: a delivery does not start with '${String.fromCharCode(first)}'`);
      this.offset = to - at;
    }
    return complete;
  }
}

class FanoutRun {
  readonly stats = new ShardStats();
  readonly wire: FanoutWire;
  readonly window: Window;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly members: FanoutMember[] = [];
  private publisher: net.Socket | undefined;
  /** `window.size` copies of the publish bytes: a burst of k messages is one write of its first k. */
  private readonly burst: Buffer;
  private joinedCount = 0;
  private allJoined: (() => void) | undefined;
  private pumpScheduled = false;
  private stopped = false;

  constructor(private readonly options: LoadOptions) {
    const tag = `F${process.pid.toString(36)}${Date.now().toString(36)}`;
    const text = 'x'.repeat(Math.max(1, options.size));
    this.wire = options.redis ? redisWire(tag, text) : echoplexWire(tag, text);
    this.window = new Window(options.window, options.connections);
    // Closed model: a message is sent when intended, so one histogram serves for both.
    this.stats.recordsUncorrected = false;
    this.burst = Buffer.concat(Array.from({ length: options.window }, () => this.wire.publish));
  }

  async connect(): Promise<void> {
    const { options } = this;
    const timeoutMs = options.connectTimeoutSeconds * 1000;
    if (!options.redis) await this.connectPublisher(timeoutMs);
    const members = options.connections;
    for (let first = 0; first < members; first += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let index = first; index < Math.min(members, first + CONNECT_BATCH); index++) batch.push(this.connectMember(index));
      await Promise.all(batch);
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        if (this.joinedCount === members) resolve();
        else this.allJoined = resolve;
      }),
      timeoutMs,
      () => `${members - this.joinedCount} of ${members} members had not joined after ${timeoutMs} ms`,
    );
    if (options.redis) await this.connectPublisher(timeoutMs);
  }

  memberJoined(): void {
    this.joinedCount++;
    if (this.joinedCount === this.options.connections) this.allJoined?.();
  }

  /** Runs warmup then the measured window, and returns the result. */
  async run(hooks: RunHooks): Promise<LoadResult> {
    const { options, stats } = this;
    const timeline: TimelineSecond[] = [];
    let second = -Math.ceil(options.warmupSeconds) + 1;
    const tick = (phase: 'warmup' | 'measure'): void => {
      const entry = { second: second++, phase, ...stats.takeSecond() };
      timeline.push(entry);
      hooks.onSecond?.(entry);
    };
    stats.phase = options.warmupSeconds > 0 ? 'warmup' : 'measure';
    let ticker = setInterval(() => tick('warmup'), 1000);
    this.pump();
    if (options.warmupSeconds > 0) await sleep(options.warmupSeconds * 1000);
    clearInterval(ticker);
    // What the warmup ticker left of its last part-second is not part of any second.
    stats.takeSecond();
    second = 1;
    stats.phase = 'measure';
    const sentBefore = this.window.sent;
    ticker = setInterval(() => tick('measure'), 1000);
    await sleep(options.durationSeconds * 1000);
    clearInterval(ticker);
    stats.sent = this.window.sent - sentBefore;
    tick('measure');
    stats.phase = 'done';
    this.stop();
    return this.result(timeline);
  }

  stop(): void {
    this.stopped = true;
    this.publisher?.destroy();
    for (const member of this.members) member.socket?.destroy();
  }

  /** A member's deliveries in `buffer[from, to)`: each is timed and counted against its message. */
  deliveries(member: FanoutMember, buffer: Buffer, from: number, to: number): void {
    const complete = member.countDeliveries(buffer, from, to, this.wire.delivery);
    if (complete === 0) return;
    const { window, stats } = this;
    const now = performance.now();
    let finished = false;
    for (let k = 0; k < complete; k++) {
      const slot = member.received & window.mask;
      member.received++;
      if (member.received > window.sent) {
        stats.recordError(() => 'a member received more messages than were published');
        return;
      }
      const sentAt = window.sentAt[slot] as number;
      stats.recordReply(now, sentAt, sentAt);
      const left = (window.remaining[slot] as number) - 1;
      window.remaining[slot] = left;
      if (left === 0) {
        window.completed++;
        finished = true;
      }
    }
    if (finished) this.schedulePump();
  }

  /** Publishes once per loop turn, after every read of that turn, as an epoll client does. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const { window } = this;
    if (this.stopped || this.publisher === undefined) return;
    const count = window.size - (window.sent - window.completed);
    if (count <= 0) return;
    const now = performance.now();
    for (let k = 0; k < count; k++) {
      const slot = (window.sent + k) & window.mask;
      window.sentAt[slot] = now;
      window.remaining[slot] = window.members;
    }
    window.sent += count;
    this.publisher.write(this.burst.subarray(0, count * this.wire.publish.length));
  }

  private connectMember(index: number): Promise<void> {
    const member = new FanoutMember(`member ${index}`, this);
    this.members.push(member);
    // Dealt round-robin over every server: with a hub, member 1 of 2 servers hears the publisher through it.
    const targets = [this.options.target, ...this.options.extraTargets];
    const target = targets[index % targets.length] as Target;
    return new Promise((resolve) => {
      const socket = net.connect({
        ...connectOptions(target),
        onread: { buffer: this.readBuffer, callback: (length: number, buffer: Uint8Array) => member.onRead(length, buffer as Buffer) },
      });
      member.socket = socket;
      socket.once('connect', () => {
        socket.setNoDelay(true);
        socket.write(this.wire.memberHello(index));
        resolve();
      });
      socket.on('error', (error) => {
        this.stats.connectionFailures += member.joined ? 0 : 1;
        this.stats.recordError(() => `member ${index} (${formatTarget(target)}): ${error.message}`);
        resolve();
      });
      socket.on('close', () => {
        if (!this.stopped && member.joined) this.stats.recordError(() => `member ${index}: closed by the server`);
      });
    });
  }

  private connectPublisher(timeoutMs: number): Promise<void> {
    const redis = this.options.redis;
    let line = '';
    let replies = 0;
    const expected = `:${this.options.connections}`;
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(connectOptions(this.options.target));
        this.publisher = socket;
        socket.once('connect', () => {
          socket.setNoDelay(true);
          if (redis) resolve();
          else socket.write(this.wire.publisherHello);
        });
        socket.on('data', (chunk: Buffer) => {
          // Echoplex: OK NICK, OK JOIN, then JOINED pushes (ignored). Redis: `:<subscribers>` per PUBLISH, the first checked.
          if (!redis || replies === 0) {
            const text = line + chunk.toString('latin1');
            const lines = text.split('\n');
            line = lines.pop() ?? '';
            for (const reply of lines) {
              if (reply.startsWith('ERR') || reply.startsWith('-')) this.stats.recordError(() => `publisher: ${reply.trim()}`);
              if (redis && replies++ === 0 && reply.trim() !== expected) {
                this.stats.recordError(() => `publisher: PUBLISH reached ${reply.trim()} subscribers, expected ${expected}`);
              }
              if (!redis && this.wire.joined(reply)) resolve();
            }
          }
        });
        socket.on('error', (error) => {
          this.stats.recordError(() => `publisher: ${error.message}`);
          reject(new Error(`publisher: ${error.message}`));
        });
      }),
      timeoutMs,
      () => `the publisher had not joined after ${timeoutMs} ms`,
    );
  }

  private result(timeline: TimelineSecond[]): LoadResult {
    const { options, stats } = this;
    const messagesPerSecond = stats.messages / options.durationSeconds;
    const latency = summarise(stats.corrected);
    return {
      version: 1,
      target: [options.target, ...options.extraTargets].map(formatTarget).join(' '),
      scenario: 'fanout',
      loadModel: 'closed',
      connections: options.connections,
      threads: 0,
      pipeline: options.window,
      size: options.size,
      rate: null,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      messages: stats.messages,
      messagesPerSecond: Math.round(messagesPerSecond * 10) / 10,
      bytesPerSecond: Math.round(messagesPerSecond * this.wire.delivery.length),
      sent: stats.sent,
      errors: stats.errors,
      errorSamples: stats.errorSamples,
      lateSends: 0,
      latencyMicros: latency,
      uncorrectedLatencyMicros: latency,
      connectionsOpened: options.connections + 1 - stats.connectionFailures,
      connectionFailures: stats.connectionFailures,
      timeline,
    };
  }
}

/** Runs the fan-out scenario on this thread (`threads` does not apply). */
export async function runFanout(options: LoadOptions, hooks: RunHooks = {}): Promise<LoadResult> {
  const run = new FanoutRun(options);
  try {
    await run.connect();
  } catch (error) {
    run.stop();
    throw error;
  }
  return run.run(hooks);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
