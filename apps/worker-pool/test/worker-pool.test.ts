/**
 * What only the worker-pool model promises: a worker that dies takes only its own
 * connections with it and is replaced, and WORK on two connections runs on two workers.
 * Everything goes through the built app and real sockets.
 */
import { createHash } from 'node:crypto';
import { BinaryClient, killAllServers, type RunningServer, startServer } from '@echoplex/conformance';
import type { ServerMessage } from '@echoplex/protocol';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const FAULT_TRIGGERS = { crash: 'echoplex-fault:crash-worker', exit: 'echoplex-fault:exit-worker' } as const;

const opened: BinaryClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.destroy();
});
afterAll(killAllServers);

async function connect(server: RunningServer): Promise<{ client: BinaryClient; servedBy: string }> {
  const client = await BinaryClient.open(server.target);
  opened.push(client);
  const info = await client.info();
  return { client, servedBy: String(info.servedBy) };
}

/** Opens connections until one is served by each of `count` distinct workers. */
async function onDistinctWorkers(server: RunningServer, count: number): Promise<Map<string, BinaryClient>> {
  const byWorker = new Map<string, BinaryClient>();
  for (let attempt = 0; attempt < 4 * count && byWorker.size < count; attempt++) {
    const { client, servedBy } = await connect(server);
    if (!byWorker.has(servedBy)) byWorker.set(servedBy, client);
  }
  expect(byWorker.size, 'distinct workers reached').toBe(count);
  return byWorker;
}

const show = (message: ServerMessage): string => {
  switch (message.kind) {
    case 'PONG':
      return `PONG ${Buffer.from(message.token).toString()}`;
    case 'ERR':
      return `ERR ${message.error.code}`;
    case 'NICK':
      return `NICK ${message.nick}`;
    case 'JOIN':
    case 'LEAVE':
      return `${message.kind} ${message.room}`;
    case 'JOINED':
    case 'LEFT':
      return `${message.kind} ${message.room} ${message.nick}`;
    case 'WORK':
      return `WORK ${Buffer.from(message.digest).toString('hex')}`;
    case 'ECHO':
      return `ECHO ${Buffer.from(message.data).toString()}`;
    default:
      return message.kind;
  }
};

function iteratedSha256Hex(data: Buffer, iterations: number): string {
  let digest = data;
  for (let i = 0; i < iterations; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

describe('worker-pool: a worker that dies', () => {
  it.each(['crash', 'exit'] as const)('on %s closes only its own connections, leaves their rooms, and is replaced', async (fault) => {
    const server = await startServer('worker-pool', ['--workers', '2', '--inject-faults']);
    const byWorker = await onDistinctWorkers(server, 2);
    const [[victimWorker, victim], [, survivor]] = [...byWorker] as [[string, BinaryClient], [string, BinaryClient]];
    const room = `fault-${fault}`;
    expect(show(await victim.request({ command: 'NICK', nick: `victim-${fault}` }))).toBe(`NICK victim-${fault}`);
    expect(show(await victim.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
    expect(show(await survivor.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
    expect(show(await victim.next())).toMatch(/^JOINED /);

    victim.send({ command: 'ECHO', data: Buffer.from(FAULT_TRIGGERS[fault]) });
    await victim.closed(5_000);

    expect(show(await survivor.next()), 'the survivor sees the victim leave').toBe(`LEFT ${room} victim-${fault}`);
    expect(show(await survivor.request({ command: 'PING', token: Buffer.from('still here') }))).toBe('PONG still here');
    expect(show(await survivor.request({ command: 'NICK', nick: `victim-${fault}` })), 'the nick was freed').toBe(`NICK victim-${fault}`);

    // The replacement takes the dead worker's slot, and least-connections fills it first.
    const { client: newcomer, servedBy } = await connect(server);
    expect(servedBy).toBe(victimWorker);
    expect(show(await newcomer.request({ command: 'ECHO', data: Buffer.from('served') }))).toBe('ECHO served');
    const info = await newcomer.info();
    expect(info.workers).toBe(2);
    expect(info.threads).toBe(3);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('ignores the triggers without --inject-faults', async () => {
    const server = await startServer('worker-pool', ['--workers', '1']);
    const { client } = await connect(server);
    for (const trigger of Object.values(FAULT_TRIGGERS)) {
      expect(show(await client.request({ command: 'ECHO', data: Buffer.from(trigger) }))).toBe(`ECHO ${trigger}`);
    }
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('worker-pool: WORK', () => {
  it('runs two connections’ WORK on two workers, and both digests come back', async () => {
    const server = await startServer('worker-pool', ['--workers', '2']);
    const clients = [...(await onDistinctWorkers(server, 2)).values()];
    const iterations = 200_000;
    const data = [Buffer.from('first'), Buffer.from('second')];
    const replies = await Promise.all(
      clients.map((client, i) => client.request({ command: 'WORK', iterations, data: data[i] as Buffer }, 15_000)),
    );
    expect(replies.map(show)).toEqual(data.map((bytes) => `WORK ${iteratedSha256Hex(bytes, iterations)}`));
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('reports the pool size and each worker’s connections in INFO and /metrics', async () => {
    const server = await startServer('worker-pool', ['--workers', '3']);
    await onDistinctWorkers(server, 3);
    const { client } = await connect(server);
    const info = await client.info();
    expect(info.workers).toBe(3);
    expect(info.connections).toBe(4);
    expect((info.workerConnections as number[]).reduce((a, b) => a + b, 0)).toBe(4);
    const response = await fetch(`http://${server.address}/metrics`);
    const text = await response.text();
    expect(text).toMatch(/^echoplex_workers\{[^}]*\} 3$/m);
    for (const worker of ['0', '1', '2'])
      expect(text).toMatch(new RegExp(`^echoplex_worker_connections\\{[^}]*worker="${worker}"[^}]*\\} [12]$`, 'm'));
    expect(text).toMatch(/^echoplex_requests_total\{[^}]*command="INFO"[^}]*\} [4-9]$/m);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
