/**
 * --max-connections holds whatever the model does with connections it cannot serve yet:
 * of `limit + extra` clients that each PING and stay, at most `limit` are served or
 * waiting, the rest are answered BUSY at once, and none is left unanswered past
 * --idle-timeout. When some served clients leave, waiting ones are served.
 */
import type { RunningServer } from '@echoplex/conformance';
import type { CheckResult } from './check.js';
import { RawConnection, sleep } from './wire.js';

export interface ConnectionLimitOptions {
  readonly limit: number;
  readonly extra: number;
  readonly idleTimeoutS: number;
}

type Answer = 'PONG' | 'BUSY' | 'none' | 'other';

const answerOf = (connection: RawConnection): Answer => {
  const text = connection.received.toString('latin1');
  if (text.startsWith('PONG')) return 'PONG';
  if (text.startsWith('ERR BUSY')) return 'BUSY';
  return text === '' ? 'none' : 'other';
};

const count = (connections: readonly RawConnection[], answer: Answer): number =>
  connections.filter((connection) => answerOf(connection) === answer).length;

/** Waits at least `minMs`, then until the answers stop changing for `quietMs` (forks take seconds on a loaded machine), at most `maxMs`. */
async function settle(clients: readonly RawConnection[], minMs: number, quietMs: number, maxMs: number): Promise<void> {
  await sleep(minMs);
  const deadline = performance.now() + maxMs - minMs;
  let last = '';
  let stableSince = performance.now();
  while (performance.now() < deadline) {
    const now = `${count(clients, 'PONG')}/${count(clients, 'BUSY')}`;
    if (now !== last) {
      last = now;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= quietMs) return;
    await sleep(100);
  }
}

export async function checkConnectionLimit(server: RunningServer, options: ConnectionLimitOptions): Promise<CheckResult> {
  const clients: RawConnection[] = [];
  for (let i = 0; i < options.limit + options.extra; i++) {
    const client = await RawConnection.open(server.target);
    await client.write(`PING c${i}\n`);
    clients.push(client);
  }
  const lastOpenedAt = performance.now();
  await settle(clients, 2_000, 1_000, 8_000);
  const [served, busy, waiting] = [count(clients, 'PONG'), count(clients, 'BUSY'), count(clients, 'none')];
  // Five served clients leave: as many waiting ones must be served.
  const leaving = clients.filter((client) => answerOf(client) === 'PONG').slice(0, 5);
  for (const client of leaving) client.destroy();
  await settle(clients, 1_000, 1_000, 4_000);
  const servedAfterLeave = count(clients, 'PONG') - served;
  // Within --idle-timeout + 3 s of its connect, nobody is left without an answer.
  await sleep(Math.max(0, lastOpenedAt + options.idleTimeoutS * 1_000 + 3_000 - performance.now()));
  const unanswered = count(clients, 'none');
  const other = count(clients, 'other');
  for (const client of clients) client.destroy();
  const expectedAfterLeave = Math.min(leaving.length, waiting);
  const pass =
    served + waiting <= options.limit &&
    busy >= options.extra &&
    unanswered === 0 &&
    other === 0 &&
    servedAfterLeave >= expectedAfterLeave &&
    server.isAlive();
  return {
    pass,
    cell: `${served} served, ${waiting} waiting, ${busy} BUSY of ${clients.length}; after 5 left: +${servedAfterLeave} served; ${unanswered} unanswered after ${options.idleTimeoutS} s`,
    details: { limit: options.limit, clients: clients.length, served, waiting, busy, servedAfterLeave, unanswered, other },
  };
}
