/** The coroutine's socket API over real loopback sockets: blocking's calls and errors, awaited. */
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { SocketError, SocketTimeout } from '@echoplex/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CoroutineSocket, RECEIVE_QUEUE_BYTES, WriteTurn } from '../src/coroutine-socket.js';

const servers: Server[] = [];
const clients: Socket[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  for (const server of servers.splice(0)) server.close();
});

/** A connected pair: the client's end, and the server's end wrapped as the coroutine sees it. */
async function connectedPair(): Promise<{ client: Socket; socket: CoroutineSocket; raw: Socket }> {
  const server = createServer({ allowHalfOpen: true });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = createConnection({ host: '127.0.0.1', port: address.port, allowHalfOpen: true });
  clients.push(client);
  const [raw] = await accepted;
  clients.push(raw);
  return { client, socket: new CoroutineSocket(raw, new WriteTurn()), raw };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CoroutineSocket', () => {
  it('recv resolves with the bytes sent, then b"" once the peer closed its side', async () => {
    const { client, socket } = await connectedPair();
    const pending = socket.recv(1024);
    client.write('hello');
    expect((await pending).toString()).toBe('hello');
    client.end(' world');
    let text = '';
    for (let bytes = await socket.recv(1024); bytes.length > 0; bytes = await socket.recv(1024)) text += bytes.toString();
    expect(text).toBe(' world');
    expect((await socket.recv(1024)).length).toBe(0);
  });

  it('recv gives at most maxBytes, and the rest on the next call', async () => {
    const { client, socket } = await connectedPair();
    client.write('abcdefgh');
    await sleep(50);
    expect((await socket.recv(3)).toString()).toBe('abc');
    expect((await socket.recv(100)).toString()).toBe('defgh');
  });

  it('settimeout bounds recv as in Python: SocketTimeout after the wait, at once for 0, never for null', async () => {
    const { client, socket } = await connectedPair();
    socket.settimeout(0.05);
    expect(socket.gettimeout()).toBe(0.05);
    const started = performance.now();
    await expect(socket.recv(10)).rejects.toBeInstanceOf(SocketTimeout);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    socket.settimeout(0);
    await expect(socket.recv(10)).rejects.toBeInstanceOf(SocketTimeout);
    client.write('ready');
    await sleep(50);
    expect((await socket.recv(10)).toString()).toBe('ready');
    socket.settimeout(null);
    const waiting = socket.recv(10);
    await sleep(100);
    client.write('late');
    expect((await waiting).toString()).toBe('late');
  });

  it('sendall waits while the peer does not read, and resolves once it has', async () => {
    const { client, socket } = await connectedPair();
    client.pause();
    let sent = false;
    const size = 32 * 1024 * 1024;
    const sending = socket.sendall(Buffer.alloc(size, 1)).then(() => {
      sent = true;
    });
    await sleep(200);
    expect(sent, 'sendall resolved while the peer read nothing').toBe(false);
    expect(socket.outboundBytes()).toBeGreaterThan(0);
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.resume();
    await sending;
    expect(socket.outboundBytes()).toBe(0);
    await sleep(50);
    expect(received).toBe(size);
  });

  it('leaves the pushes of one turn, and a sendall after them, in one write, in order, counted as outbound until then', async () => {
    const { client, socket, raw } = await connectedPair();
    const write = vi.spyOn(raw, 'write');
    let received = '';
    client.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.push(Buffer.from('one '));
    socket.push(Buffer.from('two '));
    const sent = socket.sendall(Buffer.from('three'));
    expect(socket.outboundBytes()).toBe(13);
    expect(write).not.toHaveBeenCalled();
    await sent;
    expect(write).toHaveBeenCalledTimes(1);
    // Nothing waiting before it: a reply goes at once.
    const reply = socket.sendall(Buffer.from(' four'));
    expect(write).toHaveBeenCalledTimes(2);
    await reply;
    await sleep(50);
    expect(received).toBe('one two three four');
  });

  it('close sends what this turn queued before the FIN', async () => {
    const { client, socket } = await connectedPair();
    let received = '';
    client.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.push(Buffer.from('last words'));
    socket.close();
    await once(client, 'end');
    expect(received).toBe('last words');
  });

  it('stops reading the peer while the coroutine does not recv and its queue is full', async () => {
    const { client, socket } = await connectedPair();
    const size = 32 * 1024 * 1024;
    client.write(Buffer.alloc(size, 2));
    await sleep(300);
    // The kernel buffers a few MiB each way; the rest stays with the client.
    expect(client.writableLength).toBeGreaterThan(0);
    let received = 0;
    while (received < size) received += (await socket.recv(64 * 1024)).length;
    expect(received).toBe(size);
    expect(RECEIVE_QUEUE_BYTES).toBeLessThan(size);
  });

  it('close wakes a waiting recv with b"", and any call after it is EBADF', async () => {
    const { client, socket } = await connectedPair();
    const waiting = socket.recv(10);
    socket.close();
    expect((await waiting).length).toBe(0);
    await expect(socket.recv(10)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(socket.sendall(Buffer.from('x'))).rejects.toBeInstanceOf(SocketError);
    // Closing is a FIN after what was sent, not a reset.
    client.resume();
    await once(client, 'end');
  });

  it('rejects recv with ECONNRESET when the peer resets, and sendall with EPIPE after', async () => {
    const { client, socket } = await connectedPair();
    const waiting = socket.recv(10);
    client.resetAndDestroy();
    await expect(waiting).rejects.toMatchObject({ name: 'SocketError', code: 'ECONNRESET' });
    await expect(socket.sendall(Buffer.from('x'))).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('reports the peer as getpeername does', async () => {
    const { client, socket } = await connectedPair();
    expect(socket.getpeername()).toEqual({ address: '127.0.0.1', port: client.localPort });
  });
});
