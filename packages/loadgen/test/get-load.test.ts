/**
 * `--scenario get` through `runLoad` and the CLI's flag reader, against a stand-in file server
 * that cuts its frames at seeded random places (a frame header split over reads, several frames
 * in one), so the download parser is tried on cuts a real server on loopback rarely makes.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { encodeFrame, FrameDecoder, FrameType, ProtocolError } from '@echoplex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternBytes } from '../src/load/exchange.js';
import { FlagError, parseLoadFlags } from '../src/load/load-flags.js';
import { runLoad } from '../src/load/run-load.js';
import { TargetUnreachableError } from '../src/load/shard.js';
import type { Target } from '../src/target.js';

/** What the stand-in serves: `short` is listed one byte longer than what it sends. */
const GOOD = patternBytes(300_001);
const LISTED: Readonly<Record<string, number>> = { good: GOOD.length, short: 5000 };

function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The reply to GET `name`: the file in frames of 1..64 KiB bytes, then the empty frame; or ERR NOT_FOUND. */
function getReply(name: string, random: () => number): Buffer {
  const body = name === 'good' ? GOOD : name === 'short' ? GOOD.subarray(0, 4999) : undefined;
  if (body === undefined) return encodeFrame(FrameType.ERR, Buffer.from('NOT_FOUND no such file'));
  const frames: Buffer[] = [];
  for (let offset = 0; offset < body.length; ) {
    const size = 1 + Math.floor(random() * (random() < 0.3 ? 16 : 65536));
    frames.push(encodeFrame(FrameType.FILE_DATA, body.subarray(offset, offset + size)));
    offset += size;
  }
  frames.push(encodeFrame(FrameType.FILE_DATA));
  return Buffer.concat(frames);
}

async function startCuttingServer(): Promise<{ target: Target; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const random = mulberry32(sockets.size * 7919);
    const decoder = new FrameDecoder(1024);
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined && !(frame instanceof ProtocolError); frame = decoder.next()) {
        if (frame.type === FrameType.LIST) {
          const lines = Object.entries(LISTED).map(([name, size]) => `${name} ${size}\n`);
          socket.write(encodeFrame(FrameType.LIST_REPLY, Buffer.from(lines.join(''))));
        } else if (frame.type === FrameType.GET) {
          const reply = getReply(frame.body.toString('utf8'), random);
          // Written in pieces of 1..9000 bytes: header and body boundaries fall anywhere.
          for (let offset = 0; offset < reply.length; ) {
            const size = 1 + Math.floor(random() * 9000);
            socket.write(reply.subarray(offset, offset + size));
            offset += size;
          }
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    target: { kind: 'tcp', host: '127.0.0.1', port },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('--scenario get', () => {
  let server: Awaited<ReturnType<typeof startCuttingServer>>;
  beforeAll(async () => {
    server = await startCuttingServer();
  });
  afterAll(() => server.close());

  const run = (file: string, extra: { sha256?: string } = {}) =>
    runLoad({ target: server.target, scenario: 'get', file, ...extra, connections: 3, threads: 0, durationSeconds: 0.6, warmupSeconds: 0 });

  it('downloads the file whole however its frames are cut, and counts its bytes as the payload', async () => {
    const result = await run('good', { sha256: createHash('sha256').update(GOOD).digest('hex') });
    expect(result.errorSamples).toEqual([]);
    expect(result.errors).toBe(0);
    expect(result.messages).toBeGreaterThan(3);
    expect(result.size).toBe(GOOD.length);
    expect(result.bytesPerSecond).toBe(Math.round((result.messages / result.durationSeconds) * GOOD.length));
    expect(result.latencyMicros.count).toBe(result.messages);
  });

  it('counts a download whose hash differs, and one shorter than the LIST said, as errors', async () => {
    const wrongHash = await run('good', { sha256: '0'.repeat(64) });
    expect(wrongHash.messages).toBe(0);
    expect(wrongHash.errors).toBeGreaterThan(0);
    expect(wrongHash.errorSamples[0]).toMatch(/download 1: the bytes' SHA-256 is not 0{64}/);
    const short = await run('short');
    expect(short.messages).toBe(0);
    expect(short.errorSamples[0]).toMatch(/download 1: 4999 bytes, expected 5000/);
  });

  it('refuses to start against a file the server does not list, naming what it lists', async () => {
    await expect(run('missing.bin')).rejects.toThrow(TargetUnreachableError);
    await expect(run('missing.bin')).rejects.toThrow(/has no file missing\.bin to GET \(its LIST names good, short\)/);
  });

  it('reads --file and --sha256, and refuses what a download loop cannot do', () => {
    const hash = 'AB'.repeat(32);
    const command = parseLoadFlags(['127.0.0.1:7000', '--scenario', 'get', '--file', 'big.bin', '--sha256', hash]);
    expect(command?.options).toMatchObject({ scenario: 'get', file: 'big.bin', sha256: hash.toLowerCase() });
    const refused: Array<[string[], RegExp]> = [
      [['--scenario', 'get'], /get needs --file NAME/],
      [['--scenario', 'get', '--file', '../etc/passwd'], /"\.\.\/etc\/passwd" is not a plain file name/],
      [['--scenario', 'get', '--file', 'a', '-p', '4'], /one file at a time per connection/],
      [['--scenario', 'get', '--file', 'a', '-R', '100'], /closed loop of downloads: no --rate/],
      [['--scenario', 'get', '--file', 'a', '--sha256', 'beef'], /64 lower-case hex digits/],
      [['--file', 'a'], /file and sha256 are for --scenario get/],
    ];
    for (const [flags, message] of refused) {
      expect(() => parseLoadFlags(['127.0.0.1:7000', ...flags]), flags.join(' ')).toThrow(FlagError);
      expect(() => parseLoadFlags(['127.0.0.1:7000', ...flags]), flags.join(' ')).toThrow(message);
    }
  });
});
