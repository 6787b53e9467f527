/** At the thread limit, connections are accepted but wait, unserved, until a thread frees up: --threads 2, and --threads 1, the iterative server. */
import { killAllServers, ReadTimeoutError, type RunningServer, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

/** Long enough that a served connection would have answered a PING many times over. */
const UNSERVED_MS = 800;

const open: TextClient[] = [];
async function served(server: RunningServer, name: string): Promise<TextClient> {
  const client = await TextClient.open(server.target);
  open.push(client);
  expect(await client.request(`PING ${name}`)).toBe(`PONG ${name}`);
  return client;
}

async function info(client: TextClient): Promise<Record<string, unknown>> {
  const line = await client.request('INFO');
  return JSON.parse(line.slice('INFO '.length)) as Record<string, unknown>;
}

afterEach(() => {
  for (const client of open.splice(0)) client.destroy();
});

afterAll(async () => {
  await killAllServers();
});

describe('blocking --threads 2', () => {
  it('accepts a third client but serves it only once one of the first two leaves', async () => {
    const server = await startServer('blocking', ['--threads', '2', '--idle-timeout', '0']);
    const first = await served(server, 'first');
    const second = await served(server, 'second');

    const third = await TextClient.open(server.target);
    open.push(third);
    third.sendLine('PING third');
    await expect(third.nextLine(UNSERVED_MS)).rejects.toThrow(ReadTimeoutError);
    expect(third.closedYet, 'accepted and held open, not refused').toBe(false);
    expect(await info(second)).toMatchObject({ threads: 2, threadsBusy: 2, connectionsWaiting: 1, connections: 3 });

    const firstThread = (await info(first)).servedBy;
    expect(await first.request('QUIT')).toBe('BYE');
    expect(await third.nextLine(5_000)).toBe('PONG third');
    expect((await info(third)).servedBy, 'the freed thread is reused').toBe(firstThread);
    expect(await info(second)).toMatchObject({ threads: 2, connectionsWaiting: 0, connections: 2 });
    await server.stop();
  });
});

describe('blocking --threads 1: the iterative server', () => {
  it('serves one client at a time, the others in arrival order', async () => {
    const server = await startServer('blocking', ['--threads', '1', '--idle-timeout', '0']);
    const first = await served(server, 'first');
    const later = [await TextClient.open(server.target), await TextClient.open(server.target)];
    open.push(...later);
    const [second, third] = later as [TextClient, TextClient];
    second.sendLine('PING second');
    third.sendLine('PING third');
    await expect(second.nextLine(UNSERVED_MS)).rejects.toThrow(ReadTimeoutError);
    await expect(third.nextLine(10)).rejects.toThrow(ReadTimeoutError);
    expect(await first.request('ECHO still mine')).toBe('ECHO still mine');

    first.end();
    expect(await second.nextLine(5_000)).toBe('PONG second');
    await expect(third.nextLine(UNSERVED_MS)).rejects.toThrow(ReadTimeoutError);
    expect(await info(second)).toMatchObject({ threads: 1, threadsBusy: 1, connectionsWaiting: 1 });

    second.destroy();
    expect(await third.nextLine(5_000)).toBe('PONG third');
    await server.stop();
  });
});
