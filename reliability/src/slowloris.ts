/**
 * Slowloris: many connections each sending one byte of a request that never ends, every
 * couple of seconds. Every slow connection must be cut or refused within --idle-timeout
 * + 3 s of its connect, a fresh client answered (PONG or BUSY) within 1 s meanwhile, and
 * the server's memory must stay bounded.
 */
import type { RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { type FreshAnswer, freshPing, isAnswered, RawConnection, sleep } from './wire.js';

export interface SlowlorisOptions {
  readonly connections: number;
  /** The server's --idle-timeout, in seconds. */
  readonly idleTimeoutS: number;
  readonly byteEveryMs: number;
  /** The memory bound the server must stay under, in MiB. */
  readonly rssBoundMiB: number;
  /** A fresh client must be answered within this (1 s; the fast subset on a shared machine allows more). */
  readonly freshWithinMs: number;
}

/** A text request that never ends: `PING ` then x's, one byte at a time, never a LF. */
const slowByte = (index: number): string => 'PING '[index] ?? 'x';

export async function checkSlowloris(server: RunningServer, options: SlowlorisOptions): Promise<CheckResult> {
  const rss = new RssSampler(server.pid, 250);
  const slow: RawConnection[] = [];
  let refusedAtConnect = 0;
  const startedAt = performance.now();
  // Opened in batches, as fast as the server accepts; each sends its first byte at once.
  for (let opened = 0; opened < options.connections; opened += 100) {
    const batch = Math.min(100, options.connections - opened);
    const results = await Promise.allSettled(Array.from({ length: batch }, () => RawConnection.open(server.target, 5_000)));
    for (const result of results) {
      if (result.status === 'fulfilled') {
        slow.push(result.value);
        void result.value.write(slowByte(0));
      } else {
        refusedAtConnect += 1;
      }
    }
  }
  const openedInMs = performance.now() - startedAt;
  let sent = 1;
  const dribble = setInterval(() => {
    for (const connection of slow) if (!connection.isClosed) void connection.write(slowByte(sent));
    sent += 1;
  }, options.byteEveryMs);
  const boundMs = (options.idleTimeoutS + 3) * 1_000;
  const fresh: FreshAnswer[] = [];
  try {
    // Fresh clients all along, until the last slow connection's bound has passed.
    while (performance.now() - startedAt < openedInMs + boundMs + 500) {
      fresh.push(await freshPing(server.target, options.freshWithinMs));
      await sleep(400);
    }
  } finally {
    clearInterval(dribble);
    rss.stop();
  }
  const cut = slow.filter((connection) => (connection.closedAfterMs ?? Number.POSITIVE_INFINITY) <= boundMs);
  const stillOpen = slow.filter((connection) => !connection.isClosed).length;
  const lastCutS = Math.max(0, ...slow.map((connection) => connection.closedAfterMs ?? 0)) / 1_000;
  const answers = countBy(slow.map((connection) => firstWord(connection.received.toString('latin1'))));
  for (const connection of slow) connection.destroy();
  const freshMaxMs = Math.max(...fresh.map((answer) => answer.ms));
  const freshAnswered = fresh.filter((answer) => isAnswered(answer, options.freshWithinMs)).length;
  const freshKinds = countBy(fresh.map((answer) => answer.answer));
  const handled = cut.length + refusedAtConnect;
  const pass = handled === options.connections && freshAnswered === fresh.length && rss.peakMiB < options.rssBoundMiB && server.isAlive();
  return {
    pass,
    cell: `${handled}/${options.connections} cut ≤ ${options.idleTimeoutS + 3} s (last ${round(lastCutS)} s); fresh ${freshAnswered}/${fresh.length} ≤ ${Math.round(freshMaxMs)} ms; ${Math.round(rss.peakMiB)} MiB`,
    details: {
      connections: options.connections,
      cutWithinBound: cut.length,
      refusedAtConnect,
      stillOpen,
      lastCutSeconds: round(lastCutS),
      openedInSeconds: round(openedInMs / 1_000),
      freshAnswered,
      freshProbes: fresh.length,
      freshMaxMs: round(freshMaxMs),
      freshAnswers: JSON.stringify(freshKinds),
      slowGot: JSON.stringify(answers),
      baseRssMiB: round(rss.firstMiB),
      peakRssMiB: round(rss.peakMiB),
      peakRssSumMiB: round(rss.peakRssSumMiB),
      rssBoundMiB: options.rssBoundMiB,
    },
  };
}

const firstWord = (received: string): string =>
  received === '' ? '(nothing)' : (received.split('\n')[0]?.split(' ').slice(0, 2).join(' ') ?? '');

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
