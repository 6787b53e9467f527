/** per-connection: a fork slower than --idle-timeout (here a child held stopped) holds its connection 2 s past it at most: then the parent answers BUSY. */
import { expect, it } from 'vitest';
import { eventually, forkingServerFor, infoOf, isRunning } from './forking-server.js';

const forking = forkingServerFor(['--mode', 'per-connection', '--max-children', '4', '--idle-timeout', '2']);

it('answers ERR BUSY 2 s after --idle-timeout when the child forked for it is not up, and that child exits once it is', async () => {
  const served = await forking.open();
  expect(await served.request('PING served')).toBe('PONG served');
  const { children: before } = await infoOf(served);
  const late = await forking.open();
  // Its child is forked at the accept: stop it before it is up (a Node child takes tens of ms to load).
  let stopped: number | undefined;
  await eventually(async () => {
    stopped = (await infoOf(served)).children.find((pid) => !before.includes(pid));
    return stopped !== undefined;
  }, 'a child forked for the second connection');
  process.kill(stopped as number, 'SIGSTOP');
  try {
    late.sendLine('PING late');
    const startedAt = performance.now();
    expect(await late.nextLine(6_000)).toBe('ERR BUSY no child up within 4 s');
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    await late.closed();
  } finally {
    process.kill(stopped as number, 'SIGCONT');
  }
  // Up at last with no connection for it, it exits rather than idle.
  await eventually(() => !isRunning(stopped as number), `child ${stopped} to exit`, 10_000);
  expect(await served.request('PING still')).toBe('PONG still');
});
