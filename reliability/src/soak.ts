/**
 * A soak: echo clients in a closed loop and chat rooms talking, for a chosen time, with
 * the server's memory sampled. After a warm-up the slope of the RSS floor (the least RSS of
 * each window, least squares, MiB/min) must be under 1 MiB/min, and nothing may be lost: every ECHO answered, every SAY
 * delivered to every other member.
 */
import { writeFileSync } from 'node:fs';
import type { RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { MIB, RawConnection, sleep } from './wire.js';

export interface SoakOptions {
  readonly seconds: number;
  readonly echoClients: number;
  readonly rooms: number;
  readonly membersPerRoom: number;
  /** Each member SAYs once per this many ms. */
  readonly sayEveryMs: number;
  /** Samples before this are the warm-up, left out of the slope. */
  readonly warmUpSeconds: number;
  readonly slopeBoundMiBPerMinute: number;
  /** Where the RSS samples go as JSON (seconds, MiB), to plot or to check the slope by hand. */
  readonly samplesFile?: string;
}

/** An ECHO not answered within this long is lost. */
const ECHO_LOST_AFTER_MS = 30_000;

interface Member {
  readonly connection: RawConnection;
  readonly nick: string;
  said: number;
  heard: number;
}

export async function checkSoak(server: RunningServer, options: SoakOptions): Promise<CheckResult> {
  const members: Member[] = [];
  for (let room = 0; room < options.rooms; room++) {
    for (let m = 0; m < options.membersPerRoom; m++) {
      const connection = await RawConnection.open(server.target);
      const nick = `soak${room}_${m}`;
      await connection.write(`NICK ${nick}\nJOIN soakroom${room}\n`);
      members.push({ connection, nick, said: 0, heard: 0 });
    }
  }
  // Everyone in their room before anyone talks: OK NICK, then OK JOIN (JOINED lines of later members follow).
  for (const member of members) {
    const lines = [await member.connection.nextLine(20_000), await member.connection.nextLine(20_000)];
    if (lines[1]?.startsWith('OK JOIN') !== true) {
      return { pass: false, cell: `${member.nick} could not join: ${lines.join(' / ')}`, details: {} };
    }
  }
  const rss = new RssSampler(server.pid, options.seconds >= 300 ? 5_000 : 1_000);
  const startedAt = performance.now();
  const endAt = startedAt + options.seconds * 1_000;
  let echoSent = 0;
  let echoAnswered = 0;
  let echoWrong = 0;
  let firstWrong: string | undefined;
  let slowestEchoMs = 0;
  const echoLoop = async (index: number): Promise<void> => {
    const connection = await RawConnection.open(server.target);
    for (let i = 0; performance.now() < endAt; i++) {
      const payload = `e${index}-${i}-${'z'.repeat((i * 37) % 200)}`;
      if (!(await connection.write(`ECHO ${payload}\n`))) break;
      echoSent += 1;
      const sentAt = performance.now();
      // Lost means never answered: a reply that is only late (a soak run niced on a busy machine
      // can stall for seconds) counts in slowestEchoMs instead.
      const line = await connection.nextLine(ECHO_LOST_AFTER_MS);
      slowestEchoMs = Math.max(slowestEchoMs, performance.now() - sentAt);
      if (line === `ECHO ${payload}`) echoAnswered += 1;
      else {
        echoWrong += 1;
        firstWrong ??= `${line === undefined ? `no reply within ${ECHO_LOST_AFTER_MS / 1_000} s` : line.slice(0, 80)} at ${round((sentAt - startedAt) / 1_000)} s`;
        break;
      }
    }
    connection.destroy();
  };
  const listen = async (member: Member): Promise<void> => {
    for (;;) {
      const line = await member.connection.nextLine(Math.max(2_000, endAt - performance.now() + ECHO_LOST_AFTER_MS + 5_000));
      if (line === undefined) return;
      if (line.startsWith('MSG ')) member.heard += 1;
    }
  };
  const listeners = members.map(listen);
  const talk = setInterval(() => {
    for (const member of members) {
      member.said += 1;
      void member.connection.write(`SAY ${member.nick} says ${member.said}\n`);
    }
  }, options.sayEveryMs);
  await Promise.all(Array.from({ length: options.echoClients }, (_, index) => echoLoop(index)));
  clearInterval(talk);
  await sleep(2_000);
  rss.stop();
  if (options.samplesFile !== undefined) {
    const samples = rss.samples.map((sample) => [round(sample.atMs / 1_000), round(sample.bytes / MIB, 2)]);
    writeFileSync(options.samplesFile, `${JSON.stringify({ seconds: options.seconds, warmUpSeconds: options.warmUpSeconds, samples })}\n`);
  }
  for (const member of members) member.connection.destroy();
  await Promise.allSettled(listeners);
  const expectedHeard = members.reduce((sum, member) => sum + member.said, 0) * (options.membersPerRoom - 1);
  const heard = members.reduce((sum, member) => sum + member.heard, 0);
  const warmUpMs = options.warmUpSeconds * 1_000;
  const rawSlope = rss.slopeMiBPerMinute(warmUpMs);
  // Six windows after the warm-up, a minute at most: eight of a minute in a 10-minute soak.
  const windowMs = Math.min(60_000, Math.max(5_000, (options.seconds * 1_000 - warmUpMs) / 6));
  const slope = rss.floorSlopeMiBPerMinute(warmUpMs, windowMs);
  const lostEcho = echoSent - echoAnswered;
  const lostChat = expectedHeard - heard;
  const pass = lostEcho === 0 && echoWrong === 0 && lostChat === 0 && slope < options.slopeBoundMiBPerMinute && server.isAlive();
  return {
    pass,
    cell: `floor ${round(slope, 2)} MiB/min (all samples ${round(rawSlope, 2)}) after ${options.warmUpSeconds} s of ${options.seconds} s; ${lostEcho + lostChat} lost of ${echoSent + expectedHeard}; ${Math.round(rss.firstMiB)}→${Math.round(rss.lastMiB)} MiB`,
    details: {
      seconds: options.seconds,
      warmUpSeconds: options.warmUpSeconds,
      floorSlopeMiBPerMinute: round(slope, 3),
      floorWindowSeconds: round(windowMs / 1_000),
      allSamplesSlopeMiBPerMinute: round(rawSlope, 3),
      echoSent,
      lostEcho,
      echoWrong,
      ...(firstWrong === undefined ? {} : { firstWrong }),
      slowestEchoMs: Math.round(slowestEchoMs),
      chatExpected: expectedHeard,
      lostChat,
      startRssMiB: round(rss.firstMiB),
      peakRssMiB: round(rss.peakMiB),
      endRssMiB: round(rss.lastMiB),
    },
  };
}
