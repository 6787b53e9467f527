/**
 * `echoplex-load --udp`: echo, ping and work over datagrams, closed or open model. UDP may
 * drop a request or its reply without a word, so a request unanswered within the timeout is
 * counted lost, and loss is reported beside latency: the price of having no connection.
 */
import { createSocket, type Socket } from 'node:dgram';
import { encodeFrame, FrameType, iteratedSha256, MAX_DATAGRAM_BYTES } from '@echoplex/protocol';
import { createHistogram, type Histogram, recordMillis, summarise } from '../load/latency-histogram.js';
import { type LoadOptions, validateLoadOptions, withDefaults } from '../load/load-options.js';
import type { LoadResult, TimelineSecond } from '../load/load-result.js';
import { TargetUnreachableError } from '../load/shard.js';
import { formatTarget, type Target } from '../target.js';

/** The scenarios a datagram can carry: one request, one reply. */
export const UDP_SCENARIOS = ['echo', 'ping', 'work'] as const;

export const DEFAULT_UDP_TIMEOUT_SECONDS = 1;

export interface UdpLoadResult extends LoadResult {
  readonly transport: 'udp';
  /** A request without a reply this long after it was sent is lost. */
  readonly timeoutSeconds: number;
  /** Requests intended inside the measured window. */
  readonly sent: number;
  /** Of those, how many got no reply within the timeout. */
  readonly lost: number;
  /** `lost / sent` (0 when nothing was sent). */
  readonly lossRate: number;
  /** Replies that came after their request had been counted lost. */
  readonly lateReplies: number;
}

export interface UdpRunHooks {
  readonly onSecond?: (second: TimelineSecond) => void;
}

/** Bytes of every echo/ping payload that name the request: the slot (u16) and its generation (u32). */
const TAG_BYTES = 6;
const MAX_PAYLOAD = MAX_DATAGRAM_BYTES - 5;
/** The PING each socket sends before the run, and its PONG, ignored if it comes late. */
const PROBE = encodeFrame(FrameType.PING, Buffer.from('probe'));
const PROBE_PONG = encodeFrame(FrameType.PONG, Buffer.from('probe'));

/** Why these options cannot run over UDP, or undefined. */
export function validateUdpOptions(options: LoadOptions, timeoutSeconds: number): string | undefined {
  if (!(UDP_SCENARIOS as readonly string[]).includes(options.scenario)) {
    return `--udp runs ${UDP_SCENARIOS.join(', ')} only: ${options.scenario} needs a connection`;
  }
  if (options.target.kind !== 'tcp') return "--udp needs a HOST:PORT target (the server's udpAddress)";
  const min = options.scenario === 'work' ? 2 : TAG_BYTES;
  if (options.size < min || options.size > MAX_PAYLOAD) return `--udp ${options.scenario} needs --size from ${min} to ${MAX_PAYLOAD} bytes`;
  if (options.mirror) return '--udp cannot run against a mirror server';
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 60)) return '--timeout must be above 0 and at most 60 seconds';
  return undefined;
}

/** One request in flight at most per slot; `pipeline` slots per socket. */
interface Slot {
  readonly socket: Socket;
  readonly index: number;
  readonly request: Buffer;
  /** The reply this slot's request must get back, byte for byte. */
  readonly expected: Buffer;
  generation: number;
  busy: boolean;
  sentAt: number;
  intendedAt: number;
}

interface SecondTally {
  messages: number;
  errors: number;
  lateSends: number;
  latencySum: number;
  latencyMax: number;
}

/** Runs one UDP load; rejects with TargetUnreachableError when no socket's probe PING is answered. */
export async function runUdpLoad(
  input: Partial<LoadOptions> & Pick<LoadOptions, 'target'>,
  timeoutSeconds = DEFAULT_UDP_TIMEOUT_SECONDS,
  hooks: UdpRunHooks = {},
): Promise<UdpLoadResult> {
  const options = withDefaults(input);
  const invalid = validateLoadOptions(options) ?? validateUdpOptions(options, timeoutSeconds);
  if (invalid !== undefined) throw new RangeError(invalid);
  const target = options.target as Extract<Target, { kind: 'tcp' }>;
  const { sockets, failures } = await openSockets(target, options.connections, options.connectTimeoutSeconds * 1000);
  return new UdpRun(options, timeoutSeconds * 1000, sockets, failures, hooks).run();
}

