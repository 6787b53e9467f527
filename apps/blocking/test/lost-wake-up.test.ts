/**
 * The lost wake-up hunt: a push must reach a handler thread whichever blocking call it is in.
 * Pushes race each member's own request (its recv returning, its sendall), 300 rounds; a
 * wake-up lost anywhere shows as a line that never comes (the read times out), not as a
 * slow run. The slow-consumer cut repeated is slow-consumer.test.ts (and 300 times in stress/).
 */
import { killAllServers, type RunningServer, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Far above a push's latency (about a millisecond), far below a test's timeout. */
const LINE_MS = 3_000;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer('blocking', ['--threads', '32', '--prestart', '8', '--idle-timeout', '30']);
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

describe('blocking: no lost wake-ups', () => {
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
});
