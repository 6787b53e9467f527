/** The coroutine model's UDP loop: every datagram answered by its own coroutine, the overflow past the inbox dropped, close ends the loop. */
import { DatagramHandler, ServerStats } from '@echoplex/core';
import { describe, expect, it } from 'vitest';
import { DatagramCoroutine } from '../src/datagram-coroutine.js';

const handler = () =>
  new DatagramHandler({
    limits: { maxFrame: 1024, maxLine: 1024 },
    stats: new ServerStats(),
    servedBy: 'test',
    server: { info: () => {}, metrics: (done) => done('') },
  });

describe('DatagramCoroutine', () => {
  it('answers each datagram the loop takes, in the order they came', async () => {
    const loop = new DatagramCoroutine(handler());
    const replies: string[] = [];
    const running = loop.run();
    for (const token of ['a', 'b', 'c']) loop.deliver(Buffer.from(`PING ${token}`), (reply) => replies.push(String(reply)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(replies).toEqual(['PONG a\n', 'PONG b\n', 'PONG c\n']);
    loop.close();
    await running;
  });

  it('drops what arrives past its inbox while the loop is busy, and what waits at close', async () => {
    const loop = new DatagramCoroutine(handler());
    let dropped = 0;
    let answered = 0;
    // The loop is not running: everything waits in the inbox, 4096 at most.
    for (let i = 0; i < 4100; i++) loop.deliver(Buffer.from('PING x'), (reply) => (reply === undefined ? dropped++ : answered++));
    expect(dropped).toBe(4);
    loop.close();
    expect(dropped).toBe(4100);
    expect(answered).toBe(0);
    await loop.run();
    loop.deliver(Buffer.from('PING late'), (reply) => expect(reply).toBeUndefined());
  });
});
