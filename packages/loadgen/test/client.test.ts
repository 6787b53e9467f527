import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoplexClient } from '../src/client/echoplex-client.js';
import { EchoplexError } from '../src/client/echoplex-error.js';
import { parseTarget } from '../src/target.js';
import { type FrameServer, startFrameServer } from './fixtures/frame-server.js';

describe('EchoplexClient over the binary dialect', () => {
  let server: FrameServer;
  beforeAll(async () => {
    server = await startFrameServer();
  });
  afterAll(() => server.close());

  it('matches replies to requests in order, even pipelined', async () => {
    const client = await EchoplexClient.connect(server.target);
    const [a, b, c] = await Promise.all([client.echo('one'), client.ping('tok'), client.echo(Buffer.from([0, 1, 2]))]);
    expect(a.toString()).toBe('one');
    expect(b.toString()).toBe('tok');
    expect([...c]).toEqual([0, 1, 2]);
    client.close();
  });

  it('reports a SAY refused by the server as an EchoplexError with its code', async () => {
    const client = await EchoplexClient.connect(server.target);
    await expect(client.say('hello')).rejects.toSatisfy((error: unknown) => error instanceof EchoplexError && error.code === 'NOT_IN_ROOM');
    expect(await client.join('lobby')).toBe('lobby');
    await expect(client.say('hello')).resolves.toBeUndefined();
    expect((await client.echo('after')).toString()).toBe('after');
    client.close();
  });

  it('quits with BYE and sees the connection close', async () => {
    const client = await EchoplexClient.connect(server.target);
    expect(await client.nick('alice')).toBe('alice');
    await client.quit();
  });
});

describe('parseTarget', () => {
  it('reads tcp, unix and the listening line shorthands', () => {
    expect(parseTarget('tcp://127.0.0.1:7000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 7000 });
    expect(parseTarget('127.0.0.1:9')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9 });
    expect(parseTarget('unix:/tmp/e.sock')).toEqual({ kind: 'unix', path: '/tmp/e.sock' });
    expect(parseTarget('/tmp/e.sock')).toEqual({ kind: 'unix', path: '/tmp/e.sock' });
    expect(() => parseTarget('tcp://host')).toThrow(/tcp:\/\/host:port/);
  });
});
