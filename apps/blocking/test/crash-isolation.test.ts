/** A handler thread that throws dies alone: its connection closes, its room hears it left, everyone else goes on (--inject-faults). */
import { BinaryClient, killAllServers, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, expect, it } from 'vitest';

afterAll(async () => {
  await killAllServers();
});

it('closes only the crashed thread’s connection and keeps serving', async () => {
  const server = await startServer('blocking', ['--inject-faults']);
  const survivor = await BinaryClient.open(server.target);
  const victim = await TextClient.open(server.target);
  try {
    expect((await survivor.request({ command: 'NICK', nick: 'survivor' })).kind).toBe('NICK');
    expect((await survivor.request({ command: 'JOIN', room: 'lobby' })).kind).toBe('JOIN');
    expect(await victim.request('NICK victim')).toBe('OK NICK victim');
    expect(await victim.request('JOIN lobby')).toBe('OK JOIN lobby');
    expect(await survivor.next()).toMatchObject({ kind: 'JOINED', nick: 'victim' });
    const before = JSON.parse((await victim.request('INFO')).slice(5)) as Record<string, unknown>;

    victim.sendLine('ECHO CRASH-THREAD');
    await victim.closed(10_000);
    expect(await survivor.next(10_000)).toMatchObject({ kind: 'LEFT', room: 'lobby', nick: 'victim' });

    expect((await survivor.request({ command: 'PING', token: Buffer.from('still here') })).kind).toBe('PONG');
    expect(await survivor.request({ command: 'WHO' })).toMatchObject({ kind: 'WHO', nicks: ['survivor'] });
    const newcomer = await TextClient.open(server.target);
    try {
      expect(await newcomer.request('NICK victim'), 'the dead connection freed its nick').toBe('OK NICK victim');
      const after = JSON.parse((await newcomer.request('INFO')).slice(5)) as Record<string, unknown>;
      expect(after.servedBy, 'a new thread replaced the dead one').not.toBe(before.servedBy);
    } finally {
      newcomer.destroy();
    }
    expect(server.isAlive()).toBe(true);
    expect(server.logs.some((line) => line.includes('handler thread died'))).toBe(true);
    const status = await server.stop();
    expect(status).toEqual({ code: 0, signal: null });
  } finally {
    survivor.destroy();
    victim.destroy();
  }
});

it('does not crash on those bytes without --inject-faults', async () => {
  const server = await startServer('blocking', []);
  const client = await TextClient.open(server.target);
  try {
    expect(await client.request('ECHO CRASH-THREAD')).toBe('ECHO CRASH-THREAD');
  } finally {
    client.destroy();
    await server.stop();
  }
});
