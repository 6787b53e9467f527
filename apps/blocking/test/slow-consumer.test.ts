/**
 * The slow-consumer cut, 25 rooms in a row (a few seconds): the short run of
 * stress/slow-consumer.stress.ts, which repeats it 300 times. Before the fix of the
 * waiting flag (see sleep-protocol.test.ts, which hits that race every time) about one
 * room in 150 stalled.
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
