/**
 * What could go wrong where a push meets a handler thread blocked in poll(2) on its socket
 * and wake fd: a push racing each member's own request (its recv returning, its sendall); a
 * push racing the recv timeout (it must neither be lost nor move the deadline); and pushes
 * arriving while the thread is blocked in sendall on its own replies (they queue behind them,
 * whole and in order). A wake-up lost anywhere shows as a line that never comes within LINE_MS.
 */
import { killAllServers, type RunningServer, sleep, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Far above a push's latency (about a millisecond), far below a test's timeout. */
const LINE_MS = 3_000;
const IDLE_TIMEOUT_S = 1;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer('blocking', [
    '--threads',
    '16',
    '--prestart',
    '4',
    '--idle-timeout',
    String(IDLE_TIMEOUT_S),
    '--max-outbound',
    '64m',
  ]);
});
afterAll(async () => {
  await killAllServers();
});

async function member(nick: string, room: string): Promise<TextClient> {
  const client = await TextClient.open(server.target);
  expect(await client.request(`NICK ${nick}`, LINE_MS)).toBe(`OK NICK ${nick}`);
  expect(await client.request(`JOIN ${room}`, LINE_MS)).toBe(`OK JOIN ${room}`);
  return client;
}

/** Lines until `count` arrived, each within LINE_MS. */
async function lines(client: TextClient, count: number): Promise<string[]> {
  const seen: string[] = [];
  while (seen.length < count) seen.push(await client.nextLine(LINE_MS));
  return seen;
}

describe('blocking: pushes racing a blocked handler thread', () => {
  it('delivers every push while members send requests of their own (300 rounds, 6 members)', async () => {
    const sender = await member('sender', 'race');
    const members: TextClient[] = [];
    for (let i = 0; i < 6; i += 1) {
      const joined = members.length;
      members.push(await member(`m${i}`, 'race'));
      // The earlier members and the sender hear of each JOIN: drain those.
      for (const earlier of [sender, ...members.slice(0, joined)]) expect(await earlier.nextLine(LINE_MS)).toBe(`JOINED race m${i}`);
    }
    try {
      for (let round = 0; round < 300; round += 1) {
        // Half the members ask something in the same instant the push is made: the reply's
        // sendall and the push race for the thread; the others sit in recv.
        const asking = members.filter((_, i) => (i + round) % 2 === 0);
        for (const client of asking) client.sendLine(`PING r${round}`);
        sender.sendLine(`SAY ${round}`);
        await Promise.all(
          members.map(async (client) => {
            const expected = [`MSG race sender ${round}`, ...(asking.includes(client) ? [`PONG r${round}`] : [])];
            expect((await lines(client, expected.length)).sort()).toEqual(expected.sort());
          }),
        );
      }
    } finally {
      for (const client of [sender, ...members]) client.destroy();
    }
  });
  it('delivers every push that comes before a recv timeout, in order, then ERR TIMEOUT on time (pushes do not move the deadline)', async () => {
    const waiter = await member('waiter', 'timeout');
    const sender = await member('sender1', 'timeout');
    expect(await waiter.nextLine(LINE_MS)).toBe('JOINED timeout sender1');
    try {
      // Half a line: the session's request timer runs, so the thread's recv has a deadline.
      waiter.write('PING unfinished');
      const started = performance.now();
      let said = 0;
      // Pushes every 2 ms across the deadline, each one waking the thread blocked in recv.
      while (performance.now() - started < IDLE_TIMEOUT_S * 1000 * 1.6) {
        sender.sendLine(`SAY ${said++}`);
        await sleep(2);
      }
      const lines = await waiter.linesUntilClosed(LINE_MS);
      const timedOutAt = performance.now() - started;
      const last = lines.at(-1) ?? '';
      expect(last).toMatch(/^ERR TIMEOUT /);
      const pushes = lines.slice(0, -1);
      expect(pushes.length, 'pushes came before the timeout (a loaded machine sends fewer)').toBeGreaterThanOrEqual(10);
      expect(pushes).toEqual(pushes.map((_, index) => `MSG timeout sender1 ${index}`));
      expect(pushes.length, 'the deadline did not move: pushes sent after it were not delivered').toBeLessThan(said);
      expect(timedOutAt).toBeGreaterThan(IDLE_TIMEOUT_S * 1000 * 0.9);
      expect(timedOutAt).toBeLessThan(IDLE_TIMEOUT_S * 1000 * 1.6 + 1_000);
      // The sender hears the waiter leave, and is still served.
      expect(await sender.request('PING after', LINE_MS)).toMatch(/^(LEFT timeout waiter|PONG after)$/);
    } finally {
      waiter.destroy();
      sender.destroy();
    }
  });

  it('queues pushes behind replies a blocked sendall holds, whole and in order, and sends all once the client reads', async () => {
    const echoer = await member('echoer', 'blocked');
    const sender = await member('sender2', 'blocked');
    expect(await echoer.nextLine(LINE_MS)).toBe('JOINED blocked sender2');
    const filler = 'y'.repeat(16 * 1024);
    const ECHOES = 600;
    const SAYS = 200;
    try {
      // ~10 MB of replies the client does not read: far past the socket buffers, so the thread blocks in sendall.
      echoer.pause();
      for (let i = 0; i < ECHOES; i += 1) echoer.sendLine(`ECHO ${i} ${filler}`);
      await sleep(200);
      for (let i = 0; i < SAYS; i += 1) {
        sender.sendLine(`SAY ${i}`);
        if (i % 20 === 0) await sleep(5);
      }
      await sleep(200);
      echoer.resume();
      const echoes: string[] = [];
      const pushes: string[] = [];
      while (echoes.length < ECHOES || pushes.length < SAYS) {
        const line = await echoer.nextLine(LINE_MS).catch((error: unknown) => {
          throw new Error(`had ${echoes.length} of ${ECHOES} echoes and ${pushes.length} of ${SAYS} pushes: ${String(error)}`);
        });
        if (line.startsWith('MSG ')) pushes.push(line);
        else echoes.push(line);
      }
      expect(echoes).toEqual(echoes.map((_, index) => `ECHO ${index} ${filler}`));
      expect(pushes).toEqual(pushes.map((_, index) => `MSG blocked sender2 ${index}`));
      expect(await echoer.request('PING done', LINE_MS)).toBe('PONG done');
    } finally {
      echoer.destroy();
      sender.destroy();
    }
  });
});
