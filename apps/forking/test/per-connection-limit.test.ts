/** per-connection mode forks at most --max-children at once: one more connection is accepted and waits, unserved, for a child to exit. */
import { expect, it } from 'vitest';
import { eventually, forkingServerFor, infoOf } from './forking-server.js';

const forking = forkingServerFor(['--mode', 'per-connection', '--max-children', '2']);
const open = () => forking.open();

it('makes the third client wait until one of the first two leaves', async () => {
  const first = await open();
  const second = await open();
  expect(await first.request('PING one')).toBe('PONG one');
  expect(await second.request('PING two')).toBe('PONG two');
  const [firstInfo, secondInfo] = [await infoOf(first), await infoOf(second)];
  expect(firstInfo.servedBy, 'a child of its own each').not.toBe(secondInfo.servedBy);

  const third = await open();
  third.sendLine('PING three');
  await expect(third.nextLine(1_000), 'no third child while two serve').rejects.toThrow(/timed out/);
  expect(third.closedYet).toBe(false);
  const waitingInfo = await infoOf(first);
  expect(waitingInfo.processes).toBe(3);
  expect(waitingInfo.connectionsWaiting).toBe(1);

  second.destroy();
  expect(await third.nextLine(5_000), 'served once a child exits').toBe('PONG three');
  const thirdInfo = await infoOf(third);
  expect(thirdInfo.servedBy).not.toBe(firstInfo.servedBy);
  expect(thirdInfo.servedBy).not.toBe(secondInfo.servedBy);
  expect(thirdInfo.connectionsWaiting).toBe(0);

  third.sendLine('QUIT');
  expect(await third.nextLine()).toBe('BYE');
  await third.closed();
  await eventually(async () => (await infoOf(first)).processes === 2, 'the third child exits with its connection');
});
