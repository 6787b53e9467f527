/** The datagram handler (bytes in, reply bytes out, counted) and the --udp flags, without a socket. */
import { decodeDatagramReply, encodeFrame, FrameType, iteratedSha256, type ServerInfo } from '@echoplex/protocol';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/config.js';
import { DatagramHandler, ServerStats } from '../src/index.js';

const info: ServerInfo = { model: 'test', pid: 1, threads: 1, processes: 1, connections: 0, uptimeSeconds: 0, protocol: 1 };

function handler() {
  const stats = new ServerStats();
  const datagrams = new DatagramHandler({
    limits: { maxFrame: 1024, maxLine: 1024 },
    stats,
    servedBy: 'pid 1',
    // INFO never answered here: the handler must wait for the server.
    server: { info: () => {}, metrics: (done) => done('') },
  });
  const ask = (bytes: Buffer): Buffer | undefined | 'pending' => {
    let answer: Buffer | undefined | 'pending' = 'pending';
    datagrams.handle(bytes, (reply) => (answer = reply));
    return answer;
  };
  return { stats, ask };
}

describe('DatagramHandler', () => {
  it('answers ECHO, PING and WORK at once, in the dialect of the request', () => {
    const { ask, stats } = handler();
    expect(ask(encodeFrame(FrameType.ECHO, Buffer.from([0, 1, 2])))).toEqual(encodeFrame(FrameType.ECHO_REPLY, Buffer.from([0, 1, 2])));
    expect(ask(Buffer.from('ping t'))?.toString()).toBe('PONG t\n');
    const work = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('abc')]);
    expect(ask(encodeFrame(FrameType.WORK, work))).toEqual(encodeFrame(FrameType.WORK_RESULT, iteratedSha256(Buffer.from('abc'), 3)));
    expect(stats.requests.binary).toEqual({ ECHO: 1, WORK: 1 });
    expect(stats.requests.text).toEqual({ PING: 1 });
  });

  it('answers INFO once the server has, naming who served it and over what', () => {
    const datagrams = handler();
    let reply: Buffer | undefined;
    const { stats } = datagrams;
    expect(datagrams.ask(Buffer.from('INFO'))).toBe('pending');
    const second = new DatagramHandler({
      limits: { maxFrame: 1024, maxLine: 1024 },
      stats,
      servedBy: 'worker 2',
      server: { info: (done) => done(info), metrics: (done) => done('') },
    });
    second.handle(Buffer.from('INFO\n'), (bytes) => (reply = bytes));
    const message = decodeDatagramReply(reply as Buffer);
    if (message.kind !== 'INFO') throw new Error(`expected INFO, got ${message.kind}`);
    expect(JSON.parse(message.json)).toEqual({ ...info, servedBy: 'worker 2', transport: 'udp' });
  });

  it('counts errors by code, leaves empty datagrams unanswered, and never throws', () => {
    const { ask, stats } = handler();
    expect(ask(Buffer.alloc(0))).toBeUndefined();
    expect(decodeDatagramReply(ask(Buffer.from([0, 0, 0, 9, 1])) as Buffer)).toMatchObject({ kind: 'ERR', error: { code: 'BAD_FRAME' } });
    expect(ask(Buffer.from('NICK ann'))?.toString()).toMatch(/^ERR UNKNOWN_COMMAND NICK /);
    expect(ask(Buffer.from(`ECHO ${'x'.repeat(2000)}`))?.toString()).toMatch(/^ERR TOO_LARGE /);
    expect(stats.errors).toEqual({ BAD_FRAME: 1, UNKNOWN_COMMAND: 1, TOO_LARGE: 1 });
    expect(stats.requests.text).toEqual({ NICK: 1, UNKNOWN: 1 });
  });
});

describe('--udp and --udp-host', () => {
  const spec = { model: 'test', summary: '', flags: {} };
  const server = (argv: string[]) => {
    const parsed = parseCommandLine(argv, spec);
    if (!('server' in parsed)) throw new Error('expected a server config');
    return parsed.server;
  };

  it('is off by default; --udp-host defaults to --host', () => {
    expect(server([])).toMatchObject({ udpPort: undefined, udpHost: '127.0.0.1' });
    expect(server(['--udp', '0', '--host', '127.0.0.2'])).toMatchObject({ udpPort: 0, udpHost: '127.0.0.2' });
    expect(server(['--udp', '7001', '--udp-host', '0.0.0.0'])).toMatchObject({ udpPort: 7001, udpHost: '0.0.0.0' });
  });

  it('refuses a bad port and --udp-host alone', () => {
    expect(() => server(['--udp', '70000'])).toThrow(/--udp: expected a whole number from 0 to 65535/);
    expect(() => server(['--udp-host', '0.0.0.0'])).toThrow(/--udp-host needs --udp PORT/);
  });
});