/** Opens `count` sockets connected to the target and checks each with a PING. */
async function openSockets(
  target: Extract<Target, { kind: 'tcp' }>,
  count: number,
  timeoutMs: number,
): Promise<{ sockets: Socket[]; failures: number }> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => openSocket(target, timeoutMs)));
  const open = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (open.length === 0) {
    const reason = failure?.reason instanceof Error ? failure.reason.message : String(failure?.reason);
    throw new TargetUnreachableError(`no answer over UDP from ${formatTarget(target)}: ${reason}`);
  }
  for (const socket of open) socket.removeAllListeners('message');
  return { sockets: open, failures: count - open.length };
}

function openSocket(target: Extract<Target, { kind: 'tcp' }>, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    let retry: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => fail(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      clearInterval(retry);
      socket.close();
      reject(error);
    };
    socket.once('error', fail);
    socket.on('message', (reply) => {
      if (!reply.equals(PROBE_PONG)) return;
      clearTimeout(timer);
      clearInterval(retry);
      socket.off('error', fail);
      resolve(socket);
    });
    socket.connect(target.port, target.host, () => {
      socket.send(PROBE);
      // A probe may be lost like any datagram: ask again until the deadline.
      retry = setInterval(() => socket.send(PROBE), Math.max(50, timeoutMs / 10));
    });
  });
}

class UdpRun {
  private readonly slots: Slot[] = [];
  private readonly free: Slot[] = [];
  /** Open model: intended send times that found no free slot yet. */
  private readonly backlog: number[] = [];
  private readonly bySocket = new Map<Socket, Slot[]>();
  /** Work: the reply digest names the slot that asked. */
  private readonly digestSlot = new Map<string, number>();
  private readonly corrected: Histogram = createHistogram();
  private readonly uncorrected: Histogram = createHistogram();
  private readonly seconds = new Map<number, SecondTally>();
  private readonly errorSamples: string[] = [];
  private start = 0;
  private measureFrom = 0;
  private end = 0;
  private issued = 0;
  private sent = 0;
  private lost = 0;
  private messages = 0;
  private errors = 0;
  private lateSends = 0;
  private lateReplies = 0;
  /** Any request of the run answered, warmup included: a target that answered nothing is gone. */
  private answeredAny = false;
  private inWindowPending = 0;
  private finished: (() => void) | undefined;

  constructor(
    private readonly options: LoadOptions,
    private readonly timeoutMs: number,
    private readonly sockets: Socket[],
    private readonly failures: number,
    private readonly hooks: UdpRunHooks,
  ) {
    const { scenario, size, pipeline, workIterations } = options;
    for (const socket of sockets) {
      const own: Slot[] = [];
      for (let index = 0; index < pipeline; index++) {
        const payload = Buffer.alloc(size, 0x61 + (index % 26));
        payload.writeUInt16BE(index, 0);
        let request: Buffer;
        let expected: Buffer;
        if (scenario === 'work') {
          const body = Buffer.allocUnsafe(4 + size);
          body.writeUInt32BE(workIterations, 0);
          payload.copy(body, 4);
          request = encodeFrame(FrameType.WORK, body);
          const digest = iteratedSha256(payload, workIterations);
          this.digestSlot.set(digest.toString('hex'), index);
          expected = encodeFrame(FrameType.WORK_RESULT, digest);
        } else {
          const type = scenario === 'echo' ? FrameType.ECHO : FrameType.PING;
          request = encodeFrame(type, payload);
          expected = encodeFrame(type | 0x80, payload);
        }
        const slot: Slot = { socket, index, request, expected, generation: 0, busy: false, sentAt: 0, intendedAt: 0 };
        own.push(slot);
        this.slots.push(slot);
        this.free.push(slot);
      }
      this.bySocket.set(socket, own);
      socket.on('message', (reply) => this.receive(socket, reply));
      socket.on('error', (error) => this.error(`socket: ${error.message}`));
    }
  }

