/**
 * Two servers on one real Redis (`--hub`), of one model or of two, behave as one server: nicks,
 * rooms, WHO, HTTP rooms and order per sender across them; a SIGKILLed server's members freed
 * within 15 s; Redis killed (UNAVAILABLE, the rest still served) and restarted empty (members announced again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, sleep, TextClient } from '../src/clients.js';
import { RedisProcess } from '../src/redis-process.js';
import { killAllServers, listeningRecord, type RunningServer, startServer } from '../src/server-process.js';

interface ModelRun {
  readonly model: string;
  readonly flags: readonly string[];
}

/** Every model and variant wired to `--hub`, as these tests start it. */
const HUB_MODELS = {
  eventLoop: { model: 'event-loop', flags: [] },
  coroutine: { model: 'coroutine', flags: [] },
  workerPool: { model: 'worker-pool', flags: ['--workers', '2'] },
  prefork: { model: 'forking', flags: ['--mode', 'prefork', '--workers', '2'] },
  perConnection: { model: 'forking', flags: ['--mode', 'per-connection'] },
  blocking: { model: 'blocking', flags: [] },
} as const satisfies Record<string, ModelRun>;

/** Server `one` and server `two` (and the servers a case starts and stops) on one Redis. */
interface Pair {
  readonly one: ModelRun;
  readonly two: ModelRun;
  /** Also the two cases that wait ~11 s (a SIGKILLed server's lease) and for a late Redis. */
  readonly every: boolean;
}

const named = ({ model, flags }: ModelRun) => [model, ...flags].join(' ');

/**
 * Every case on two servers of each model issue 12 names; every other model against a server of
 * a different model, sharing rooms on the same Redis (a mixed pair is a test in itself), without the
 * lease-long cases, so the file stays near a minute.
 */
const PAIRS: readonly (Pair & { readonly name: string })[] = (
  [
    { one: HUB_MODELS.eventLoop, two: HUB_MODELS.eventLoop, every: true },
    { one: HUB_MODELS.workerPool, two: HUB_MODELS.workerPool, every: true },
    { one: HUB_MODELS.prefork, two: HUB_MODELS.prefork, every: true },
    { one: HUB_MODELS.eventLoop, two: HUB_MODELS.perConnection, every: false },
    { one: HUB_MODELS.workerPool, two: HUB_MODELS.blocking, every: false },
    { one: HUB_MODELS.prefork, two: HUB_MODELS.coroutine, every: false },
  ] satisfies Pair[]
).map((pair) => ({ ...pair, name: pair.one === pair.two ? `two ${named(pair.one)}` : `${named(pair.one)} and ${named(pair.two)}` }));

/** Reads lines until one satisfies `wanted`, returning every line read; fails after `timeoutMs` naming what came. */
async function linesUntil(client: TextClient, wanted: (line: string) => boolean, timeoutMs = 5000): Promise<string[]> {
  const lines: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const line = await client.nextLine(Math.max(1, left)).catch((error: Error) => {
      throw new Error(`${error.message}; lines so far: ${JSON.stringify(lines)}`);
    });
    lines.push(line);
    if (wanted(line)) return lines;
  }
}

async function member(server: RunningServer, nick: string, room?: string): Promise<TextClient> {
  const client = await TextClient.open(server.target);
  expect(await client.request(`NICK ${nick}`)).toBe(`OK NICK ${nick}`);
  if (room !== undefined) expect(await client.request(`JOIN ${room}`)).toBe(`OK JOIN ${room}`);
  return client;
}

