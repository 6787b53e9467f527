/** per-connection: the line waiting for a child is bounded (--max-waiting) and timed (--idle-timeout), and --max-connections counts it; the parent answers BUSY itself. */
import { expect, it } from 'vitest';
import { forkingServerFor, infoOf } from './forking-server.js';

const forking = forkingServerFor(['--mode', 'per-connection', '--max-children', '1', '--max-waiting', '1', '--idle-timeout', '2']);
const open = () => forking.open();

it('refuses past --max-waiting at once, and turns a waiting connection away after --idle-timeout', async () => {
  const served = await open();
  expect(await served.request('PING served')).toBe('PONG served');
  const waiting = await open();
  waiting.sendLine('PING waiting');
  const refused = await open();
  refused.sendLine('PING refused');
  expect(await refused.nextLine(2_000), 'the line is full').toMatch(/^ERR BUSY /);
  await refused.closed();
  expect((await infoOf(served)).connections, 'the waiting one counts').toBe(2);
  expect(await waiting.nextLine(5_000)).toBe('ERR BUSY no child free within 2 s');
  await waiting.closed();
  expect(await served.request('PING still')).toBe('PONG still');
});