  async run(): Promise<UdpLoadResult> {
    const { warmupSeconds, durationSeconds, rate } = this.options;
    this.start = performance.now();
    this.measureFrom = this.start + warmupSeconds * 1000;
    this.end = this.measureFrom + durationSeconds * 1000;
    const sweep = setInterval(() => this.sweep(), Math.max(5, Math.min(50, this.timeoutMs / 4)));
    const ticker = setInterval(() => this.tick(), rate === undefined ? 1000 : 1);
    let reported = Math.floor((this.start - this.measureFrom) / 1000) - 1;
    const reporter = setInterval(() => {
      const now = Math.floor((performance.now() - this.measureFrom) / 1000);
      for (; reported < now - 1; reported++) this.hooks.onSecond?.(this.timelineSecond(reported + 1));
    }, 200);
    if (rate === undefined) for (const slot of this.free.splice(0)) this.send(slot, performance.now());
    await new Promise<void>((resolve) => {
      const stopAtEnd = setTimeout(() => {
        clearInterval(ticker);
        this.finished = resolve;
        if (this.inWindowPending === 0) resolve();
      }, this.end - performance.now());
      stopAtEnd.unref?.();
    });
    clearInterval(sweep);
    clearInterval(reporter);
    for (const socket of this.sockets) socket.close();
    return this.result();
  }

  /** Open model: sends what the clock says is due, to free slots; the rest waits in the backlog. */
  private tick(): void {
    const rate = this.options.rate;
    if (rate === undefined) return;
    const now = performance.now();
    if (now >= this.end) return;
    const due = Math.floor(((now - this.start) * rate) / 1000);
    for (; this.issued < due; this.issued++) this.backlog.push(this.start + (this.issued * 1000) / rate);
    while (this.backlog.length > 0) {
      const slot = this.free.pop();
      if (slot === undefined) break;
      this.send(slot, this.backlog.shift() as number);
    }
  }

  private send(slot: Slot, intendedAt: number): void {
    const now = performance.now();
    if (intendedAt >= this.end) {
      this.free.push(slot);
      return;
    }
    slot.generation = (slot.generation + 1) >>> 0;
    if (this.options.scenario !== 'work') {
      slot.request.writeUInt32BE(slot.generation, 5 + 2);
      slot.expected.writeUInt32BE(slot.generation, 5 + 2);
    }
    slot.busy = true;
    slot.sentAt = now;
    slot.intendedAt = intendedAt;
    const interval = this.options.rate === undefined ? 0 : 1000 / this.options.rate;
    const late = this.options.rate !== undefined && now - intendedAt > Math.max(2, interval);
    if (intendedAt >= this.measureFrom) {
      this.sent += 1;
      this.inWindowPending += 1;
      if (late) this.lateSends += 1;
    }
    if (late) this.tally(intendedAt).lateSends += 1;
    slot.socket.send(slot.request);
  }

  private receive(socket: Socket, reply: Buffer): void {
    const now = performance.now();
    const own = this.bySocket.get(socket) as Slot[];
    const index = this.slotOf(reply);
    const slot = index === undefined ? undefined : own[index];
    if (slot === undefined && reply.equals(PROBE_PONG)) return;
    if (slot === undefined) {
      const text = reply[0] === 0x00 ? reply.subarray(5, 120).toString('utf8') : reply.subarray(0, 120).toString('utf8');
      this.error(reply[4] === FrameType.ERR ? `ERR ${text}` : `unexpected reply of ${reply.length} bytes: ${JSON.stringify(text)}`);
      return;
    }
    // A reply to a request already counted lost: its slot is idle, or its generation is behind.
    if (!slot.busy || (this.options.scenario !== 'work' && reply.readUInt32BE(5 + 2) !== slot.generation)) {
      this.lateReplies += 1;
      return;
    }
    if (!reply.equals(slot.expected)) {
      this.error(`wrong reply of ${reply.length} bytes to a request of ${slot.request.length}`);
      return;
    }
    slot.busy = false;
    this.answeredAny = true;
    const inWindow = slot.intendedAt >= this.measureFrom;
    const tally = this.tally(slot.intendedAt);
    tally.messages += 1;
    tally.latencySum += now - slot.intendedAt;
    tally.latencyMax = Math.max(tally.latencyMax, now - slot.intendedAt);
    if (inWindow) {
      this.messages += 1;
      recordMillis(this.corrected, now - slot.intendedAt);
      recordMillis(this.uncorrected, now - slot.sentAt);
      this.settle();
    }
    this.release(slot);
  }

  /** Which slot a reply answers: its tag (echo, ping) or its digest (work). */
  private slotOf(reply: Buffer): number | undefined {
    if (reply[0] !== 0x00 || reply.length < 5) return undefined;
    if (this.options.scenario === 'work') return this.digestSlot.get(reply.subarray(5).toString('hex'));
    if (reply.length < 5 + TAG_BYTES || reply[4] === FrameType.ERR) return undefined;
    return reply.readUInt16BE(5);
  }