describe.each(PAIRS)('--hub, $name: two servers on one Redis', (pair) => {
  let redis: RedisProcess;
  let one: RunningServer;
  let two: RunningServer;
  const startOf = ({ model, flags }: ModelRun, url: string) => startServer(model, [...flags, '--hub', url, '--idle-timeout', '0']);
  /** The servers a case starts of its own are of model `two` (in a mixed pair, the one under test). */
  const start = (url: string) => startOf(pair.two, url);

  beforeAll(async () => {
    redis = await RedisProcess.start();
    [one, two] = await Promise.all([startOf(pair.one, redis.url), startOf(pair.two, redis.url)]);
  });

  afterAll(async () => {
    await killAllServers();
    await redis?.stop();
  });

  it('names its hub and node in INFO and on the listening line', async () => {
    const client = await TextClient.open(one.target);
    const info = JSON.parse((await client.request('INFO')).slice('INFO '.length)) as Record<string, unknown>;
    expect(info.hub).toBe(redis.url);
    expect(typeof info.node).toBe('string');
    expect(listeningRecord(one)?.node).toBe(info.node);
    const other = await TextClient.open(two.target);
    const otherInfo = JSON.parse((await other.request('INFO')).slice('INFO '.length)) as Record<string, unknown>;
    expect(otherInfo.node).not.toBe(info.node);
    // Guest nicks are unique across servers too: connection ids are numbered per server.
    expect(otherInfo.nick).not.toBe(info.nick);
    client.end();
    other.end();
  });

  it('keeps nicks unique across servers and carries JOINED, MSG, WHO and LEFT between them', async () => {
    const ann = await member(one, 'ann', 'lobby');
    const bob = await TextClient.open(two.target);
    expect(await bob.request('NICK ann')).toBe('ERR NICK_TAKEN ann is taken');
    expect(await bob.request('NICK bob')).toBe('OK NICK bob');
    expect(await bob.request('JOIN lobby')).toBe('OK JOIN lobby');
    expect(await ann.nextLine()).toBe('JOINED lobby bob');
    bob.sendLine('SAY hello from two');
    expect(await ann.nextLine()).toBe('MSG lobby bob hello from two');
    ann.sendLine('SAY hello from one');
    expect(await bob.nextLine()).toBe('MSG lobby ann hello from one');
    expect(await bob.request('WHO')).toBe('WHO lobby ann bob');
    expect(await ann.request('WHO')).toBe('WHO lobby ann bob');
    bob.end();
    expect(await ann.nextLine()).toBe('LEFT lobby bob');
    const again = await TextClient.open(one.target);
    expect(await again.request('NICK bob')).toBe('OK NICK bob');
    ann.end();
    again.end();
  });

  it('delivers 300 messages of one sender in order, to members on both servers', async () => {
    const near = await member(one, 'near', 'order');
    const far = await member(two, 'far', 'order');
    const sender = await member(one, 'sender', 'order');
    await linesUntil(near, (line) => line === 'JOINED order sender');
    await linesUntil(far, (line) => line === 'JOINED order sender');
    const count = 300;
    sender.write(Array.from({ length: count }, (_, i) => `SAY m${i}\n`).join(''));
    const expected = Array.from({ length: count }, (_, i) => `MSG order sender m${i}`);
    expect(await linesUntil(near, (line) => line.endsWith(`m${count - 1}`))).toEqual(expected);
    expect(await linesUntil(far, (line) => line.endsWith(`m${count - 1}`))).toEqual(expected);
    for (const client of [near, far, sender]) client.end();
  });

  it('serves the HTTP room endpoints from the hub: members on every server, posts to all', async () => {
    const cy = await member(one, 'cy', 'plaza');
    const dee = await member(two, 'dee', 'plaza');
    await linesUntil(cy, (line) => line === 'JOINED plaza dee');
    const members = await httpRequest(two.target, 'GET', '/rooms/plaza');
    expect(JSON.parse(members.body.toString())).toEqual({ room: 'plaza', members: ['cy', 'dee'] });
    const posted = await httpRequest(one.target, 'POST', '/rooms/plaza/messages', { headers: { 'X-Nick': 'web' }, body: 'hi all' });
    expect(posted.status).toBe(202);
    expect(await cy.nextLine()).toBe('MSG plaza web hi all');
    expect(await dee.nextLine()).toBe('MSG plaza web hi all');
    const metrics = (await httpRequest(one.target, 'GET', '/metrics')).body.toString();
    expect(metrics).toMatch(/^echoplex_hub_round_trips_total\{[^}]*\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^echoplex_hub_available\{[^}]*\} 1$/m);
    cy.end();
    dee.end();
  });

  it('answers UNAVAILABLE while Redis is away, serves the rest, and announces every member to a restarted, empty Redis', async () => {
    const eve = await member(one, 'eve', 'vault');
    const fay = await member(two, 'fay', 'vault');
    await linesUntil(eve, (line) => line === 'JOINED vault fay');
    await redis.kill();
    // The servers notice at once (the connection closes); a request that raced it still gets UNAVAILABLE.
    await sleep(200);
    expect(await eve.request('SAY anyone?')).toMatch(/^ERR UNAVAILABLE /);
    expect(await eve.request('WHO')).toMatch(/^ERR UNAVAILABLE /);
    expect(await eve.request('NICK eve2')).toMatch(/^ERR UNAVAILABLE /);
    expect(await eve.request('PING still')).toBe('PONG still');
    expect(await eve.request('ECHO here')).toBe('ECHO here');
    const posted = await httpRequest(two.target, 'POST', '/rooms/vault/messages', { body: 'x' });
    expect(posted.status).toBe(503);
    expect((await httpRequest(two.target, 'GET', '/rooms/vault')).status).toBe(503);
    expect((await httpRequest(two.target, 'GET', '/ping')).status).toBe(200);
    const metrics = (await httpRequest(one.target, 'GET', '/metrics')).body.toString();
    expect(metrics).toMatch(/^echoplex_hub_available\{[^}]*\} 0$/m);
    await redis.restart();
    const deadline = Date.now() + 5000;
    let who = '';
    while (Date.now() < deadline) {
      who = await eve.request('WHO');
      if (who === 'WHO vault eve fay') break;
      await sleep(100);
    }
    expect(who).toBe('WHO vault eve fay');
    const stranger = await TextClient.open(one.target);
    expect(await stranger.request('NICK fay')).toBe('ERR NICK_TAKEN fay is taken');
    fay.sendLine('SAY back again');
    expect(await eve.nextLine()).toBe('MSG vault fay back again');
    expect(one.isAlive() && two.isAlive()).toBe(true);
    for (const client of [eve, fay, stranger]) client.end();
  });

  it.runIf(pair.every)('frees the nicks of a SIGKILLed server and sends its members’ LEFT within 15 s', { timeout: 30_000 }, async () => {
    const doomed = await start(redis.url);
    const gil = await member(doomed, 'gil', 'wake');
    const watcher = await member(one, 'watcher', 'wake');
    expect(await watcher.request('NICK gil')).toBe('ERR NICK_TAKEN gil is taken');
    const killedAt = Date.now();
    doomed.kill();
    expect(await linesUntil(watcher, (line) => line.startsWith('LEFT'), 15_000)).toEqual(['LEFT wake gil']);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(await watcher.request('NICK gil')).toBe('OK NICK gil');
    gil.end();
    watcher.end();
  });

  it('releases the members of a server stopped with SIGTERM at once, not a lease later', async () => {
    const leaving = await start(redis.url);
    await member(leaving, 'hal', 'exit');
    const watcher = await member(one, 'porter', 'exit');
    const stoppedAt = Date.now();
    expect(await leaving.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await linesUntil(watcher, (line) => line.startsWith('LEFT'), 3000)).toEqual(['LEFT exit hal']);
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(await watcher.request('NICK hal')).toBe('OK NICK hal');
    watcher.end();
  });

  it.runIf(pair.every)('waits at start for a Redis that comes up late', async () => {
    const late = await RedisProcess.start();
    await late.kill();
    const starting = start(late.url);
    await sleep(1000);
    await late.restart();
    const server = await starting;
    const client = await TextClient.open(server.target);
    expect(await client.request('NICK latecomer')).toBe('OK NICK latecomer');
    client.end();
    await server.stop();
    await late.stop();
  });
});

