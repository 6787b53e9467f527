/**
 * The slow-consumer cut repeated 300 times on one server (about a minute; npm test runs 25).
 * In the FIFO design it found issue 14's lost wake-up (a reader's thread asleep with its
 * waiting flag down, so "the reader had 8 of 16 pushes"); threads now wake from poll(2) on an
 * eventfd, and it must still pass. Run it: `npx vitest run --config vitest.stress.config.ts` in apps/blocking.
 */
import { killAllServers, type RunningServer } from '@echoplex/conformance';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { slowConsumerRooms, slowConsumerServer } from '../test/slow-consumer-rooms.js';

const TRIALS = 300;

let server: RunningServer;
beforeAll(async () => {
  server = await slowConsumerServer();
});
afterAll(async () => {
  await killAllServers();
});

describe('blocking: the slow-consumer cut, repeated', () => {
  it(`cuts a member that does not read with ERR SLOW_CONSUMER, every time, and the room keeps flowing (${TRIALS} rooms)`, async () => {
    await slowConsumerRooms(server, TRIALS);
  });
});