  /** Requests unanswered past the timeout are lost; their slots go back to work. */
  private sweep(): void {
    const deadline = performance.now() - this.timeoutMs;
    for (const slot of this.slots) {
      if (!slot.busy || slot.sentAt > deadline) continue;
      slot.busy = false;
      slot.generation = (slot.generation + 1) >>> 0;
      if (slot.intendedAt >= this.measureFrom) {
        this.lost += 1;
        this.settle();
      }
      this.release(slot);
    }
  }

  private release(slot: Slot): void {
    const now = performance.now();
    if (now >= this.end) return;
    if (this.options.rate === undefined) {
      this.send(slot, now);
      return;
    }
    const next = this.backlog.shift();
    if (next === undefined) this.free.push(slot);
    else this.send(slot, next);
  }

  private settle(): void {
    this.inWindowPending -= 1;
    if (this.inWindowPending === 0 && this.finished !== undefined) this.finished();
  }

  private error(description: string): void {
    this.errors += 1;
    this.tally(performance.now()).errors += 1;
    if (this.errorSamples.length < 10) this.errorSamples.push(description);
  }

  private tally(at: number): SecondTally {
    const second = Math.floor((at - this.measureFrom) / 1000);
    let tally = this.seconds.get(second);
    if (tally === undefined) {
      tally = { messages: 0, errors: 0, lateSends: 0, latencySum: 0, latencyMax: 0 };
      this.seconds.set(second, tally);
    }
    return tally;
  }

  private timelineSecond(second: number): TimelineSecond {
    const tally = this.seconds.get(second) ?? { messages: 0, errors: 0, lateSends: 0, latencySum: 0, latencyMax: 0 };
    return {
      second,
      phase: second < 0 ? 'warmup' : 'measure',
      messages: tally.messages,
      errors: tally.errors,
      lateSends: tally.lateSends,
      meanMicros: tally.messages === 0 ? 0 : Math.round((tally.latencySum / tally.messages) * 1000),
      maxMicros: Math.round(tally.latencyMax * 1000),
    };
  }

  private result(): UdpLoadResult {
    const { options } = this;
    const messagesPerSecond = this.messages / options.durationSeconds;
    const firstSecond = -Math.ceil(options.warmupSeconds);
    const timeline: TimelineSecond[] = [];
    for (let second = firstSecond; second < Math.ceil(options.durationSeconds); second++) timeline.push(this.timelineSecond(second));
    const result: UdpLoadResult = {
      version: 1,
      transport: 'udp',
      target: `udp://${formatTarget(options.target).slice('tcp://'.length)}`,
      scenario: options.scenario,
      loadModel: options.rate === undefined ? 'closed' : 'open',
      connections: this.sockets.length,
      threads: 1,
      pipeline: options.pipeline,
      size: options.size,
      rate: options.rate ?? null,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      messages: this.messages,
      messagesPerSecond: Math.round(messagesPerSecond * 10) / 10,
      bytesPerSecond: Math.round(messagesPerSecond * (options.scenario === 'work' ? 32 : options.size)),
      sent: this.sent,
      errors: this.errors,
      errorSamples: this.errorSamples,
      lateSends: this.lateSends,
      latencyMicros: summarise(this.corrected),
      uncorrectedLatencyMicros: summarise(this.uncorrected),
      connectionsOpened: this.sockets.length,
      connectionFailures: this.failures,
      // No connection to lose: the target counts as gone when nothing of the run was answered.
      connectionsAtEnd: this.answeredAny ? this.sockets.length : 0,
      timeline,
      timeoutSeconds: this.timeoutMs / 1000,
      lost: this.lost,
      lossRate: this.sent === 0 ? 0 : Math.round((this.lost / this.sent) * 1e6) / 1e6,
      lateReplies: this.lateReplies,
    };
    this.corrected.destroy();
    this.uncorrected.destroy();
    return result;
  }
}

export const isUdpResult = (result: LoadResult): result is UdpLoadResult => (result as Partial<UdpLoadResult>).transport === 'udp';

/** The loss line `formatResult`'s lines are followed by. */
export function formatLoss(result: UdpLoadResult): string {
  const percent = (result.lossRate * 100).toFixed(result.lossRate === 0 ? 0 : 3);
  return (
    `lost ${result.lost} of ${result.sent} sent (${percent}%, no reply within ${result.timeoutSeconds}s)` +
    (result.lateReplies > 0 ? `, ${result.lateReplies} replies came after their request was counted lost` : '')
  );
}
