import net from 'node:net';
import { buildExchange } from '@echoplex/loadgen';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntilServed } from '../src/ready-phase.js';

const ping = buildExchange({ scenario: 'ping', size: 8, workIterations: 1, mirror: false });
const servers: net.Server[] = [];

/** A stand-in model: answers the PING of the first `limit` connections after `delayMs`, leaves the rest waiting (a thread limit). */
async function listen(limit: number, delayMs: number): Promise<string> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    const mine = ++accepted;
    socket.on('error', () => socket.destroy());
    socket.once('data', () => {
      if (mine <= limit) setTimeout(() => socket.write(ping.reply), delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return `tcp://127.0.0.1:${address.port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

describe('the ready phase', () => {
  it('times how long every connection takes to get its first reply', async () => {
    const target = await listen(100, 150);
    const ready = await waitUntilServed(target, 20, false, 5000);
    expect(ready).toMatchObject({ served: 20, of: 20, problems: [] });
    expect(ready.seconds).toBeGreaterThanOrEqual(0.14);
    expect(ready.seconds).toBeLessThan(4);
  });

  it('reports the connections a model left unserved within the bound, as served X of N', async () => {
    const target = await listen(6, 0);
    const ready = await waitUntilServed(target, 10, false, 400);
    expect(ready).toMatchObject({ served: 6, of: 10, seconds: 0.4 });
  });

  it('counts a wrong reply as not served, and says why', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.write(Buffer.from('nonsense-nonsense'))));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ready = await waitUntilServed(`tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`, 2, false, 2000);
    expect(ready.served).toBe(0);
    expect(ready.problems[0]).toMatch(/wrong reply/);
  });

  it('expects the request back from the mirror reference', async () => {
    const server = net.createServer((socket) => socket.pipe(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ready = await waitUntilServed(`tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`, 5, true, 2000);
    expect(ready).toMatchObject({ served: 5, of: 5 });
  });
});
