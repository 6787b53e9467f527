/** Blocked threads sleep in poll(2) on their socket and wake fd: 100 idle connections, each on its own thread, cost the server next to no CPU. */
import { readFileSync } from 'node:fs';
import { killAllServers, sleep, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, expect, it } from 'vitest';

const CONNECTIONS = 100;
const WINDOW_MS = 3_000;
/** Linux reports process CPU time in clock ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time of the whole process (every thread), in seconds, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat; 12 and 13 once the pid and name are cut off.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

afterAll(async () => {
  await killAllServers();
});

it.runIf(process.platform === 'linux')('keeps 100 idle connections, each with a thread, below 2% of one core', async () => {
  const server = await startServer('blocking', ['--threads', String(CONNECTIONS)]);
  const clients: TextClient[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) {
      const client = await TextClient.open(server.target);
      clients.push(client);
      // Answered means a thread took it; a silent client would not have one yet.
      expect(await client.request(`PING ${i}`, 30_000)).toBe(`PONG ${i}`);
    }
    const info = JSON.parse((await (clients[0] as TextClient).request('INFO')).slice(5)) as Record<string, unknown>;
    expect(info).toMatchObject({ threads: CONNECTIONS, threadsBusy: CONNECTIONS, connectionsWaiting: 0 });
    // Let the thread starts and their JIT settle, then measure a quiet window.
    await sleep(1_000);
    const before = cpuSeconds(server.pid);
    await sleep(WINDOW_MS);
    const used = cpuSeconds(server.pid) - before;
    console.log(`blocking: 100 idle connections used ${((100 * used) / (WINDOW_MS / 1000)).toFixed(2)}% of a core over ${WINDOW_MS} ms`);
    expect(used / (WINDOW_MS / 1000), `CPU used by the server over ${WINDOW_MS} ms: ${used.toFixed(2)} s`).toBeLessThan(0.02);
    // Still served, not merely asleep.
    expect(await (clients[CONNECTIONS - 1] as TextClient).request('PING awake')).toBe('PONG awake');
  } finally {
    for (const client of clients) client.destroy();
    await server.stop();
  }
});
