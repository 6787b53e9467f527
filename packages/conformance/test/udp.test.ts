/**
 * UDP (`--udp`) on every model, over real datagrams on loopback: one datagram one request,
 * ECHO/PING/WORK/INFO served, chat refused, bad datagrams answered and survived, replies too
 * large for a datagram refused, a broadcast PING answered; and `echoplex-load --discover`
 * listing two servers that share one port.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import path from 'node:path';
import { decodeDatagramReply, encodeFrame, FrameType, iteratedSha256, MAX_DATAGRAM_BYTES, type ServerMessage } from '@echoplex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryClient, httpRequest } from '../src/clients.js';
import { appPackageExists, type ModelName, variantName } from '../src/models.js';
import { killAllServers, listeningRecord, REPO_ROOT, type RunningServer, startServer } from '../src/server-process.js';

/** The variants of issue 16: each model's own UDP strategy. */
const UDP_VARIANTS: readonly { readonly model: ModelName; readonly flags: readonly string[] }[] = [
  { model: 'event-loop', flags: [] },
  { model: 'coroutine', flags: [] },
  { model: 'worker-pool', flags: ['--workers', '2'] },
  { model: 'blocking', flags: [] },
  { model: 'forking', flags: ['--mode', 'prefork', '--workers', '2'] },
];

const LOAD_BIN = path.join(REPO_ROOT, 'packages', 'loadgen', 'dist', 'bin', 'load.js');

/** A UDP socket that sends a datagram and waits for the reply that matches, with a deadline. */
class DatagramClient {
  private waiting: { match: (reply: Buffer) => boolean; resolve: (reply: Buffer) => void } | undefined;
  /** Every datagram received so far, matched or not. */
  received = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('message', (reply) => {
      this.received += 1;
      if (this.waiting?.match(reply)) {
        this.waiting.resolve(reply);
        this.waiting = undefined;
      }
    });
  }

  static async open(broadcast = false): Promise<DatagramClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    if (broadcast) socket.setBroadcast(true);
    return new DatagramClient(socket);
  }

  send(bytes: Buffer | string, port: number, host = '127.0.0.1'): void {
    this.socket.send(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, port, host);
  }

  /** Sends and resolves with the first reply `match` accepts (any reply by default). */
  ask(
    bytes: Buffer | string,
    port: number,
    options: { host?: string; match?: (reply: Buffer) => boolean; resendEveryMs?: number } = {},
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const resend =
        options.resendEveryMs === undefined ? undefined : setInterval(() => this.send(bytes, port, options.host), options.resendEveryMs);
      const timer = setTimeout(() => {
        clearInterval(resend);
        this.waiting = undefined;
        reject(
          new Error(`no reply within 3 s to ${JSON.stringify(bytes.toString().slice(0, 40))} on ${options.host ?? '127.0.0.1'}:${port}`),
        );
      }, 3_000);
      this.waiting = {
        match: options.match ?? (() => true),
        resolve: (reply) => {
          clearTimeout(timer);
          clearInterval(resend);
          resolve(reply);
        },
      };
      this.send(bytes, port, options.host);
    });
  }

  async message(bytes: Buffer | string, port: number): Promise<ServerMessage> {
    return decodeDatagramReply(await this.ask(bytes, port));
  }

  close(): void {
    this.socket.close();
  }
}

const udpPortOf = (server: RunningServer): number => {
  const address = listeningRecord(server)?.udpAddress;
  if (typeof address !== 'string') throw new Error(`no udpAddress on the listening line of ${server.model}`);
  return Number(address.slice(address.lastIndexOf(':') + 1));
};

const errCode = (message: ServerMessage): string | undefined => (message.kind === 'ERR' ? message.error.code : undefined);

afterAll(killAllServers);