describe('--hub, servers started after many others on one Redis', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
    // As if 20 servers had started on this Redis before: the next numbers its connections from 20 * 10^9 + 1, past a u32.
    await redis.command('SET', 'echoplex:servers', '20');
  });
  afterAll(async () => {
    await killAllServers();
    await redis?.stop();
  });

  it.each(
    [HUB_MODELS.workerPool, HUB_MODELS.prefork, HUB_MODELS.perConnection, HUB_MODELS.blocking].map((run) => ({ ...run, name: named(run) })),
  )('$name serves connections numbered past 2^32, and their guest nicks', async ({ model, flags }) => {
    const server = await startServer(model, [...flags, '--hub', redis.url, '--idle-timeout', '0']);
    const client = await TextClient.open(server.target);
    expect(await client.request('PING past')).toBe('PONG past');
    const info = JSON.parse((await client.request('INFO')).slice('INFO '.length)) as Record<string, unknown>;
    expect(info.connectionId).toBeGreaterThan(2 ** 32);
    expect(info.nick).toBe(`guest-${info.connectionId}`);
    // A room of its own: a server stopped by the case before may still be taking its member out of a shared one.
    const room = `big${info.connectionId}`;
    expect(await client.request(`JOIN ${room}`)).toBe(`OK JOIN ${room}`);
    expect(await client.request('WHO')).toBe(`WHO ${room} ${info.nick}`);
    client.end();
    await server.stop();
  });
});
