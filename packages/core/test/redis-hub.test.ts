/** Two RedisHubs on one real Redis behave as one server: nicks, rooms, order per sender, death, and Redis going away. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisProcess, redisServerVersion } from '@echoplex/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubRelay, RemoteHub } from '../src/index.js';
import { RedisHub } from '../src/server.js';
import { connect } from './session-harness.js';

let redis: RedisProcess;
const hubs: RedisHub[] = [];

beforeAll(async () => {
  redis = await RedisProcess.start();
});

afterAll(async () => {
  await Promise.all(hubs.map((hub) => hub.close()));
  await redis?.stop();
});

async function openHub(leaseMs?: number): Promise<RedisHub> {
  const hub = await RedisHub.open({ url: redis.url, ...(leaseMs === undefined ? {} : { leaseMs }) });
  hubs.push(hub);
  return hub;
}

/** Waits until `read()` satisfies `done`, or fails naming what it last saw. */
async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A member's output, collected across turns, until it holds `text`. */
async function received(member: ReturnType<typeof connect>, text: string, timeoutMs = 3000): Promise<string> {
  let all = '';
  return eventually(
    () => {
      all += member.transport.take();
      return all;
    },
    (seen) => seen.includes(text),
    timeoutMs,
  );
}

describe('RedisHub across two servers', () => {
  it('runs on a Redis with sharded pub/sub (7 or later)', () => {
    expect(Number(redisServerVersion().split('.')[0])).toBeGreaterThanOrEqual(7);
  });

  it('numbers each server, so connection ids and guest nicks never collide', async () => {
    const [a, b] = [await openHub(), await openHub()];
    expect(a.node).not.toBe(b.node);
    expect(Math.abs(a.firstConnectionId - b.firstConnectionId)).toBeGreaterThanOrEqual(1_000_000_000);
  });

  it('keeps a nick unique across servers, and frees it on disconnect', async () => {
    const [a, b] = [await openHub(), await openHub()];
    const alice = connect(a);
    const other = connect(b);
    alice.send('NICK alice\n');
    await received(alice, 'OK NICK alice\n');
    other.send('NICK alice\n');
    expect(await received(other, '\n')).toBe('ERR NICK_TAKEN alice is taken\n');
    alice.session.abort();
    await eventually(
      async () => {
        other.send('NICK alice\n');
        return received(other, '\n');
      },
      (reply) => reply === 'OK NICK alice\n',
    );
  });

  it('carries JOINED, MSG, WHO and LEFT between members of one room on two servers', async () => {
    const [a, b] = [await openHub(), await openHub()];
    const ann = connect(a);
    const bob = connect(b);
    ann.send('NICK ann\nJOIN lobby\n');
    await received(ann, 'OK JOIN lobby\n');
    bob.send('NICK bob\nJOIN lobby\nSAY hello there\nWHO\n');
    expect(await received(bob, 'WHO')).toBe('OK NICK bob\nOK JOIN lobby\nWHO lobby ann bob\n');
    expect(await received(ann, 'MSG lobby bob hello there\n')).toBe('JOINED lobby bob\nMSG lobby bob hello there\n');
    bob.send('LEAVE\n');
    expect(await received(bob, 'OK LEAVE')).toBe('OK LEAVE lobby\n');
    expect(await received(ann, 'LEFT')).toBe('LEFT lobby bob\n');
    ann.send('WHO\n');
    expect(await received(ann, 'WHO')).toBe('WHO lobby ann\n');
  });

  it('delivers a sender’s messages once each and in order, to members here and on the other server', async () => {
    const [a, b] = [await openHub(), await openHub()];
    const sender = connect(a);
    const near = connect(a);
    const far = connect(b);
    for (const [member, nick] of [
      [near, 'near'],
      [far, 'far'],
      [sender, 'sender'],
    ] as const) {
      member.send(`NICK ${nick}\nJOIN order\n`);
      await received(member, 'OK JOIN order\n');
    }
    near.transport.take();
    far.transport.take();
    const count = 1000;
    sender.send(Array.from({ length: count }, (_, i) => `SAY m${i}\n`).join(''));
    const expected = Array.from({ length: count }, (_, i) => `MSG order sender m${i}\n`).join('');
    expect(await received(near, `m${count - 1}\n`)).toBe(expected);
    expect(await received(far, `m${count - 1}\n`, 5000)).toBe(expected);
  });

  it('answers the HTTP room endpoints from Redis: members on every server, posts to all of them', async () => {
    const [a, b] = [await openHub(), await openHub()];
    const cy = connect(a);
    cy.send('NICK cy\nJOIN plaza\n');
    await received(cy, 'OK JOIN plaza\n');
    const dee = connect(b);
    dee.send('NICK dee\nJOIN plaza\n');
    await received(dee, 'OK JOIN plaza\n');
    const http = connect(b);
    http.send(
      'GET /rooms/plaza HTTP/1.1\r\nHost: x\r\n\r\nPOST /rooms/plaza/messages HTTP/1.1\r\nHost: x\r\nX-Nick: web\r\nContent-Length: 2\r\n\r\nhi',
    );
    const responses = await received(http, 'accepted');
    expect(responses).toContain('{"room":"plaza","members":["cy","dee"]}');
    expect(responses).toContain('HTTP/1.1 202');
    expect(await received(cy, 'MSG plaza web hi\n')).toContain('MSG plaza web hi\n');
    expect(await received(dee, 'MSG plaza web hi\n')).toContain('MSG plaza web hi\n');
  });

  it('works behind the HubRelay that pool and prefork models share: pushes from the other server reach a worker', async () => {
    const [a, b] = [await openHub(), await openHub()];
    const relay = new HubRelay(a);
    const remote: RemoteHub = new RemoteHub((call) => setImmediate(() => relay.handle(channel, structuredClone(call))));
    const channel = relay.connect((event) => setImmediate(() => remote.receive(structuredClone(event))));
    const inWorker = connect(remote);
    inWorker.send('NICK worker\nJOIN relay\n');
    await received(inWorker, 'OK JOIN relay\n');
    const elsewhere = connect(b);
    elsewhere.send('NICK elsewhere\nJOIN relay\nSAY from afar\nWHO\n');
    expect(await received(elsewhere, 'WHO')).toContain('WHO relay elsewhere worker\n');
    expect(await received(inWorker, 'MSG')).toBe('JOINED relay elsewhere\nMSG relay elsewhere from afar\n');
    relay.disconnect(channel);
    expect(await received(elsewhere, 'LEFT')).toBe('LEFT relay worker\n');
  });

  it('frees the nicks of a server that died without a word, and sends its members’ LEFT, within the lease', async () => {
    const a = await openHub(1500);
    const watcher = connect(a);
    watcher.send('NICK watcher\nJOIN wake\n');
    await received(watcher, 'OK JOIN wake\n');
    const child = fork(fileURLToPath(new URL('./redis-hub-member.mjs', import.meta.url)), [redis.url, '1500', 'ghost', 'wake'], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the member process exited with ${code}`)));
    });
    expect(await received(watcher, 'JOINED')).toBe('JOINED wake ghost\n');
    watcher.send('NICK ghost\n');
    expect(await received(watcher, '\n')).toBe('ERR NICK_TAKEN ghost is taken\n');
    const killedAt = Date.now();
    child.kill('SIGKILL');
    expect(await received(watcher, 'LEFT', 5000)).toBe('LEFT wake ghost\n');
    // Lease 1.5 s, reaped every 0.3 s: the bound is lease + one reap, with slack for a busy machine.
    expect(Date.now() - killedAt).toBeLessThan(3000);
    watcher.send('NICK ghost\n');
    expect(await received(watcher, '\n')).toBe('OK NICK ghost\n');
  });

  it('answers UNAVAILABLE while Redis is away, and announces every member again to a restarted, empty Redis', async () => {
    const [a, b] = [await openHub(), await openHub()];
    const eve = connect(a);
    const fay = connect(b);
    eve.send('NICK eve\nJOIN vault\n');
    await received(eve, 'OK JOIN vault\n');
    fay.send('NICK fay\nJOIN vault\n');
    await received(fay, 'OK JOIN vault\n');
    // A member in a "worker", behind the relay of a's main thread, is told too.
    const relay = new HubRelay(a);
    a.onAvailabilityChange(() => relay.availabilityChanged());
    const remote: RemoteHub = new RemoteHub((call) => setImmediate(() => relay.handle(channel, structuredClone(call))));
    const channel = relay.connect((event) => setImmediate(() => remote.receive(structuredClone(event))));
    const gus = connect(remote);
    gus.send('NICK gus\nJOIN vault\n');
    await received(gus, 'OK JOIN vault\n');
    eve.transport.take();
    await redis.kill();
    await eventually(
      () => a.unavailable(),
      (error) => error !== undefined,
    );
    eve.send('SAY anyone?\nPING still\nWHO\nNICK eve2\n');
    const down = await eventually(
      () => (eve.transport.written.length === 0 ? '' : Buffer.concat(eve.transport.written).toString()),
      (text) => text.split('\n').length > 4,
    );
    expect(down).toMatch(/^ERR UNAVAILABLE .+\nPONG still\nERR UNAVAILABLE .+\nERR UNAVAILABLE .+\n$/);
    expect(a.counters.available).toBe(false);
    gus.send('SAY from the worker\nPING w\n');
    expect(await received(gus, 'PONG w\n')).toMatch(/^ERR UNAVAILABLE .+\nPONG w\n$/);
    await redis.restart();
    await eventually(
      () => a.unavailable() === undefined && b.unavailable() === undefined,
      (back) => back,
      5000,
    );
    eve.transport.take();
    fay.transport.take();
    eve.send('WHO\n');
    expect(await received(eve, 'WHO')).toBe('WHO vault eve fay gus\n');
    const stranger = connect(b);
    stranger.send('NICK fay\n');
    expect(await received(stranger, '\n')).toBe('ERR NICK_TAKEN fay is taken\n');
    fay.send('SAY back again\n');
    expect(await received(eve, 'MSG')).toBe('MSG vault fay back again\n');
    gus.transport.take();
    gus.send('SAY worker back\n');
    expect(await received(fay, 'MSG vault gus')).toBe('MSG vault gus worker back\n');
  });

  it('gives up at start, naming the URL, when no Redis answers', async () => {
    const started = Date.now();
    await expect(RedisHub.open({ url: 'redis://127.0.0.1:1/0', startTimeoutMs: 500 })).rejects.toThrow(
      /cannot reach the hub at redis:\/\/127\.0\.0\.1:1\/0 within 0\.5 s/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
