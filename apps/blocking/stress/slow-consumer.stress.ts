/**
 * The slow-consumer scenario repeated 100 times on one server: a member that does not read
 * must be cut with ERR SLOW_CONSUMER while the room keeps flowing. NOT in `npm test` yet: it
 * fails about one run in two (e.g. "trial 61: the reader had 8 of 16 pushes (cut: false)"):
 * a whole batch of the sender's SAYs never reaches the reader, before the slow member is
 * over --max-outbound, which is the lost wake-up issue 14 names. Run it:
 * `npx vitest run --config vitest.stress.config.ts` in apps/blocking.
 */
import { killAllServers, type RunningServer, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Far above a push's latency (about a millisecond), far below a test's timeout. */
const LINE_MS = 3_000;
/** SAYs sent before the reader's lines are read. */
const BATCH = 8;
const TRIALS = 100;

let server: RunningServer;
beforeAll(async () => {
  // Outbound room for the reader's batch (8 x 16 KiB) twice over: a member that does not read is cut soon after its socket buffers fill.
  server = await startServer('blocking', ['--threads', '32', '--prestart', '12', '--max-outbound', '256k', '--idle-timeout', '30']);
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

describe('blocking: the slow-consumer cut, repeated', () => {
  it(`cuts a member that does not read with ERR SLOW_CONSUMER, every time, and the room keeps flowing (${TRIALS} rooms)`, async () => {
    const filler = 'x'.repeat(16 * 1024);
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const room = `slow${trial}`;
      const reader = await member(`reader${trial}`, room);
      const slow = await member(`slow${trial}`, room);
      expect(await reader.nextLine(LINE_MS)).toBe(`JOINED ${room} slow${trial}`);
      slow.pause();
      const sender = await member(`sender${trial}`, room);
      expect(await reader.nextLine(LINE_MS)).toBe(`JOINED ${room} sender${trial}`);
      try {
        let cut = false;
        let received = 0;
        for (let sent = 0; !cut; ) {
          expect(sent, 'the slow member is cut within 16 MiB of pushes').toBeLessThan(1024);
          // A batch at a time: the reader, which does read, has one batch pending at most.
          for (let i = 0; i < BATCH; i += 1) sender.sendLine(`SAY ${sent++} ${filler}`);
          while (received < sent) {
            const line = await reader.nextLine(LINE_MS).catch((error: unknown) => {
              throw new Error(`trial ${trial}: the reader had ${received} of ${sent} pushes (cut: ${cut}): ${String(error)}`);
            });
            if (line === `LEFT ${room} slow${trial}`) cut = true;
            else expect(line).toBe(`MSG ${room} sender${trial} ${received++} ${filler}`);
          }
        }
        slow.resume();
        const seen = await slow.linesUntilClosed(LINE_MS);
        expect(seen.at(-1)).toMatch(/^ERR SLOW_CONSUMER /);
        sender.sendLine('PING after');
        // The sender may hear of the cut first; nothing else.
        let line = await sender.nextLine(LINE_MS);
        if (line === `LEFT ${room} slow${trial}`) line = await sender.nextLine(LINE_MS);
        expect(line).toBe('PONG after');
      } finally {
        for (const client of [reader, slow, sender]) client.destroy();
      }
    }
  });
});
