/**
 * A slow reader in a room with a fast sender: the pushes relayed back to the reader's
 * worker or child (main -> worker, parent -> child) must be bounded like its own socket's
 * output, not queued in a relay. The reader is cut with ERR SLOW_CONSUMER (PROTOCOL.md,
 * --max-outbound), a member that reads gets every MSG (one stalled member never stalls a
 * room), and the server tree grows by less than a bound.
 */
import { connect, type Socket } from 'node:net';
import type { ConnectTarget, RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { MIB, RawConnection, sleep } from './wire.js';

export interface SlowReaderOptions {
  readonly messages: number;
  readonly messageBytes: number;
  readonly growthBoundMiB: number;
}

/** A member that reads everything and only counts its MSG lines, so the probe holds none of them. */
class CountingReader {
  msgLines = 0;
  /** ERR lines it got (it should get none: it reads everything). */
  errLines = 0;
  closed = false;
  /** The first bytes of the line being read, until there are four to compare with 'MSG '; undefined past them. */
  private head: string | undefined = '';

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.count(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static open(target: ConnectTarget): Promise<CountingReader> {
    return new Promise((resolve, reject) => {
      const socket = connect(target);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new CountingReader(socket));
      });
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
  // In this order the reader and the sender land on different workers or children (least connections, ties in turn).
  const slow = await RawConnection.open(server.target);
  await slow.write('NICK slowpoke\nJOIN slowroom\n');
  const slowJoined = [await slow.nextLine(3_000), await slow.nextLine(3_000)];
  const sender = await RawConnection.open(server.target);
  await sender.write('NICK sender\nJOIN slowroom\n');
  const senderJoined = [await sender.nextLine(3_000), await sender.nextLine(3_000)];
  const reader = await CountingReader.open(server.target);
  reader.socket.write('NICK reader\nJOIN slowroom\n');
  if (slowJoined[1] !== 'OK JOIN slowroom' || senderJoined[1] !== 'OK JOIN slowroom') {
    for (const connection of [slow, sender]) connection.destroy();
    reader.socket.destroy();
    return { pass: false, cell: `JOIN got ${slowJoined[1]} / ${senderJoined[1]}`, details: {} };
  }
  // The slow reader reads in short bursts, 50 ms every 500 ms: far slower than the sender, yet soon enough
  // after its cut (a closing connection lingers 2 s) to read what was kept for it and the ERR.
  slow.socket.pause();
  const bursts = setInterval(() => {
    slow.socket.resume();
    setTimeout(() => slow.socket.pause(), 50);
  }, 500);
  await sleep(200);
  const rss = new RssSampler(server.pid, 100);
  const startedAt = performance.now();
  const line = Buffer.from(`SAY ${'s'.repeat(options.messageBytes)}\n`);
  let written = 0;
  let stalled = false;
  for (; written < options.messages && !stalled; written++) {
    if (!(await sender.write(line))) break;
    // The reading member is in this process too: the sender keeps within 8 MiB of it, so that member
    // is never a slow consumer itself; if the room stops flowing to it, the check fails.
    if ((written - reader.msgLines) * options.messageBytes > 8 * MIB) {
      const catchUpBy = performance.now() + 10_000;
      while ((written - reader.msgLines) * options.messageBytes > 4 * MIB && performance.now() < catchUpBy) await sleep(5);
      stalled = performance.now() >= catchUpBy;
    }
  }
  await sender.write('PING done\n');
  let senderDone: string | undefined;
  do senderDone = await sender.nextLine(120_000);
  while (senderDone !== undefined && senderDone !== 'PONG done');
  const seconds = (performance.now() - startedAt) / 1_000;
  const deadline = performance.now() + 30_000;
  while (reader.msgLines < written && performance.now() < deadline) await sleep(50);
  rss.stop();
  const closed = await slow.closed(10_000);
  clearInterval(bursts);
  const text = slow.received.toString('latin1');
  const cutLine = text.split('\n').find((l) => l.startsWith('ERR '));
  const slowMsgs = text.split('\n').filter((l) => l.startsWith('MSG ')).length;
  for (const connection of [slow, sender]) connection.destroy();
  reader.socket.destroy();
  const growthMiB = rss.peakMiB - rss.firstMiB;
  const cut = cutLine?.startsWith('ERR SLOW_CONSUMER') === true;
  const pass =
    senderDone === 'PONG done' &&
    written === options.messages &&
    reader.msgLines === written &&
    !stalled &&
    reader.errLines === 0 &&
    cut &&
    closed &&
    growthMiB < options.growthBoundMiB &&
    server.isAlive();
  return {
    pass,
    cell: `slow one ${cut ? 'cut SLOW_CONSUMER' : `not cut (${cutLine ?? 'no ERR'})`} after ${slowMsgs} MSGs; reader ${reader.msgLines}/${written}; +${round(growthMiB)} MiB (${Math.round(rss.firstMiB)} → peak ${Math.round(rss.peakMiB)}); ${Math.round((written * options.messageBytes) / (1024 * 1024))} MiB in ${round(seconds)} s`,
    details: {
      messages: options.messages,
      messageBytes: options.messageBytes,
      written,
      senderCompleted: senderDone === 'PONG done',
      readerMsgs: reader.msgLines,
      roomStalled: stalled,
      readerErrors: reader.errLines,
      readerClosed: reader.closed,
      slowMsgsBeforeCut: slowMsgs,
      slowCut: cutLine ?? 'none',
      slowClosed: closed,
      seconds: round(seconds),
      baseRssMiB: round(rss.firstMiB),
      peakRssMiB: round(rss.peakMiB),
      afterRssMiB: round(rss.lastMiB),
      growthMiB: round(growthMiB),
    },
  };
}
