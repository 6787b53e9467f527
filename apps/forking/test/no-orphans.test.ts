/** Children never outlive the parent, even when it is killed with SIGKILL and cannot tell them. */
import { killAllServers, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, infoOf, isRunning, servingPid } from './forking-server.js';

afterAll(async () => {
  await killAllServers();
});

describe.each([
  { mode: 'prefork', flags: ['--mode', 'prefork', '--workers', '3'] },
  { mode: 'per-connection', flags: ['--mode', 'per-connection'] },
])('$mode', ({ flags }) => {
  it('exits every child within seconds of a SIGKILL to the parent, closing their connections', async () => {
    const server = await startServer('forking', flags);
    const clients = await Promise.all([TextClient.open(server.target), TextClient.open(server.target)]);
    try {
      const infos = await Promise.all(clients.map((client) => infoOf(client)));
      const children = infos.at(-1)?.children ?? [];
      expect(children.length).toBeGreaterThanOrEqual(2);
      for (const info of infos) expect(children).toContain(servingPid(info));
      for (const pid of children) expect(isRunning(pid)).toBe(true);

      server.kill();
      expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });

      await eventually(() => children.every((pid) => !isRunning(pid)), `children ${children.join(', ')} to exit`, 5_000);
      for (const client of clients) await client.closed(5_000);
    } finally {
      for (const client of clients) client.destroy();
    }
  });
});
