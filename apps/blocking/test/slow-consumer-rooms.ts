/**
 * The slow-consumer scenario, one room after another on one server: a member that does not
 * read must be cut with ERR SLOW_CONSUMER while the room keeps flowing. Shared by the short
 * run in `npm test` and the long one in stress/. A lost wake-up shows as a line that never
 * comes within LINE_MS (the reader's thread asleep with pushes waiting), not as a slow run.
 */
import { type RunningServer, startServer, TextClient } from '@echoplex/conformance';
import { expect } from 'vitest';

/** Far above a push's latency (about a millisecond), far below a test's timeout. */
const LINE_MS = 3_000;
/** SAYs sent before the reader's lines are read. */
const BATCH = 8;
const filler = 'x'.repeat(16 * 1024);

/** A server for the rooms: outbound room for the reader's batch (8 x 16 KiB) twice over, so a member that does not read is cut soon after its socket buffers fill. */
export function slowConsumerServer(): Promise<RunningServer> {
  return startServer('blocking', ['--threads', '32', '--prestart', '12', '--max-outbound', '256k', '--idle-timeout', '30']);
}

async function member(server: RunningServer, nick: string, room: string): Promise<TextClient> {
  const client = await TextClient.open(server.target);
  expect(await client.request(`NICK ${nick}`, LINE_MS)).toBe(`OK NICK ${nick}`);
  expect(await client.request(`JOIN ${room}`, LINE_MS)).toBe(`OK JOIN ${room}`);
  return client;
}

/** Runs `rooms` rooms in turn, each with a reader, a member that stops reading, and a sender; `first` names them apart across calls. */
export async function slowConsumerRooms(server: RunningServer, rooms: number, first = 0): Promise<void> {
  for (let trial = first; trial < first + rooms; trial += 1) {
    const room = `slow${trial}`;
    const reader = await member(server, `reader${trial}`, room);
    const slow = await member(server, `slow${trial}`, room);
    expect(await reader.nextLine(LINE_MS)).toBe(`JOINED ${room} slow${trial}`);
    slow.pause();
    const sender = await member(server, `sender${trial}`, room);
    expect(await reader.nextLine(LINE_MS)).toBe(`JOINED ${room} sender${trial}`);
    try {
      let cut = false;
      let received = 0;
      for (let sent = 0; !cut; ) {
        expect(sent, `trial ${trial}: the slow member is cut within 16 MiB of pushes`).toBeLessThan(1024);
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
}
