/**
 * A slow reader in a room with a fast sender: the pushes relayed back to the reader's
 * worker or child (main -> worker, parent -> child) must be bounded like its own socket's
 * output, not queued in a relay. The slow one's worker or child is first made busy (a long
 * WORK), so for a while it takes no pushes at all: the relay to it must hold the senders. The reader is cut with ERR SLOW_CONSUMER (PROTOCOL.md,
 * --max-outbound), a member that reads gets every MSG (one stalled member never stalls a
 * room), and the server tree grows by less than a bound. How much the second half of the run
 * adds to the first half's peak is shown too: a queue in a relay grows as long as the sender
 * sends, V8 sizing its heaps for the churn of 32 KiB strings levels off.
 */
import type { Socket } from 'node:net';
import type { ConnectTarget, RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { MIB, RawConnection, sleep } from './wire.js';

export interface SlowReaderOptions {
  readonly messages: number;
  readonly messageBytes: number;
  /** The tree's peak may be at most this much above its start. */
  readonly growthBoundMiB: number;
  /** WORK iterations the slow one asks for first, to keep its worker or child busy (1,000,000: about 2 s). */
  readonly workIterations: number;
}

/** A member that reads everything and only counts its MSG lines, so the probe holds none of them. */
class CountingReader {
  msgLines = 0;
  /** ERR lines it got (it should get none: it reads everything). */
  errLines = 0;
  closed = false;
  /** The first bytes of the line being read, until there are four to compare with 'MSG '; undefined past them. */
  private head: string | undefined = '';

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.count(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  private count(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(0x0a, at);
      if (this.head === undefined) {
        if (newline < 0) return;
        at = newline + 1;
        this.head = '';
        continue;
      }
      const end = Math.min(chunk.length, at + 4 - this.head.length, newline < 0 ? chunk.length : newline);
      this.head += chunk.toString('latin1', at, end);
      at = end;
      if (this.head.length === 4) {
        if (this.head === 'MSG ') this.msgLines += 1;
        else if (this.head === 'ERR ') this.errLines += 1;
        this.head = undefined;
      } else if (at === newline) {
        // A line shorter than four bytes.
        this.head = '';
        at += 1;
      }
    }
  }
}

export async function checkSlowReader(server: RunningServer, options: SlowReaderOptions): Promise<CheckResult> {
  // In this order (least connections, ties in turn) the slow one and a filler share a worker or
  // child, the sender and the reader the other: what the slow one gets crosses a relay.
  const slow = await member(server.target, 'slowpoke');
  const sender = await member(server.target, 'sender');
  const filler = await member(server.target, undefined);
  const reader = await member(server.target, 'reader');
  const everyone = [slow, sender, filler, reader];
  const failed = everyone.find((one) => one.error !== undefined);
  if (failed !== undefined) {
    for (const one of everyone) one.connection.destroy();
    return { pass: false, cell: `setup: ${failed.error}`, details: {} };
  }
  // The reader only counts from now on: the probe holds none of the MSGs it gets.
  reader.connection.socket.removeAllListeners('data');
  const counting = new CountingReader(reader.connection.socket);
  const crossesRelay = slow.servedBy !== sender.servedBy && reader.servedBy === sender.servedBy;
  // Its worker or child busy: the pushes for the slow one have nowhere to go for a while.
  await slow.connection.write(`WORK ${options.workIterations} busy\n`);
  // The slow reader reads in short bursts, 50 ms every 500 ms: far slower than the sender, yet soon enough
  // after its cut (a closing connection lingers 2 s) to read what was kept for it and the ERR.
  slow.connection.socket.pause();
  const bursts = setInterval(() => {
    slow.connection.socket.resume();
    setTimeout(() => slow.connection.socket.pause(), 50);
  }, 500);
  await sleep(200);
  const rss = new RssSampler(server.pid, 100);
  const startedAt = performance.now();
  const line = Buffer.from(`SAY ${'s'.repeat(options.messageBytes)}\n`);
  let written = 0;
  let stalled = false;
  for (; written < options.messages && !stalled; written++) {
    if (!(await sender.connection.write(line))) break;
    // The reading member is in this process too: the sender keeps within 512 KiB of it (half of
    // --max-outbound), so that member is never a slow consumer itself; if the room stops flowing to it, the check fails.
    if ((written - counting.msgLines) * options.messageBytes > MIB / 2) {
      const catchUpBy = performance.now() + 10_000;
      while ((written - counting.msgLines) * options.messageBytes > MIB / 4 && performance.now() < catchUpBy) await sleep(1);
      stalled = performance.now() >= catchUpBy;
    }
  }
  await sender.connection.write('PING done\n');
  let senderDone: string | undefined;
  do senderDone = await sender.connection.nextLine(120_000);
  while (senderDone !== undefined && senderDone !== 'PONG done');
  const seconds = (performance.now() - startedAt) / 1_000;
  const deadline = performance.now() + 30_000;
  while (counting.msgLines < written && performance.now() < deadline) await sleep(50);
  rss.stop();
  const closed = await slow.connection.closed(10_000);
  clearInterval(bursts);
  const text = slow.connection.received.toString('latin1');
  const cutLine = text.split('\n').find((l) => l.startsWith('ERR '));
  const slowMsgs = text.split('\n').filter((l) => l.startsWith('MSG ')).length;
  for (const one of everyone) one.connection.destroy();
  const growthMiB = rss.peakMiB - rss.firstMiB;
  const halfMs = (rss.samples.at(-1)?.atMs ?? 0) / 2;
  const peakOf = (inHalf: (atMs: number) => boolean): number =>
    Math.max(0, ...rss.samples.filter((sample) => inHalf(sample.atMs)).map((sample) => sample.bytes)) / MIB;
  const secondHalfRiseMiB = Math.max(0, peakOf((atMs) => atMs >= halfMs) - peakOf((atMs) => atMs < halfMs));
  const cut = cutLine?.startsWith('ERR SLOW_CONSUMER') === true;
  const pass =
    senderDone === 'PONG done' &&
    written === options.messages &&
    counting.msgLines === written &&
    !stalled &&
    counting.errLines === 0 &&
    cut &&
    closed &&
    growthMiB < options.growthBoundMiB &&
    server.isAlive();
  return {
    pass,
    cell: `${crossesRelay ? 'across a relay, ' : ''}slow one ${cut ? 'cut SLOW_CONSUMER' : `not cut (${cutLine ?? 'no ERR'})`} after ${slowMsgs} MSGs; reader ${counting.msgLines}/${written}; +${round(growthMiB)} MiB (${Math.round(rss.firstMiB)} → peak ${Math.round(rss.peakMiB)}), +${round(secondHalfRiseMiB)} in the 2nd half; ${Math.round((written * options.messageBytes) / (1024 * 1024))} MiB in ${round(seconds)} s`,
    details: {
      slowServedBy: slow.servedBy,
      senderServedBy: sender.servedBy,
      readerServedBy: reader.servedBy,
      crossesRelay,
      messages: options.messages,
      messageBytes: options.messageBytes,
      written,
      senderCompleted: senderDone === 'PONG done',
      readerMsgs: counting.msgLines,
      roomStalled: stalled,
      readerErrors: counting.errLines,
      readerClosed: counting.closed,
      slowMsgsBeforeCut: slowMsgs,
      slowCut: cutLine ?? 'none',
      slowClosed: closed,
      seconds: round(seconds),
      baseRssMiB: round(rss.firstMiB),
      peakRssMiB: round(rss.peakMiB),
      afterRssMiB: round(rss.lastMiB),
      growthMiB: round(growthMiB),
      secondHalfRiseMiB: round(secondHalfRiseMiB),
    },
  };
}

interface Member {
  readonly connection: RawConnection;
  /** INFO's servedBy: the worker, child or thread that serves it. */
  readonly servedBy: string;
  readonly error?: string;
}

/** A connection that joined the room (under `nick`; none: a filler that only takes a place) and said where it is served. */
async function member(target: ConnectTarget, nick: string | undefined): Promise<Member> {
  const connection = await RawConnection.open(target);
  await connection.write(nick === undefined ? 'INFO\n' : `NICK ${nick}\nJOIN slowroom\nINFO\n`);
  for (;;) {
    const line = await connection.nextLine(5_000);
    if (line === undefined) return { connection, servedBy: '', error: `${nick ?? 'filler'} got no INFO` };
    if (line.startsWith('ERR ')) return { connection, servedBy: '', error: `${nick ?? 'filler'}: ${line}` };
    if (line.startsWith('INFO ')) {
      const info = JSON.parse(line.slice(5)) as { servedBy?: unknown };
      return { connection, servedBy: String(info.servedBy) };
    }
  }
}
