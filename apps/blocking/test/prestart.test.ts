/** --prestart N, the prethreaded server: N threads are up when the listening line is printed, and the first N connections start none. */
import { killAllServers, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, describe, expect, it } from 'vitest';

async function info(client: TextClient): Promise<Record<string, unknown>> {
  const line = await client.request('INFO');
  return JSON.parse(line.slice('INFO '.length)) as Record<string, unknown>;
}

afterAll(async () => {
  await killAllServers();
});

describe('blocking --prestart', () => {
  it('has its threads before the listening line and serves the first N connections on them', async () => {
    const server = await startServer('blocking', ['--prestart', '4', '--threads', '8', '--idle-timeout', '0']);
    const clients: TextClient[] = [];
    try {
      const first = await TextClient.open(server.target);
      clients.push(first);
      expect(await info(first), 'right after the listening line').toMatchObject({ threads: 4, threadsBusy: 1 });
      for (const name of ['b', 'c', 'd']) {
        const client = await TextClient.open(server.target);
        clients.push(client);
        expect(await client.request(`PING ${name}`)).toBe(`PONG ${name}`);
      }
      expect(await info(first), 'four connections, no thread started').toMatchObject({ threads: 4, threadsBusy: 4 });
      const fifth = await TextClient.open(server.target);
      clients.push(fifth);
      expect(await info(fifth), 'the fifth starts one').toMatchObject({ threads: 5, threadsBusy: 5 });
    } finally {
      for (const client of clients) client.destroy();
    }
    await server.stop();
  });
});
