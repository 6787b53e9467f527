/** The line of connections waiting for a thread is bounded (--max-waiting, then ERR BUSY at once) and timed (ERR BUSY after --idle-timeout). */
import { killAllServers, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, expect, it } from 'vitest';

afterAll(async () => {
  await killAllServers();
});

it('refuses past --max-waiting at once, and turns a waiting connection away after --idle-timeout', async () => {
  const server = await startServer('blocking', ['--threads', '1', '--max-waiting', '1', '--idle-timeout', '1.5']);
  const clients: TextClient[] = [];
  try {
    const served = await TextClient.open(server.target);
    clients.push(served);
    expect(await served.request('PING served')).toBe('PONG served');
    // Served and idle between requests: it keeps its thread, so the next one waits.
    const waiting = await TextClient.open(server.target);
    const refused = await TextClient.open(server.target);
    clients.push(waiting, refused);
    waiting.sendLine('PING waiting');
    refused.sendLine('PING refused');
    expect(await refused.nextLine(1_000), 'the line is full').toMatch(/^ERR BUSY /);
    await refused.closed();
    const startedWaiting = performance.now();
    expect(await waiting.nextLine(4_000)).toBe('ERR BUSY no thread free within 1.5 s');
    expect(performance.now() - startedWaiting).toBeGreaterThan(1_000);
    await waiting.closed();
    expect(await served.request('PING still'), 'the served one is untouched').toBe('PONG still');
  } finally {
    for (const client of clients) client.destroy();
    await server.stop();
  }
});
