/** A prefork child killed with SIGKILL costs only its own connections; the parent reaps and replaces it. */
import { httpRequest } from '@echoplex/conformance';
import { expect, it } from 'vitest';
import { eventually, forkingServerFor, infoOf, servingPid } from './forking-server.js';

const forking = forkingServerFor(['--mode', 'prefork', '--workers', '2']);
const open = () => forking.open();

it('closes the dead child’s connections only, detaches its members, and forks a replacement', async () => {
  const victim = await open();
  const witness = await open();
  const [victimInfo, witnessInfo] = [await infoOf(victim), await infoOf(witness)];
  expect(victimInfo.servedBy, 'the two land on different children').not.toBe(witnessInfo.servedBy);
  const deadPid = servingPid(victimInfo);
  const survivorPid = servingPid(witnessInfo);
  expect(victimInfo.children).toEqual(expect.arrayContaining([deadPid, survivorPid]));

  expect(await victim.request('NICK victim')).toBe('OK NICK victim');
  expect(await witness.request('NICK witness')).toBe('OK NICK witness');
  expect(await witness.request('JOIN crashroom')).toBe('OK JOIN crashroom');
  expect(await victim.request('JOIN crashroom')).toBe('OK JOIN crashroom');
  expect(await witness.nextLine()).toBe('JOINED crashroom victim');

  process.kill(deadPid, 'SIGKILL');

  await victim.closed(5_000);
  expect(await witness.nextLine(), 'the dead child’s members leave their rooms').toBe('LEFT crashroom victim');
  expect(await witness.request('PING still here')).toBe('PONG still here');
  expect(await witness.request('NICK victim'), 'and free their nicks').toBe('OK NICK victim');

  let children: readonly number[] = [];
  await eventually(async () => {
    const info = await infoOf(witness);
    children = info.children;
    return info.processes === 3 && children.length === 2 && !children.includes(deadPid);
  }, 'INFO shows a replacement child');
  const replacement = children.find((pid) => pid !== survivorPid);
  expect(replacement).toBeGreaterThan(0);

  const metrics = (await httpRequest(forking.running().target, 'GET', '/metrics')).body.toString();
  expect(metrics).toMatch(/^echoplex_children\{[^}]*\} 2$/m);
  expect(metrics).toContain(`echoplex_child_connections{pid="${replacement}"`);
  expect(metrics).not.toContain(`pid="${deadPid}"`);

  // The replacement serves: new connections spread onto it.
  const served = new Set<number>();
  for (let i = 0; i < 4; i++) served.add(servingPid(await infoOf(await open())));
  expect(served.has(replacement as number)).toBe(true);
  expect(forking.running().isAlive()).toBe(true);
});
