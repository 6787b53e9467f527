/**
 * The slow-consumer cut, 25 rooms in a row (a few seconds): the short run of
 * stress/slow-consumer.stress.ts, which repeats it 300 times. In the FIFO design (before
 * threads polled their own fd) a lost wake-up stalled about one room in 150 until fixed.
 */
import { killAllServers, type RunningServer } from '@echoplex/conformance';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { slowConsumerRooms, slowConsumerServer } from './slow-consumer-rooms.js';

let server: RunningServer;
beforeAll(async () => {
  server = await slowConsumerServer();
});
afterAll(async () => {
  await killAllServers();
});

describe('blocking: the slow-consumer cut', () => {
  it('cuts a member that does not read with ERR SLOW_CONSUMER, and the room keeps flowing (25 rooms)', async () => {
    await slowConsumerRooms(server, 25);
  });
});
