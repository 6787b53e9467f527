/** `runUdpLoad` against an in-test datagram server that drops what it is told to: loss is counted, not hidden in latency. */
import { createSocket, type Socket } from 'node:dgram';
import { encodeFrame, FrameType, iteratedSha256 } from '@echoplex/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLoadFlags } from '../src/load/load-flags.js';
import { runUdpLoad } from '../src/udp/udp-load.js';

/** Answers ECHO, PING and WORK frames; `drop(n)` says whether to ignore the n-th request (probes excluded). */
async function startDatagramServer(drop: (n: number) => boolean): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  let n = 0;
  socket.on('message', (datagram, sender) => {
    const type = datagram[4] as number;
    const body = datagram.subarray(5);
    const probe = type === FrameType.PING && body.toString() === 'probe';
    if (!probe && drop(n++)) return;
    const reply =
      type === FrameType.WORK
        ? encodeFrame(FrameType.WORK_RESULT, iteratedSha256(body.subarray(4), body.readUInt32BE(0)))
        : encodeFrame(type | 0x80, body);
    socket.send(reply, sender.port, sender.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket };
}

let server: { port: number; socket: Socket } | undefined;
afterEach(() => {
  server?.socket.close();
  server = undefined;
});

describe('runUdpLoad', () => {
  it('answers everything: no loss, every reply checked', async () => {
    server = await startDatagramServer(() => false);
    const target = { kind: 'tcp', host: '127.0.0.1', port: server.port } as const;
    const result = await runUdpLoad({ target, connections: 2, pipeline: 2, durationSeconds: 0.5, warmupSeconds: 0 }, 0.5);
    expect(result).toMatchObject({ transport: 'udp', errors: 0, lost: 0, lossRate: 0 });
    expect(result.messages).toBeGreaterThan(0);
    expect(result.messages).toBe(result.sent);
  });

  it('counts every tenth request lost, beside the latency of the others', async () => {
    server = await startDatagramServer((n) => n % 10 === 9);
    const target = { kind: 'tcp', host: '127.0.0.1', port: server.port } as const;
    const result = await runUdpLoad({ target, connections: 4, rate: 400, pipeline: 8, durationSeconds: 1, warmupSeconds: 0 }, 0.2);
    expect(result.errors).toBe(0);
    expect(result.sent).toBeGreaterThan(300);
    expect(result.lost + result.messages).toBe(result.sent);
    expect(result.lossRate).toBeGreaterThan(0.07);
    expect(result.lossRate).toBeLessThan(0.13);
    expect(result.latencyMicros.count).toBe(result.messages);
  });

  it('checks WORK digests, and gives up on a target that never answers', async () => {
    server = await startDatagramServer(() => false);
    const target = { kind: 'tcp', host: '127.0.0.1', port: server.port } as const;
    const work = await runUdpLoad({ target, scenario: 'work', workIterations: 10, connections: 1, durationSeconds: 0.3, warmupSeconds: 0 });
    expect(work).toMatchObject({ errors: 0, lost: 0 });
    expect(work.messages).toBeGreaterThan(0);
    const silent = await startDatagramServer(() => true);
    silent.socket.removeAllListeners('message');
    const nowhere = { kind: 'tcp', host: '127.0.0.1', port: silent.port } as const;
    await expect(runUdpLoad({ target: nowhere, connections: 1, connectTimeoutSeconds: 0.3, durationSeconds: 0.1 })).rejects.toThrow(
      /no answer over UDP from tcp:\/\/127.0.0.1:\d+: no PONG within 300 ms/,
    );
    silent.socket.close();
  });
});

describe('--udp flags', () => {
  it('reads --udp, udp:// targets and --timeout; refuses what a datagram cannot carry', () => {
    const command = parseLoadFlags(['--udp', '--timeout', '250ms', 'udp://127.0.0.1:7001']);
    expect(command?.udpTimeoutSeconds).toBe(0.25);
    expect(command?.options.target).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 7001 });
    expect(parseLoadFlags(['127.0.0.1:7000'])?.udpTimeoutSeconds).toBeUndefined();
    expect(() => parseLoadFlags(['--udp', '--scenario', 'chat', '127.0.0.1:7001'])).toThrow(/chat needs a connection/);
    expect(() => parseLoadFlags(['--udp', '--size', '70000', '127.0.0.1:7001'])).toThrow(/--size from 6 to 65502/);
    expect(() => parseLoadFlags(['--timeout', '1s', '127.0.0.1:7001'])).toThrow(/--timeout is for --udp/);
  });
});