for (const variant of UDP_VARIANTS.filter((v) => appPackageExists(v.model))) {
  describe(`UDP: ${variantName({ ...variant, spreads: false })}`, () => {
    let server: RunningServer;
    let port: number;
    let client: DatagramClient;

    beforeAll(async () => {
      server = await startServer(variant.model, [...variant.flags, '--udp', '0', '--udp-host', '0.0.0.0']);
      port = udpPortOf(server);
      client = await DatagramClient.open(true);
    });
    afterAll(async () => {
      client?.close();
      await server?.stop();
    });

    it('names its UDP address on the listening line', () => {
      expect(listeningRecord(server)?.udpAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    });

    it('answers binary ECHO and WORK, one frame per datagram', async () => {
      const data = Buffer.from([0x00, 0x0a, 0xff, 0x0d, 0x41]);
      expect(await client.ask(encodeFrame(FrameType.ECHO, data), port)).toEqual(encodeFrame(FrameType.ECHO_REPLY, data));
      const big = randomBytes(MAX_DATAGRAM_BYTES - 5);
      expect(await client.ask(encodeFrame(FrameType.ECHO, big), port)).toEqual(encodeFrame(FrameType.ECHO_REPLY, big));
      const body = Buffer.concat([Buffer.from([0, 0, 0x03, 0xe8]), Buffer.from('udp')]);
      expect(await client.ask(encodeFrame(FrameType.WORK, body), port)).toEqual(
        encodeFrame(FrameType.WORK_RESULT, iteratedSha256(Buffer.from('udp'), 1000)),
      );
    });

    it('answers text PING with and without its LF, and text WORK', async () => {
      expect((await client.ask('PING tok', port)).toString()).toBe('PONG tok\n');
      expect((await client.ask('ping tok\n', port)).toString()).toBe('PONG tok\n');
      expect((await client.ask('PING a b\r\n', port)).toString()).toBe('PONG a b\n');
      expect((await client.ask('WORK 3 abc', port)).toString()).toBe(`WORK ${iteratedSha256(Buffer.from('abc'), 3).toString('hex')}\n`);
    });

    it('answers INFO in both dialects, saying it came over UDP', async () => {
      for (const request of [encodeFrame(FrameType.INFO), Buffer.from('INFO')]) {
        const reply = await client.message(request, port);
        if (reply.kind !== 'INFO') throw new Error(`expected INFO, got ${reply.kind}`);
        expect(JSON.parse(reply.json)).toMatchObject({ model: variant.model, protocol: 1, transport: 'udp', pid: server.pid });
      }
    });

    it('refuses chat with UNKNOWN_COMMAND: chat needs a connection', async () => {
      for (const request of ['NICK ann', 'JOIN lobby', 'SAY hi', 'WHO', 'QUIT', encodeFrame(FrameType.NICK, Buffer.from('ann'))]) {
        expect(errCode(await client.message(request, port))).toBe('UNKNOWN_COMMAND');
      }
    });

    it('answers truncated and padded frames BAD_FRAME, and goes on answering', async () => {
      const frame = encodeFrame(FrameType.ECHO, Buffer.from('hello'));
      for (const bad of [
        frame.subarray(0, 3),
        frame.subarray(0, 7),
        Buffer.concat([frame, Buffer.from('x')]),
        Buffer.from([0, 0, 0, 0, 1]),
      ]) {
        expect(errCode(await client.message(bad, port))).toBe('BAD_FRAME');
      }
      expect(errCode(await client.message(Buffer.from([0x50, 0xc3, 0x28]), port))).toBe('BAD_FRAME');
      expect((await client.ask('PING still', port)).toString()).toBe('PONG still\n');
    });

    it('answers a reply too large for a datagram TOO_LARGE', async () => {
      const request = Buffer.alloc(MAX_DATAGRAM_BYTES, 0x61);
      request.write('ECHO ', 0, 'latin1');
      expect(errCode(await client.message(request, port))).toBe('TOO_LARGE');
      expect((await client.ask('PING after', port)).toString()).toBe('PONG after\n');
    });

    it('survives 2000 random datagrams, then answers over UDP and TCP, and counts them in /metrics', async () => {
      const before = client.received;
      for (let batch = 0; batch < 20; batch++) {
        for (let i = 0; i < 100; i++) client.send(randomBytes(1 + ((batch * 100 + i) % 300)), port);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const token = randomBytes(8).toString('hex');
      // The flood may still fill the server's receive buffer, where the kernel drops what does not fit: ask until answered.
      const match = (reply: Buffer) => reply.toString() === `PONG ${token}\n`;
      const pong = await client.ask(`PING ${token}`, port, { match, resendEveryMs: 250 });
      expect(pong.toString()).toBe(`PONG ${token}\n`);
      expect(server.isAlive()).toBe(true);
      const tcp = await BinaryClient.open(server.target);
      expect(await tcp.request({ command: 'PING', token: Buffer.from('tcp') })).toEqual({ kind: 'PONG', token: Buffer.from('tcp') });
      tcp.destroy();
      const metrics = (await httpRequest(server.target, 'GET', '/metrics')).body.toString();
      const value = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? Number.NaN);
      // How many the kernel kept for the server depends on the model's speed; what it got it counted.
      const answered = client.received - before;
      expect(answered).toBeGreaterThan(0);
      expect(value('echoplex_datagrams_received_total')).toBeGreaterThanOrEqual(answered);
      expect(value('echoplex_datagrams_sent_total')).toBeGreaterThanOrEqual(answered);
      expect(value('echoplex_datagrams_dropped_total')).toBeGreaterThanOrEqual(0);
    });

    it('answers a PING sent to the broadcast address 127.255.255.255', async () => {
      // Replies to the case before (its flood, its resent PINGs) may still be on their way from a slow model: wait for this one's.
      const reply = await client.ask('PING everyone', port, {
        host: '127.255.255.255',
        match: (bytes) => bytes.toString() === 'PONG everyone\n',
      });
      expect(reply.toString()).toBe('PONG everyone\n');
    });
  });
}

describe('echoplex-load --discover', () => {
  it('lists two servers that share a UDP port on 0.0.0.0, with their INFO', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '0.0.0.0', resolve));
    const port = probe.address().port;
    probe.close();
    const models = (['event-loop', 'coroutine'] as const).filter((model) => UDP_VARIANTS.some((v) => v.model === model));
    const pair = models.length === 2 ? models : ([models[0], models[0]] as const);
    const servers = await Promise.all(
      pair.map((model) => startServer(model as ModelName, ['--udp', String(port), '--udp-host', '0.0.0.0'])),
    );
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [LOAD_BIN, '--discover', '--broadcast', '127.255.255.255', '--port', String(port), '-j']);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const discovery = JSON.parse(run.stdout) as { pongs: number; servers: { info: { model: string; pid: number } }[] };
    expect(discovery.pongs).toBe(2);
    expect(discovery.servers.map((s) => s.info.pid).sort()).toEqual(servers.map((s) => s.pid).sort());
    expect(discovery.servers.map((s) => s.info.model).sort()).toEqual([...pair].sort());
    await Promise.all(servers.map((s) => s.stop()));
  });
});
