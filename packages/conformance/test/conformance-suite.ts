/** The one conformance suite, as a function of the variant: every model variant, over real sockets, is held to PROTOCOL.md by the same tests (test/conformance/<variant>.test.ts runs it on one). */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeBinaryRequest, encodeFrame, type ServerMessage } from '@echoplex/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryClient,
  describeMessage,
  HttpConnection,
  httpRequest,
  httpRequestText,
  RawConnection,
  sleep,
  TextClient,
  withTimeout,
} from '../src/clients.js';
import { appPackageExists, MODEL_VARIANTS, type ModelVariant, variantName } from '../src/models.js';
import { seededRandom } from '../src/seeded-random.js';
import {
  type ConnectTarget,
  killAllServers,
  listeningRecord,
  processTreeRssBytes,
  type RunningServer,
  startServer,
  TEST_HUB_ENV,
  testHubUrl,
} from '../src/server-process.js';

/** Small limits, so limit tests are quick: 64 KiB frames, 1 KiB lines. */
const LIMIT_FLAGS = ['--max-frame', '64k', '--max-line', '1k', '--max-outbound', '256k', '--max-connections', '50'];
/**
 * The suite's server: an idle timeout far from every test's pace, since per-connection forking counts a fork's time
 * against it (a fork takes over 1 s on a loaded machine). The time-limit tests have their own server, with 1 s.
 */
const SUITE_FLAGS = [...LIMIT_FLAGS, '--idle-timeout', '10'];
const TIME_LIMIT_FLAGS = [...LIMIT_FLAGS, '--idle-timeout', '1'];
const MAX_FRAME = 64 * 1024;
const MAX_LINE = 1024;

const METRIC_NAMES = [
  'echoplex_connections',
  'echoplex_connections_accepted_total',
  'echoplex_requests_total',
  'echoplex_errors_total',
  'echoplex_bytes_received_total',
  'echoplex_bytes_sent_total',
  'echoplex_pushed_messages_total',
];

/** A message as the text a reader expects; ERR keeps only its code, since messages are free text. */
function show(message: ServerMessage): string {
  return message.kind === 'ERR' ? `ERR ${message.error.code}` : describeMessage(message);
}

/** `ERR CODE` of a text error line, or the line itself when it is not one. */
const textCode = (line: string): string => (line.startsWith('ERR ') ? line.split(' ').slice(0, 2).join(' ') : line);

/** WORK as PROTOCOL.md defines it: d0 = data, d(i+1) = sha256(d(i)). */
function workDigest(iterations: number, data: Uint8Array): Buffer {
  let digest = Buffer.from(data);
  for (let i = 0; i < iterations; i++) digest = createHash('sha256').update(digest).digest();
  return digest;
}

let nameCounter = 0;
/** A fresh valid name per use, so tests sharing a server never collide. */
const unique = (prefix: string): string => `${prefix}${++nameCounter}`;

/** Anything that yields server messages: binary and text clients alike. */
interface MessageSource {
  next(timeoutMs?: number): Promise<ServerMessage>;
}

/** Reads until a message matches, returning it and what came before. */
async function nextMatching(
  source: MessageSource,
  matches: (message: ServerMessage) => boolean,
  timeoutMs = 5_000,
): Promise<{ match: ServerMessage; before: ServerMessage[] }> {
  const before: ServerMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await source.next(Math.max(1, deadline - Date.now()));
    if (matches(message)) return { match: message, before };
    before.push(message);
  }
}

/** Opens clients against one server and closes every one of them after each test. */
class ClientPool {
  private readonly open = new Set<RawConnection>();

  constructor(private readonly target: () => ConnectTarget) {}

  private track<T extends RawConnection>(client: T): T {
    this.open.add(client);
    return client;
  }

  async binary(): Promise<BinaryClient> {
    return this.track(await BinaryClient.open(this.target()));
  }

  async text(): Promise<TextClient> {
    return this.track(await TextClient.open(this.target()));
  }

  async http(): Promise<HttpConnection> {
    return this.track(await HttpConnection.open(this.target()));
  }

  async raw(): Promise<RawConnection> {
    return this.track(await RawConnection.open(this.target()));
  }

  /** A binary client with a nick, in a room; returns once the server confirmed both. */
  async member(nick: string, room: string): Promise<BinaryClient> {
    const client = await this.binary();
    expect(show(await client.request({ command: 'NICK', nick }))).toBe(`NICK ${nick}`);
    expect(show(await client.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
    return client;
  }

  /** A text client with a nick, in a room. */
  async textMember(nick: string, room: string): Promise<TextClient> {
    const client = await this.text();
    expect(await client.request(`NICK ${nick}`)).toBe(`OK NICK ${nick}`);
    expect(await client.request(`JOIN ${room}`)).toBe(`OK JOIN ${room}`);
    return client;
  }

  closeAll(): void {
    for (const client of this.open) client.destroy();
    this.open.clear();
  }
}

/** A server of a describe block's own flags: started before its tests, its clients closed after each, stopped after all. */
class OwnServer {
  private running: RunningServer | undefined;
  readonly clients = new ClientPool(() => this.server.target);

  constructor(model: string, flags: readonly string[]) {
    beforeAll(async () => {
      this.running = await startServer(model, flags);
    });
    afterEach(() => {
      this.clients.closeAll();
    });
    afterAll(async () => {
      this.clients.closeAll();
      await this.running?.stop('SIGTERM', 10_000);
    });
  }

  get server(): RunningServer {
    if (this.running === undefined) throw new Error('the server of this block has not started');
    return this.running;
  }
}

/** A fresh client's PING is answered: the server is alive and serving. */
async function expectServing(server: RunningServer): Promise<void> {
  expect(server.isAlive(), `the server process is alive\n${server.stderr()}`).toBe(true);
  const client = await BinaryClient.open(server.target);
  try {
    expect(show(await client.request({ command: 'PING', token: Buffer.from('alive') }, 10_000))).toBe('PONG alive');
  } finally {
    client.destroy();
  }
}

/** Keeps a freshly opened client until the server serves one (closes are noticed asynchronously). */
async function eventuallyServed(target: ConnectTarget, timeoutMs = 10_000): Promise<BinaryClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = await BinaryClient.open(target);
    const reply = show(await client.request({ command: 'PING', token: Buffer.from('in') }));
    if (reply === 'PONG in') return client;
    client.destroy();
    if (Date.now() > deadline) throw new Error(`still refused after ${timeoutMs} ms: ${reply}`);
    await sleep(100);
  }
}

/**
 * Registers the whole suite for the variant of MODEL_VARIANTS named `name` (`worker-pool --workers 4`), under the
 * name `describe.each` has always given it (`'worker-pool --workers 4'`). One variant a file, so vitest runs two at once.
 */
export function describeConformance(name: string): void {
  const named = MODEL_VARIANTS.find((candidate) => variantName(candidate) === name);
  if (named === undefined) {
    throw new Error(`no model variant is named '${name}': src/models.ts lists ${MODEL_VARIANTS.map(variantName).join(', ')}`);
  }
  if (!appPackageExists(named.model)) {
    it.skip(`'${name}': apps/${named.model}/package.json does not exist yet`, () => {});
    return;
  }
  describe.each([{ ...named, name }])('$name', (variant: ModelVariant & { name: string }) => {
    let server: RunningServer;
    const clients = new ClientPool(() => server.target);

    beforeAll(async () => {
      server = await startServer(variant.model, [...variant.flags, ...SUITE_FLAGS]);
    });

    afterEach(() => {
      clients.closeAll();
    });

    afterAll(async () => {
      clients.closeAll();
      await server?.stop('SIGTERM', 10_000);
      await killAllServers();
    });

    describe('listening', () => {
      it('logs one "listening" line with the address and the model name', () => {
        const record = listeningRecord(server);
        expect(record?.model).toBe(variant.model);
        expect(record?.address).toBe(`127.0.0.1:${server.port}`);
        expect(server.port).toBeGreaterThan(0);
      });

      it(`names its hub in INFO: local, or the one ${TEST_HUB_ENV} gave every server`, async () => {
        const client = await clients.text();
        const info = JSON.parse((await client.request('INFO')).slice('INFO '.length)) as Record<string, unknown>;
        const hub = testHubUrl();
        expect(info.hub).toBe(hub === undefined ? 'local' : await hub);
      });
    });

    describe('binary dialect', () => {
      it('echoes empty, small, large and arbitrary bodies', async () => {
        const client = await clients.binary();
        const allByteValues = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        for (const data of [Buffer.alloc(0), randomBytes(64), randomBytes(60 * 1024), allByteValues, randomBytes(MAX_FRAME)]) {
          const reply = await client.request({ command: 'ECHO', data });
          expect(reply.kind).toBe('ECHO');
          if (reply.kind === 'ECHO') expect(Buffer.from(reply.data).equals(data), `echo of ${data.length} bytes`).toBe(true);
        }
      });

      it('answers PING with the same token, text or bytes', async () => {
        const client = await clients.binary();
        expect(show(await client.request({ command: 'PING', token: Buffer.from('tok-1') }))).toBe('PONG tok-1');
        expect(show(await client.request({ command: 'PING', token: Buffer.alloc(0) }))).toBe('PONG ');
        const token = Buffer.from([0, 255, 10, 13, 0x80]);
        const reply = await client.request({ command: 'PING', token });
        expect(reply.kind === 'PONG' && Buffer.from(reply.token).equals(token)).toBe(true);
      });

      it('sets a nick, joins, says, lists, leaves', async () => {
        const room = unique('room');
        const alice = unique('alice');
        const bob = unique('bob');
        const a = await clients.binary();
        expect(show(await a.request({ command: 'NICK', nick: alice }))).toBe(`NICK ${alice}`);
        expect(show(await a.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
        const b = await clients.member(bob, room);
        expect(show(await a.next())).toBe(`JOINED ${room} ${bob}`);
        b.send({ command: 'SAY', text: 'hello there, alice' });
        expect(show(await a.next())).toBe(`MSG ${room} ${bob} hello there, alice`);
        expect(show(await a.request({ command: 'WHO' }))).toBe(`WHO ${room} ${[alice, bob].sort().join(' ')}`);
        expect(show(await b.request({ command: 'LEAVE' }))).toBe(`LEAVE ${room}`);
        expect(show(await a.next())).toBe(`LEFT ${room} ${bob}`);
        expect(show(await a.request({ command: 'WHO' }))).toBe(`WHO ${room} ${alice}`);
      });

      it('computes WORK as an iterated sha256 of the data', async () => {
        const client = await clients.binary();
        for (const [iterations, data] of [
          [1, Buffer.from('abc')],
          [3, Buffer.alloc(0)],
          [1000, randomBytes(100)],
        ] as const) {
          const reply = await client.request({ command: 'WORK', iterations, data });
          expect(show(reply)).toBe(`WORK ${workDigest(iterations, data).toString('hex')}`);
        }
      });

      it('reports INFO as JSON with the required fields and servedBy', async () => {
        const others = [await clients.binary(), await clients.binary()];
        for (const other of others) expect(show(await other.request({ command: 'PING', token: Buffer.from('x') }))).toBe('PONG x');
        const asker = await clients.binary();
        let info = await asker.info();
        // Servers of several processes may gather the count asynchronously: ask until it settles.
        for (const deadline = Date.now() + 5_000; (info.connections as number) < 3 && Date.now() < deadline; ) {
          await sleep(100);
          info = await asker.info();
        }
        expect(info.model).toBe(variant.model);
        expect(info.protocol).toBe(1);
        expect(Number.isInteger(info.pid) && (info.pid as number) > 0).toBe(true);
        expect(typeof info.threads).toBe('number');
        expect(typeof info.processes).toBe('number');
        expect(typeof info.uptimeSeconds).toBe('number');
        expect(info.connections as number).toBeGreaterThanOrEqual(3);
        expect(['string', 'number']).toContain(typeof info.servedBy);
      });

      it('answers QUIT with BYE, then closes', async () => {
        const client = await clients.binary();
        expect(show(await client.request({ command: 'QUIT' }))).toBe('BYE');
        await client.closed();
      });

      it('answers an unknown type with ERR UNKNOWN_COMMAND and stays usable', async () => {
        const client = await clients.binary();
        client.write(encodeFrame(0x55, Buffer.from('whatever')));
        expect(show(await client.next())).toBe('ERR UNKNOWN_COMMAND');
        client.write(encodeFrame(0x81, Buffer.from('a reply type')));
        expect(show(await client.next())).toBe('ERR UNKNOWN_COMMAND');
        expect(show(await client.request({ command: 'PING', token: Buffer.from('still') }))).toBe('PONG still');
      });

      it('gives the same replies to frames in one write and to a frame cut byte by byte', async () => {
        const big = randomBytes(300);
        const frames = Buffer.concat([
          encodeBinaryRequest({ command: 'ECHO', data: Buffer.from('one') }),
          encodeBinaryRequest({ command: 'PING', token: Buffer.from('two') }),
          encodeBinaryRequest({ command: 'ECHO', data: big }),
          encodeBinaryRequest({ command: 'WHO' }),
          encodeBinaryRequest({ command: 'WORK', iterations: 2, data: Buffer.from('w') }),
        ]);
        const expected = [
          'ECHO (3 bytes)',
          'PONG two',
          'ECHO (300 bytes)',
          'ERR NOT_IN_ROOM',
          `WORK ${workDigest(2, Buffer.from('w')).toString('hex')}`,
        ];

        const together = await clients.binary();
        together.write(frames);
        const togetherReplies = [];
        for (let i = 0; i < expected.length; i++) togetherReplies.push(show(await together.next()));
        expect(togetherReplies).toEqual(expected);

        const byteByByte = await clients.binary();
        for (const byte of frames) {
          await byteByByte.writeAndFlush(Buffer.from([byte]));
        }
        const splitReplies = [];
        for (let i = 0; i < expected.length; i++) splitReplies.push(await byteByByte.next());
        expect(splitReplies.map(show)).toEqual(expected);
        const echoed = splitReplies[2];
        expect(echoed?.kind === 'ECHO' && Buffer.from(echoed.data).equals(big)).toBe(true);
      });
    });

    describe('text dialect', () => {
      it('answers ECHO and PING, with the word alone for an empty argument', async () => {
        const client = await clients.text();
        expect(await client.request('ECHO hello  world ')).toBe('ECHO hello  world ');
        expect(await client.request('ECHO')).toBe('ECHO');
        expect(await client.request('ECHO ')).toBe('ECHO');
        expect(await client.request('PING')).toBe('PONG');
        expect(await client.request('PING tok 2')).toBe('PONG tok 2');
        expect(await client.request('ECHO héllo ✓')).toBe('ECHO héllo ✓');
      });

      it('takes command words in any case, accepts CRLF and ignores empty lines', async () => {
        const client = await clients.text();
        expect(await client.request('echo lower')).toBe('ECHO lower');
        expect(await client.request('PiNg mixed')).toBe('PONG mixed');
        client.write('PING crlf\r\n');
        expect(await client.nextLine()).toBe('PONG crlf');
        client.write('\n\r\n\nPING after-empty\n');
        expect(await client.nextLine()).toBe('PONG after-empty');
      });

      it('sets a nick, joins, says, lists, leaves', async () => {
        const room = unique('troom');
        const carol = unique('carol');
        const dave = unique('dave');
        const c = await clients.text();
        expect(await c.request(`NICK ${carol}`)).toBe(`OK NICK ${carol}`);
        expect(await c.request(`join ${room}`)).toBe(`OK JOIN ${room}`);
        const d = await clients.textMember(dave, room);
        expect(await c.nextLine()).toBe(`JOINED ${room} ${dave}`);
        d.sendLine('SAY hi  carol, with  spaces');
        expect(await c.nextLine()).toBe(`MSG ${room} ${dave} hi  carol, with  spaces`);
        expect(await c.request('WHO extra args ignored')).toBe(`WHO ${room} ${[carol, dave].sort().join(' ')}`);
        expect(await d.request('LEAVE now')).toBe(`OK LEAVE ${room}`);
        expect(await c.nextLine()).toBe(`LEFT ${room} ${dave}`);
      });

      it('answers NICK and JOIN with the rest of the line as the name', async () => {
        const client = await clients.text();
        expect(textCode(await client.request('NICK two words'))).toBe('ERR BAD_ARGUMENT');
        expect(textCode(await client.request('JOIN two words'))).toBe('ERR BAD_ARGUMENT');
        expect(textCode(await client.request('NICK'))).toBe('ERR BAD_ARGUMENT');
        expect(textCode(await client.request('JOIN'))).toBe('ERR BAD_ARGUMENT');
      });

      it('computes WORK in lower-case hex over the rest of the line', async () => {
        const client = await clients.text();
        expect(await client.request('WORK 3 hello world')).toBe(`WORK ${workDigest(3, Buffer.from('hello world')).toString('hex')}`);
        expect(await client.request('work 1')).toBe(`WORK ${workDigest(1, Buffer.alloc(0)).toString('hex')}`);
        expect(textCode(await client.request('WORK 0 data'))).toBe('ERR BAD_ARGUMENT');
        expect(textCode(await client.request('WORK 1000001 data'))).toBe('ERR BAD_ARGUMENT');
        expect(textCode(await client.request('WORK many data'))).toBe('ERR BAD_ARGUMENT');
        expect(await client.request('PING usable')).toBe('PONG usable');
      });

      it('answers INFO with the JSON on the line', async () => {
        const client = await clients.text();
        const line = await client.request('INFO');
        expect(line.startsWith('INFO ')).toBe(true);
        const info = JSON.parse(line.slice('INFO '.length)) as Record<string, unknown>;
        expect(info.model).toBe(variant.model);
        expect(info.protocol).toBe(1);
      });

      it('answers HELP, and an unknown word with ERR UNKNOWN_COMMAND <word> and the hint, and stays usable', async () => {
        const client = await clients.text();
        expect(await client.request('FROBNICATE the thing')).toBe('ERR UNKNOWN_COMMAND FROBNICATE (HELP lists the commands)');
        expect(await client.request('hello')).toBe('ERR UNKNOWN_COMMAND hello (HELP lists the commands)');
        expect(await client.request('help')).toBe('HELP ECHO PING NICK JOIN SAY WHO LEAVE WORK INFO QUIT HELP');
        expect(await client.request('PING ok')).toBe('PONG ok');
      });

      it('answers QUIT and bye with BYE, then closes', async () => {
        for (const word of ['QUIT', 'bye']) {
          const client = await clients.text();
          expect(await client.request(word)).toBe('BYE');
          await client.closed();
        }
      });

      it('discards bytes after the last LF when the client closes', async () => {
        const client = await clients.text();
        client.write('PING first\nPING never-finished');
        client.end();
        expect(await client.linesUntilClosed()).toEqual(['PONG first']);
      });
    });

    describe('HTTP dialect', () => {
      it('serves GET /ping, POST /echo, POST /work, GET /info through node:http', async () => {
        const ping = await httpRequest(server.target, 'GET', '/ping');
        expect(ping.status).toBe(200);
        expect(ping.body.toString()).toBe('pong');

        const data = randomBytes(2000);
        const echo = await httpRequest(server.target, 'POST', '/echo', { body: data });
        expect(echo.status).toBe(200);
        expect(echo.headers['content-type']).toBe('application/octet-stream');
        expect(echo.body.equals(data)).toBe(true);

        const work = await httpRequest(server.target, 'POST', '/work?n=3', { body: 'abc' });
        expect(work.status).toBe(200);
        expect(work.body.toString().trim()).toBe(workDigest(3, Buffer.from('abc')).toString('hex'));

        const badWork = await httpRequest(server.target, 'POST', '/work?n=0', { body: 'abc' });
        expect(badWork.status).toBe(400);

        const info = await httpRequest(server.target, 'GET', '/info');
        expect(info.status).toBe(200);
        const json = JSON.parse(info.body.toString()) as Record<string, unknown>;
        expect(json.model).toBe(variant.model);
        expect(json.protocol).toBe(1);
      });

      it('serves Prometheus metrics under the names PROTOCOL.md lists', async () => {
        const metrics = await httpRequest(server.target, 'GET', '/metrics');
        expect(metrics.status).toBe(200);
        const text = metrics.body.toString();
        for (const name of METRIC_NAMES) expect(text, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
      });

      it('answers HEAD like GET, without a body', async () => {
        const connection = await clients.http();
        const head = await connection.request(httpRequestText('HEAD', '/ping'), { headOnly: true });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-length'), 'the length GET would have').toBe('4');
        expect(head.body.length).toBe(0);
        const get = await connection.request(httpRequestText('GET', '/ping'));
        expect(get.status).toBe(200);
        expect(get.body.toString()).toBe('pong');
        expect(connection.pending.length).toBe(0);
      });

      it('answers a known path with another method 405 with Allow, and stays open', async () => {
        const connection = await clients.http();
        const getEcho = await connection.request(httpRequestText('GET', '/echo'));
        expect(getEcho.status).toBe(405);
        expect(getEcho.headers.get('allow')).toContain('POST');
        const deletePing = await connection.request(httpRequestText('DELETE', '/ping'));
        expect(deletePing.status).toBe(405);
        expect(deletePing.headers.get('allow')).toContain('GET');
        expect(deletePing.headers.get('allow')).toContain('HEAD');
        expect((await connection.request(httpRequestText('GET', '/ping'))).status).toBe(200);
      });

      it('answers an unknown path 404 with CODE message as text/plain', async () => {
        const response = await httpRequest(server.target, 'GET', '/no/such/thing');
        expect(response.status).toBe(404);
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.body.toString()).toMatch(/^UNKNOWN_COMMAND/);
      });

      it('keeps HTTP/1.1 connections alive: two requests on one socket', async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const first = await httpRequest(server.target, 'GET', '/ping', { agent });
          const second = await httpRequest(server.target, 'POST', '/echo', { agent, body: 'again' });
          expect(first.status).toBe(200);
          expect(second.body.toString()).toBe('again');
          expect(second.localPort).toBe(first.localPort);
        } finally {
          agent.destroy();
        }
        const connection = await clients.http();
        expect((await connection.request(httpRequestText('GET', '/ping'))).status).toBe(200);
        expect((await connection.request(httpRequestText('GET', '/ping'))).status).toBe(200);
      });

      it('honours Connection: close, and closes HTTP/1.0', async () => {
        const closing = await clients.http();
        const response = await closing.request(httpRequestText('GET', '/ping', { headers: { Connection: 'close' } }));
        expect(response.status).toBe(200);
        await closing.closed();

        const old = await clients.http();
        const oldResponse = await old.request(httpRequestText('GET', '/ping', { version: '1.0' }));
        expect(oldResponse.status).toBe(200);
        expect(oldResponse.body.toString()).toBe('pong');
        await old.closed();
      });

      it('answers pipelined requests in order', async () => {
        const connection = await clients.http();
        connection.write(
          httpRequestText('POST', '/echo', { body: 'first' }) +
            httpRequestText('GET', '/ping') +
            httpRequestText('POST', '/work?n=1', { body: 'x' }) +
            httpRequestText('POST', '/echo', { body: 'last' }),
        );
        const bodies = [];
        for (let i = 0; i < 4; i++) bodies.push((await connection.nextResponse()).body.toString().trim());
        expect(bodies).toEqual(['first', 'pong', workDigest(1, Buffer.from('x')).toString('hex'), 'last']);
      });

      it('accepts a chunked request body', async () => {
        const connection = await clients.http();
        const response = await connection.request(
          'POST /echo HTTP/1.1\r\nHost: conformance\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
        );
        expect(response.status).toBe(200);
        expect(response.body.toString()).toBe('abcde');
      });

      it('answers Expect: 100-continue with 100 Continue, then the response', async () => {
        const connection = await clients.http();
        connection.write('POST /echo HTTP/1.1\r\nHost: conformance\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
        const interim = await connection.nextResponse();
        expect(interim.version).toBe('HTTP/1.1');
        expect(interim.status).toBe(100);
        connection.write('hello');
        const response = await connection.nextResponse();
        expect(response.status).toBe(200);
        expect(response.body.toString()).toBe('hello');
      });

      it('refuses Transfer-Encoding with Content-Length, and codings other than chunked, with 400', async () => {
        const both = await clients.http();
        const bothResponse = await both.request(
          'POST /echo HTTP/1.1\r\nHost: conformance\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        );
        expect(bothResponse.status).toBe(400);
        const gzip = await clients.http();
        const gzipResponse = await gzip.request('POST /echo HTTP/1.1\r\nHost: conformance\r\nTransfer-Encoding: gzip\r\n\r\n');
        expect(gzipResponse.status).toBe(400);
      });

      it('answers a body over --max-frame 413 without waiting for it, then closes', async () => {
        const largest = randomBytes(MAX_FRAME);
        const accepted = await httpRequest(server.target, 'POST', '/echo', { body: largest });
        expect(accepted.status).toBe(200);
        expect(accepted.body.equals(largest)).toBe(true);
        const connection = await clients.http();
        const response = await connection.request(`POST /echo HTTP/1.1\r\nHost: conformance\r\nContent-Length: ${MAX_FRAME + 1}\r\n\r\n`);
        expect(response.status).toBe(413);
        expect(response.body.toString()).toMatch(/^TOO_LARGE/);
        await connection.closed();
      });

      it('answers a request head over --max-line 431, then closes', async () => {
        const connection = await clients.http();
        const response = await connection.request(httpRequestText('GET', '/ping', { headers: { 'X-Padding': 'p'.repeat(MAX_LINE * 2) } }));
        expect(response.status).toBe(431);
        await connection.closed();
      });

      it('answers a malformed request 400 BAD_FRAME, then closes', async () => {
        for (const malformed of ['GET /ping HTTX/1.1\r\n\r\n', 'POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n']) {
          const connection = await clients.http();
          const response = await connection.request(malformed);
          expect(response.status, JSON.stringify(malformed)).toBe(400);
          expect(response.body.toString()).toMatch(/^BAD_FRAME/);
          await connection.closed();
        }
      });

      it('refuses what RFC 9112 says to refuse, and the smuggling family, with 400, then closes; others go on being served', async () => {
        const post = (head: string, body: string) => `POST /echo HTTP/1.1\r\nHost: conformance\r\n${head}\r\n${body}`;
        const refused = [
          post('Transfer-Encoding: chunked\r\n', '-5\r\nhello\r\n0\r\n\r\n'),
          post('Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n'),
          post('Transfer-Encoding: chunked\r\n', '5zz\r\nhello\r\n0\r\n\r\n'),
          post('X-No-Colon\r\nContent-Length: 5\r\n', 'hello'),
          post('Content-Length : 5\r\n', 'hello'),
          post('X-Folded: a\r\n b\r\nContent-Length: 5\r\n', 'hello'),
          post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'),
          post('Transfer-Encoding: chunked, identity\r\n', '5\r\nhello\r\n0\r\n\r\n'),
          'GET /ping HTTP/1.1\r\n\r\n',
        ];
        for (const raw of refused) {
          const connection = await clients.http();
          const response = await connection.request(raw);
          expect(response.status, JSON.stringify(raw)).toBe(400);
          expect(response.body.toString()).toMatch(/^BAD_FRAME/);
          await connection.closed();
          const fresh = await clients.binary();
          expect(show(await fresh.request({ command: 'PING', token: Buffer.from('fresh') }, 1_000))).toBe('PONG fresh');
        }
      });

      it('posts room messages to binary and text members, as X-Nick or http', async () => {
        const room = unique('hroom');
        const binaryMember = await clients.member(unique('bm'), room);
        const textMember = await clients.textMember(unique('tm'), room);
        await nextMatching(binaryMember, (m) => m.kind === 'JOINED');
        const poster = unique('poster');
        const posted = await httpRequest(server.target, 'POST', `/rooms/${room}/messages`, {
          headers: { 'X-Nick': poster, 'Content-Type': 'text/plain' },
          body: 'from the web, with spaces',
        });
        expect(posted.status).toBe(202);
        expect(show(await binaryMember.next())).toBe(`MSG ${room} ${poster} from the web, with spaces`);
        expect(await textMember.nextLine()).toBe(`MSG ${room} ${poster} from the web, with spaces`);

        const anonymous = await httpRequest(server.target, 'POST', `/rooms/${room}/messages`, { body: 'no nick' });
        expect(anonymous.status).toBe(202);
        expect(show(await binaryMember.next())).toBe(`MSG ${room} http no nick`);
        expect(await textMember.nextLine()).toBe(`MSG ${room} http no nick`);
      });

      it('lists a room as JSON with sorted members, [] when empty', async () => {
        const room = unique('lroom');
        const nicks = [unique('zed'), unique('Amy'), unique('bob')];
        for (const nick of nicks) await clients.member(nick, room);
        const listed = await httpRequest(server.target, 'GET', `/rooms/${room}`);
        expect(listed.status).toBe(200);
        expect(JSON.parse(listed.body.toString())).toEqual({ room, members: [...nicks].sort() });

        const empty = unique('empty');
        const emptyListing = await httpRequest(server.target, 'GET', `/rooms/${empty}`);
        expect(emptyListing.status).toBe(200);
        expect(JSON.parse(emptyListing.body.toString())).toEqual({ room: empty, members: [] });
      });

      it('answers an invalid room name, X-Nick or chat text 400', async () => {
        expect((await httpRequest(server.target, 'GET', '/rooms/bad.name')).status).toBe(400);
        expect((await httpRequest(server.target, 'GET', `/rooms/${'r'.repeat(33)}`)).status).toBe(400);
        expect((await httpRequest(server.target, 'POST', '/rooms/bad.name/messages', { body: 'x' })).status).toBe(400);
        const room = unique('xroom');
        for (const nick of ['guest-3', 'has space', 'a'.repeat(33), 'semi;colon']) {
          const response = await httpRequest(server.target, 'POST', `/rooms/${room}/messages`, { headers: { 'X-Nick': nick }, body: 'x' });
          expect(response.status, `X-Nick ${nick}`).toBe(400);
        }
        const forged = await httpRequest(server.target, 'POST', `/rooms/${room}/messages`, { body: 'line\nMSG forged' });
        expect(forged.status).toBe(400);
      });
    });

    describe('chat semantics', () => {
      it('applies the nick rules', async () => {
        const a = await clients.binary();
        const b = await clients.binary();
        const nick = unique('Nick_-');
        expect(show(await a.request({ command: 'NICK', nick }))).toBe(`NICK ${nick}`);
        expect(show(await b.request({ command: 'NICK', nick }))).toBe('ERR NICK_TAKEN');
        expect(show(await b.request({ command: 'NICK', nick: nick.toLowerCase() }))).toBe(`NICK ${nick.toLowerCase()}`);
        for (const invalid of ['guest-7', 'guest-', '', 'a'.repeat(33), 'has space', 'dot.ted', 'ünïcode']) {
          expect(show(await b.request({ command: 'NICK', nick: invalid })), `NICK ${JSON.stringify(invalid)}`).toBe('ERR BAD_ARGUMENT');
        }
        const longest = `${unique('L')}${'x'.repeat(32)}`.slice(0, 32);
        expect(show(await b.request({ command: 'NICK', nick: longest }))).toBe(`NICK ${longest}`);

        a.destroy();
        const c = await clients.binary();
        const deadline = Date.now() + 5_000;
        let reply = show(await c.request({ command: 'NICK', nick }));
        while (reply === 'ERR NICK_TAKEN' && Date.now() < deadline) {
          await sleep(50);
          reply = show(await c.request({ command: 'NICK', nick }));
        }
        expect(reply, 'a disconnect frees the nick').toBe(`NICK ${nick}`);
      });

      it('gives unique guest-<n> nicks to clients that chose none', async () => {
        const room = unique('guests');
        const first = await clients.binary();
        const second = await clients.text();
        expect(show(await first.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
        expect(await second.request(`JOIN ${room}`)).toBe(`OK JOIN ${room}`);
        const joined = await first.next();
        expect(show(joined)).toMatch(new RegExp(`^JOINED ${room} guest-\\d+$`));
        const who = await first.request({ command: 'WHO' });
        expect(who.kind).toBe('WHO');
        if (who.kind !== 'WHO') return;
        expect(who.nicks).toHaveLength(2);
        for (const nick of who.nicks) expect(nick).toMatch(/^guest-\d+$/);
        expect(new Set(who.nicks).size).toBe(2);
        expect(joined.kind === 'JOINED' && who.nicks.includes(joined.nick)).toBe(true);
        expect(await second.request('WHO')).toBe(`WHO ${room} ${who.nicks.join(' ')}`);
      });

      it('moves a joiner between rooms: old members get LEFT, new ones JOINED, the joiner only OK JOIN', async () => {
        const [roomA, roomB] = [unique('ra'), unique('rb')];
        const [mover, stayer, greeter] = [unique('mover'), unique('stayer'), unique('greeter')];
        const m = await clients.member(mover, roomA);
        const s = await clients.member(stayer, roomA);
        const g = await clients.member(greeter, roomB);
        expect(show(await m.next())).toBe(`JOINED ${roomA} ${stayer}`);
        expect(show(await m.request({ command: 'JOIN', room: roomB }))).toBe(`JOIN ${roomB}`);
        expect(show(await s.next())).toBe(`LEFT ${roomA} ${mover}`);
        expect(show(await g.next())).toBe(`JOINED ${roomB} ${mover}`);
        expect(show(await m.request({ command: 'PING', token: Buffer.from('sync') }))).toBe('PONG sync');
        expect(show(await m.request({ command: 'WHO' }))).toBe(`WHO ${roomB} ${[greeter, mover].sort().join(' ')}`);
        expect(show(await s.request({ command: 'WHO' }))).toBe(`WHO ${roomA} ${stayer}`);
      });

      it('answers JOIN of the current room OK JOIN and changes nothing', async () => {
        const room = unique('same');
        const [joiner, watcher] = [unique('joiner'), unique('watcher')];
        const j = await clients.member(joiner, room);
        const w = await clients.member(watcher, room);
        expect(show(await j.next())).toBe(`JOINED ${room} ${watcher}`);
        expect(show(await j.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
        j.send({ command: 'SAY', text: 'marker' });
        // One sender's pushes arrive in order: a LEFT or JOINED from the rejoin would come first.
        expect(show(await w.next())).toBe(`MSG ${room} ${joiner} marker`);
        expect(show(await w.request({ command: 'WHO' }))).toBe(`WHO ${room} ${[joiner, watcher].sort().join(' ')}`);
      });

      it('answers SAY, WHO and LEAVE outside a room ERR NOT_IN_ROOM, in both dialects', async () => {
        const b = await clients.binary();
        expect(show(await b.request({ command: 'SAY', text: 'anyone?' }))).toBe('ERR NOT_IN_ROOM');
        expect(show(await b.request({ command: 'WHO' }))).toBe('ERR NOT_IN_ROOM');
        expect(show(await b.request({ command: 'LEAVE' }))).toBe('ERR NOT_IN_ROOM');
        const t = await clients.text();
        expect(textCode(await t.request('SAY anyone?'))).toBe('ERR NOT_IN_ROOM');
        expect(textCode(await t.request('WHO'))).toBe('ERR NOT_IN_ROOM');
        expect(textCode(await t.request('LEAVE'))).toBe('ERR NOT_IN_ROOM');
        expect(await t.request('PING still-here')).toBe('PONG still-here');
      });

      it('refuses chat text with CR or LF, and invalid room names, with BAD_ARGUMENT', async () => {
        const room = unique('crlf');
        const client = await clients.member(unique('forger'), room);
        expect(show(await client.request({ command: 'SAY', text: 'one\nMSG forged line' }))).toBe('ERR BAD_ARGUMENT');
        expect(show(await client.request({ command: 'SAY', text: 'carriage\rreturn' }))).toBe('ERR BAD_ARGUMENT');
        for (const invalid of ['', 'bad room', 'r'.repeat(33), 'dot.ted']) {
          expect(show(await client.request({ command: 'JOIN', room: invalid })), `JOIN ${JSON.stringify(invalid)}`).toBe(
            'ERR BAD_ARGUMENT',
          );
        }
        expect(show(await client.request({ command: 'WHO' })), 'still in the room').toMatch(new RegExp(`^WHO ${room} `));
      });

      it('does not send a sender its own MSG', async () => {
        const room = unique('self');
        const sender = await clients.member(unique('talker'), room);
        const listener = await clients.member(unique('listener'), room);
        await nextMatching(sender, (m) => m.kind === 'JOINED');
        sender.send({ command: 'SAY', text: 'to others only' });
        expect(show(await sender.request({ command: 'PING', token: Buffer.from('after') }))).toBe('PONG after');
        expect((await listener.next()).kind).toBe('MSG');
      });

      it('counts a clean close, an abrupt destroy and QUIT as LEAVE', async () => {
        const room = unique('leavers');
        const stay = await clients.member(unique('stay'), room);
        for (const how of ['end', 'destroy', 'quit'] as const) {
          const nick = unique(how);
          const leaver = await clients.member(nick, room);
          expect(show(await stay.next())).toBe(`JOINED ${room} ${nick}`);
          if (how === 'end') leaver.end();
          if (how === 'destroy') leaver.destroy();
          if (how === 'quit') expect(show(await leaver.request({ command: 'QUIT' }))).toBe('BYE');
          expect(show(await stay.next()), how).toBe(`LEFT ${room} ${nick}`);
        }
        expect(show(await stay.request({ command: 'WHO' }))).toMatch(new RegExp(`^WHO ${room} stay\\d+$`));
      });

      it('carries chat across dialects: binary member, text member, HTTP poster', async () => {
        const room = unique('mixed');
        const [binaryNick, textNick] = [unique('bin'), unique('txt')];
        const b = await clients.member(binaryNick, room);
        const t = await clients.textMember(textNick, room);
        expect(show(await b.next())).toBe(`JOINED ${room} ${textNick}`);
        b.send({ command: 'SAY', text: 'from binary' });
        expect(await t.nextLine()).toBe(`MSG ${room} ${binaryNick} from binary`);
        t.sendLine('SAY from text');
        expect(show(await b.next())).toBe(`MSG ${room} ${textNick} from text`);
        const posted = await httpRequest(server.target, 'POST', `/rooms/${room}/messages`, {
          headers: { 'X-Nick': 'webber' },
          body: 'from http',
        });
        expect(posted.status).toBe(202);
        expect(show(await b.next())).toBe(`MSG ${room} webber from http`);
        expect(await t.nextLine()).toBe(`MSG ${room} webber from http`);
        expect(await t.request('QUIT')).toBe('BYE');
        expect(show(await b.next())).toBe(`LEFT ${room} ${textNick}`);
      });

      it('delivers every sender’s messages to every member in order, none lost (3 senders x 200, 8 members)', async () => {
        const room = unique('order');
        const senders: { nick: string; client: BinaryClient }[] = [];
        const listeners: { nick: string; client: MessageSource }[] = [];
        for (let i = 0; i < 3; i++) {
          const nick = unique('sender');
          senders.push({ nick, client: await clients.member(nick, room) });
        }
        for (let i = 0; i < 5; i++) {
          const nick = unique('listener');
          listeners.push({ nick, client: i < 3 ? await clients.member(nick, room) : await clients.textMember(nick, room) });
        }
        const perSender = 200;
        for (const { client } of senders) {
          const frames = [];
          for (let i = 0; i < perSender; i++) frames.push(encodeBinaryRequest({ command: 'SAY', text: `seq ${i}` }));
          client.write(Buffer.concat(frames));
        }
        const members = [...senders, ...listeners];
        await Promise.all(
          members.map(async ({ nick, client }) => {
            const expectedSenders = senders.filter((sender) => sender.nick !== nick).map((sender) => sender.nick);
            const received = new Map<string, number[]>(expectedSenders.map((sender) => [sender, []]));
            let count = 0;
            while (count < expectedSenders.length * perSender) {
              const message = await client.next(10_000);
              if (message.kind !== 'MSG') continue;
              expect(message.nick, `${nick} does not get its own messages`).not.toBe(nick);
              received.get(message.nick)?.push(Number(message.text.split(' ')[1]));
              count += 1;
            }
            for (const [sender, sequence] of received) {
              expect(sequence, `${sender} -> ${nick}`).toEqual(Array.from({ length: perSender }, (_, i) => i));
            }
          }),
        );
      });

      it.runIf(variant.spreads)('spreads members over several threads or processes, and rooms still span them', async () => {
        const byServedBy = new Map<string, BinaryClient>();
        for (let attempt = 0; attempt < 24 && byServedBy.size < 2; attempt++) {
          const client = await clients.binary();
          const info = await client.info();
          expect(['string', 'number']).toContain(typeof info.servedBy);
          const key = String(info.servedBy);
          if (!byServedBy.has(key)) byServedBy.set(key, client);
        }
        expect(byServedBy.size, 'distinct servedBy values among 24 connections').toBeGreaterThanOrEqual(2);
        const [first, second] = [...byServedBy.values()] as [BinaryClient, BinaryClient];
        const room = unique('spread');
        const [firstNick, secondNick] = [unique('near'), unique('far')];
        expect(show(await first.request({ command: 'NICK', nick: firstNick }))).toBe(`NICK ${firstNick}`);
        expect(show(await second.request({ command: 'NICK', nick: firstNick })), 'nicks are unique server-wide').toBe('ERR NICK_TAKEN');
        expect(show(await second.request({ command: 'NICK', nick: secondNick }))).toBe(`NICK ${secondNick}`);
        expect(show(await first.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
        expect(show(await second.request({ command: 'JOIN', room }))).toBe(`JOIN ${room}`);
        expect(show(await first.next())).toBe(`JOINED ${room} ${secondNick}`);
        second.send({ command: 'SAY', text: 'across workers' });
        expect(show(await first.next())).toBe(`MSG ${room} ${secondNick} across workers`);
        first.send({ command: 'SAY', text: 'and back' });
        expect(show(await second.next())).toBe(`MSG ${room} ${firstNick} and back`);
        expect(show(await second.request({ command: 'WHO' }))).toBe(`WHO ${room} ${[firstNick, secondNick].sort().join(' ')}`);
        const connections = (await first.info()).connections as number;
        expect(connections, 'INFO counts the whole server’s connections').toBeGreaterThanOrEqual(byServedBy.size);
      });
    });

    describe('errors and close behaviour', () => {
      it('without --files: LIST, GET, PUT are UNKNOWN_COMMAND and /files/ is 404 (test/files.test.ts runs the file service)', async () => {
        const client = await clients.binary();
        expect(show(await client.request({ command: 'LIST' }))).toBe('ERR UNKNOWN_COMMAND');
        expect(show(await client.request({ command: 'GET', name: 'notes.txt' }))).toBe('ERR UNKNOWN_COMMAND');
        const text = await clients.text();
        expect(textCode(await text.request('list'))).toBe('ERR UNKNOWN_COMMAND');
        const web = await clients.http();
        expect((await web.request(httpRequestText('GET', '/files/'))).status).toBe(404);
        expect((await web.request(httpRequestText('PUT', '/files/a', { body: 'x' }))).status).toBe(404);
      });

      it('answers a frame of length 0 ERR BAD_FRAME, then closes', async () => {
        const client = await clients.binary();
        client.write(Buffer.from([0, 0, 0, 0]));
        expect((await client.nextUntilClosed()).map(show)).toEqual(['ERR BAD_FRAME']);
      });

      it('answers a length over --max-frame ERR TOO_LARGE as soon as the 4 length bytes arrive, then closes', async () => {
        const client = await clients.binary();
        const header = Buffer.alloc(4);
        header.writeUInt32BE(MAX_FRAME + 2);
        client.write(header);
        expect((await client.nextUntilClosed()).map(show)).toEqual(['ERR TOO_LARGE']);
      });

      it('accepts a line of exactly --max-line bytes and answers a longer one ERR TOO_LARGE, then closes', async () => {
        const client = await clients.text();
        const longest = `ECHO ${'a'.repeat(MAX_LINE - 5)}`;
        expect(await client.request(longest)).toBe(longest);
        client.write('ECHO '.padEnd(MAX_LINE + 100, 'b'));
        expect((await client.linesUntilClosed()).map(textCode)).toEqual(['ERR TOO_LARGE']);
      });

      it('answers invalid UTF-8 in a text line ERR BAD_FRAME, then closes', async () => {
        const client = await clients.text();
        client.write(Buffer.concat([Buffer.from('ECHO '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\n')]));
        expect((await client.linesUntilClosed()).map(textCode)).toEqual(['ERR BAD_FRAME']);
      });

      it('answers WORK n=0, n>1e6 and a body under 4 bytes BAD_ARGUMENT, without closing', async () => {
        const client = await clients.binary();
        expect(show(await client.request({ command: 'WORK', iterations: 0, data: Buffer.from('x') }))).toBe('ERR BAD_ARGUMENT');
        expect(show(await client.request({ command: 'WORK', iterations: 1_000_001, data: Buffer.from('x') }))).toBe('ERR BAD_ARGUMENT');
        client.write(encodeFrame(0x08, Buffer.from([0, 0, 1])));
        expect(show(await client.next())).toBe('ERR BAD_ARGUMENT');
        client.write(encodeFrame(0x08));
        expect(show(await client.next())).toBe('ERR BAD_ARGUMENT');
        expect(show(await client.request({ command: 'PING', token: Buffer.from('fine') }))).toBe('PONG fine');
      });

      it('answers binary NICK, JOIN or SAY that is not UTF-8 ERR BAD_FRAME, then closes', async () => {
        const client = await clients.binary();
        client.write(encodeFrame(0x03, Buffer.from([0xff, 0xfe])));
        expect((await client.nextUntilClosed()).map(show)).toEqual(['ERR BAD_FRAME']);
      });
    });

    // On a server of their own, with --idle-timeout 1 (SUITE_FLAGS says why).
    describe('time limits', () => {
      const timedServer = new OwnServer(variant.model, [...variant.flags, ...TIME_LIMIT_FLAGS]);
      const timedClients = timedServer.clients;

      it('closes a connection that sends nothing, silently, after the idle timeout', async () => {
        const client = await timedClients.raw();
        const started = Date.now();
        await client.closed(10_000);
        expect(Date.now() - started, 'not before the idle timeout of 1 s').toBeGreaterThanOrEqual(800);
        expect(client.receivedBytes).toBe(0);
      });

      it('answers a request left half sent ERR TIMEOUT, then closes', async () => {
        const client = await timedClients.binary();
        client.write(encodeBinaryRequest({ command: 'ECHO', data: Buffer.from('0123456789') }).subarray(0, 8));
        expect((await client.nextUntilClosed(10_000)).map(show)).toEqual(['ERR TIMEOUT']);
      });

      it('answers a text line left unfinished ERR TIMEOUT, then closes', async () => {
        const client = await timedClients.text();
        client.write('PING not-finished');
        expect((await client.linesUntilClosed(10_000)).map(textCode)).toEqual(['ERR TIMEOUT']);
      });

      it('answers in the text dialect a connection whose dialect is still unknown at the timeout', async () => {
        const client = await timedClients.text();
        client.write('GE');
        expect((await client.linesUntilClosed(10_000)).map(textCode)).toEqual(['ERR TIMEOUT']);
      });

      it('does not time out text and binary connections idle between complete requests', async () => {
        const text = await timedClients.text();
        const binary = await timedClients.binary();
        expect(await text.request('PING before')).toBe('PONG before');
        expect(show(await binary.request({ command: 'PING', token: Buffer.from('before') }))).toBe('PONG before');
        await sleep(1_800);
        expect(await text.request('PING after')).toBe('PONG after');
        expect(show(await binary.request({ command: 'PING', token: Buffer.from('after') }))).toBe('PONG after');
      });

      it('closes an idle HTTP keep-alive connection silently', async () => {
        const connection = await timedClients.http();
        expect((await connection.request(httpRequestText('GET', '/ping'))).status).toBe(200);
        const rest = await connection.readToClose(10_000);
        expect(rest.toString('latin1')).toBe('');
      });
    });

    describe('flow control', () => {
      it('disconnects a member that does not read with ERR SLOW_CONSUMER; the room keeps flowing', async () => {
        const room = unique('slow');
        const [slowNick, readerNick, senderNick] = [unique('slow'), unique('reader'), unique('sender')];
        const slow = await clients.member(slowNick, room);
        const reader = await clients.member(readerNick, room);
        const sender = await clients.member(senderNick, room);
        expect(show(await reader.next())).toBe(`JOINED ${room} ${senderNick}`);
        slow.pause();

        const filler = 'x'.repeat(32 * 1024);
        const batch = 4;
        let sequence = 0;
        let slowLeft = false;
        // Paced so that the reader, which does read, never has more than 128 KiB pending.
        for (let round = 0; round < 512 && !slowLeft; round++) {
          for (let i = 0; i < batch; i++) sender.send({ command: 'SAY', text: `${sequence++} ${filler}` });
          let received = 0;
          while (received < batch) {
            const message = await reader.next(10_000);
            if (message.kind === 'LEFT' && message.nick === slowNick) slowLeft = true;
            else if (message.kind === 'MSG') {
              expect(Number(message.text.split(' ')[0])).toBe(sequence - batch + received);
              received += 1;
            } else throw new Error(`reader got ${show(message)}`);
          }
        }
        expect(slowLeft, `the slow member was dropped within ${sequence} messages of 32 KiB`).toBe(true);
        sender.send({ command: 'PING', token: Buffer.from('ok') });
        const { before } = await nextMatching(sender, (m) => m.kind === 'PONG');
        // The sender may or may not have been told of the slow member's LEFT yet; nothing else.
        expect(before.map(show).filter((line) => line !== `LEFT ${room} ${slowNick}`)).toEqual([]);
        expect(show(await reader.request({ command: 'WHO' }))).toBe(`WHO ${room} ${[readerNick, senderNick].sort().join(' ')}`);

        slow.resume();
        const seen = (await slow.nextUntilClosed(15_000)).map(show);
        expect(seen.at(-1)).toBe('ERR SLOW_CONSUMER');
        expect(seen.slice(0, -1).every((line) => line.startsWith(`MSG ${room} `) || line.startsWith('JOINED '))).toBe(true);
      });
    });

    describe('robustness', () => {
      it('survives many connections of seeded random garbage', async () => {
        const random = seededRandom(0xec4091e);
        const prefixes = ['', '\0', 'POST /echo HTTP/1.1\r\n', 'GET ', 'PING ', '\0\0\0\x10\x01'];
        for (let round = 0; round < 4; round++) {
          await Promise.all(
            Array.from({ length: 10 }, async () => {
              const client = await clients.raw();
              const prefix = prefixes[Math.floor(random() * prefixes.length)] ?? '';
              client.write(prefix);
              const writes = 1 + Math.floor(random() * 4);
              for (let w = 0; w < writes; w++) {
                const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 1500) }, () => Math.floor(random() * 256)));
                await client.writeAndFlush(garbage);
              }
              if (random() < 0.5) client.end();
              else client.destroy();
              await client.closed(10_000).catch(() => client.destroy());
            }),
          );
        }
        await expectServing(server);
      });

      it('survives abrupt disconnects mid-frame, mid-line, mid-HTTP-body and in a room', async () => {
        const midFrame = await clients.raw();
        await midFrame.writeAndFlush(encodeBinaryRequest({ command: 'ECHO', data: randomBytes(1000) }).subarray(0, 300));
        midFrame.destroy();
        const midLine = await clients.raw();
        await midLine.writeAndFlush('ECHO half a li');
        midLine.destroy();
        const midBody = await clients.raw();
        await midBody.writeAndFlush('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a little');
        midBody.destroy();
        const room = unique('crash');
        const stay = await clients.member(unique('stay'), room);
        const crasherNick = unique('crasher');
        const crasher = await clients.member(crasherNick, room);
        expect(show(await stay.next())).toBe(`JOINED ${room} ${crasherNick}`);
        await crasher.writeAndFlush(encodeBinaryRequest({ command: 'SAY', text: 'never complete' }).subarray(0, 7));
        crasher.destroy();
        expect(show(await stay.next())).toBe(`LEFT ${room} ${crasherNick}`);
        await expectServing(server);
      });
    });

    describe('with a client that does not read (time the server spends not reading it is not idle time)', () => {
      const hogServer = new OwnServer(variant.model, [...variant.flags, '--max-frame', '64k', '--idle-timeout', '1']);
      const hogClients = hogServer.clients;

      it('stops reading a client that pipelines large ECHOs without reading, and serves others', async () => {
        const hog = await hogClients.binary();
        expect(show(await hog.request({ command: 'PING', token: Buffer.from('hi') }))).toBe('PONG hi');
        const rssBefore = processTreeRssBytes(hogServer.server.pid);
        hog.pause();
        const frame = encodeBinaryRequest({ command: 'ECHO', data: randomBytes(60 * 1024) });
        const offered = 800 * frame.length; // 48 MiB of requests, as many of replies
        for (let i = 0; i < 800; i++) hog.write(frame);
        await sleep(2_000);
        // Measured before another client connects: per-connection forking adds a process for it.
        const rssAfter = processTreeRssBytes(hogServer.server.pid);
        const other = await hogClients.binary();
        expect(show(await other.request({ command: 'PING', token: Buffer.from('me too') }, 10_000))).toBe('PONG me too');
        // What left our socket sits in the kernel's buffers (a few MiB each way) or was read by the server.
        const taken = offered - hog.socket.writableLength;
        expect(taken, `the server took ${(taken / 2 ** 20).toFixed(1)} MiB of 48 MiB`).toBeLessThan(24 * 2 ** 20);
        expect(
          rssAfter - rssBefore,
          `RSS grew from ${(rssBefore / 2 ** 20).toFixed(0)} MiB to ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
        ).toBeLessThan(64 * 2 ** 20);

        // Once it reads, it is read from again: every request is answered.
        hog.resume();
        let echoes = 0;
        while (echoes < 800) {
          const reply = await hog.next(10_000);
          expect(reply.kind).toBe('ECHO');
          echoes += 1;
        }
        expect(show(await hog.request({ command: 'PING', token: Buffer.from('done') }))).toBe('PONG done');
      });
    });

    describe('with --max-connections 2', () => {
      const limitedServer = new OwnServer(variant.model, [...variant.flags, '--max-connections', '2', '--idle-timeout', '0']);
      const limitedClients = limitedServer.clients;

      it('never closes a silent connection when --idle-timeout is 0', async () => {
        const silent = await limitedClients.raw();
        await sleep(1_500);
        expect(silent.closedYet).toBe(false);
        silent.destroy();
      });

      it('answers one connection over the limit ERR BUSY in its dialect, then closes; serves again once one leaves', async () => {
        const first = await eventuallyServed(limitedServer.server.target);
        const second = await eventuallyServed(limitedServer.server.target);

        const binaryExtra = await limitedClients.binary();
        binaryExtra.send({ command: 'PING', token: Buffer.from('me?') });
        expect((await binaryExtra.nextUntilClosed()).map(show)).toEqual(['ERR BUSY']);

        const textExtra = await limitedClients.text();
        textExtra.sendLine('PING me?');
        expect((await textExtra.linesUntilClosed()).map(textCode)).toEqual(['ERR BUSY']);

        const httpExtra = await limitedClients.http();
        const busy = await httpExtra.request(httpRequestText('GET', '/ping'));
        expect(busy.status).toBe(503);
        expect(busy.body.toString()).toMatch(/^BUSY/);
        await httpExtra.closed();

        expect(show(await second.request({ command: 'PING', token: Buffer.from('still') }))).toBe('PONG still');
        expect(show(await first.request({ command: 'PING', token: Buffer.from('still') }))).toBe('PONG still');
        first.destroy();
        const third = await eventuallyServed(limitedServer.server.target);
        expect(show(await third.request({ command: 'ECHO', data: Buffer.from('served') }))).toBe('ECHO (6 bytes)');
        second.destroy();
        third.destroy();
      });
    });

    describe('with --max-connections 2, as soon as the dialect is known', () => {
      const limitedServer = new OwnServer(variant.model, [...variant.flags, '--max-connections', '2']);
      const limitedClients = limitedServer.clients;

      it('answers ERR BUSY before the first request is complete', async () => {
        const occupants = [await eventuallyServed(limitedServer.server.target), await eventuallyServed(limitedServer.server.target)];

        const binaryExtra = await limitedClients.binary();
        binaryExtra.write(Buffer.from([0x00]));
        expect((await binaryExtra.nextUntilClosed()).map(show)).toEqual(['ERR BUSY']);

        const textExtra = await limitedClients.text();
        textExtra.write('X');
        expect((await textExtra.linesUntilClosed()).map(textCode)).toEqual(['ERR BUSY']);

        const httpExtra = await limitedClients.http();
        httpExtra.write('GET ');
        const busy = await httpExtra.nextResponse();
        expect(busy.status).toBe(503);
        await httpExtra.closed();
        for (const occupant of occupants) occupant.destroy();
      });
    });

    describe('on a Unix socket', () => {
      let directory: string;
      let staleOwner: ChildProcess | undefined;

      beforeAll(() => {
        directory = mkdtempSync(path.join(tmpdir(), 'echoplex-conformance-'));
      });

      afterAll(() => {
        staleOwner?.kill('SIGKILL');
        rmSync(directory, { recursive: true, force: true });
      });

      it('replaces a stale socket file and serves every dialect on it', async () => {
        const socketPath = path.join(directory, 'x.sock');
        // A process that listened and died without cleaning up leaves a stale socket file.
        staleOwner = spawn(
          process.execPath,
          ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        await withTimeout(new Promise((resolve) => staleOwner?.stdout?.once('data', resolve)), 10_000, 'the stale socket owner');
        staleOwner.kill('SIGKILL');
        await new Promise((resolve) => staleOwner?.once('exit', resolve));
        expect(existsSync(socketPath)).toBe(true);

        const onSocket = await startServer(variant.model, [...variant.flags, '--socket', socketPath]);
        try {
          expect(onSocket.address).toBe(socketPath);
          expect(listeningRecord(onSocket)?.model).toBe(variant.model);
          const binary = await BinaryClient.open({ path: socketPath });
          expect(show(await binary.request({ command: 'PING', token: Buffer.from('unix') }))).toBe('PONG unix');
          binary.destroy();
          const text = await TextClient.open({ path: socketPath });
          expect(await text.request('ECHO over unix')).toBe('ECHO over unix');
          text.destroy();
          const ping = await httpRequest({ path: socketPath }, 'GET', '/ping');
          expect(ping.body.toString()).toBe('pong');
        } finally {
          const status = await onSocket.stop('SIGTERM', 10_000);
          expect(status.code).toBe(0);
        }
      });
    });

    describe('shutdown', () => {
      const shutdownFlags = [...variant.flags, '--drain-timeout', '2'];

      it('on SIGTERM sends ERR SHUTTING_DOWN to known dialects, closes the silent, exits 0', async () => {
        const draining = await startServer(variant.model, shutdownFlags);
        const binary = await BinaryClient.open(draining.target);
        const text = await TextClient.open(draining.target);
        const web = await HttpConnection.open(draining.target);
        const silent = await RawConnection.open(draining.target);
        try {
          expect(show(await binary.request({ command: 'PING', token: Buffer.from('b') }))).toBe('PONG b');
          expect(await text.request('PING t')).toBe('PONG t');
          expect((await web.request(httpRequestText('GET', '/ping'))).status).toBe(200);
          process.kill(draining.pid, 'SIGTERM');

          expect((await binary.nextUntilClosed(10_000)).map(show)).toEqual(['ERR SHUTTING_DOWN']);
          expect((await text.linesUntilClosed(10_000)).map(textCode)).toEqual(['ERR SHUTTING_DOWN']);
          const farewell = await web.nextResponse({ timeoutMs: 10_000 });
          expect(farewell.status).toBe(503);
          expect(farewell.headers.get('connection')?.toLowerCase()).toBe('close');
          expect(farewell.body.toString()).toMatch(/^SHUTTING_DOWN/);
          await web.closed(10_000);
          await silent.closed(10_000);
          expect(silent.receivedBytes).toBe(0);
          expect(await withTimeout(draining.exited, 10_000, 'the server to exit')).toEqual({ code: 0, signal: null });
        } finally {
          for (const client of [binary, text, web, silent]) client.destroy();
          draining.kill();
        }
      });

      it('answers a request received just before SIGTERM, then ERR SHUTTING_DOWN', async () => {
        // The drain must outlast the WORK (200 000 rounds, seconds on a loaded machine), or the server rightly cuts it
        // off; the server exits as soon as the reply is out, so a longer bound costs nothing.
        const draining = await startServer(variant.model, [...variant.flags, '--drain-timeout', '10']);
        const client = await BinaryClient.open(draining.target);
        try {
          expect(show(await client.request({ command: 'PING', token: Buffer.from('ready') }))).toBe('PONG ready');
          const data = Buffer.from('last words');
          await client.writeAndFlush(encodeBinaryRequest({ command: 'WORK', iterations: 200_000, data }));
          await sleep(50);
          process.kill(draining.pid, 'SIGTERM');
          expect((await client.nextUntilClosed(10_000)).map(show)).toEqual([
            `WORK ${workDigest(200_000, data).toString('hex')}`,
            'ERR SHUTTING_DOWN',
          ]);
          expect(await withTimeout(draining.exited, 10_000, 'the server to exit')).toEqual({ code: 0, signal: null });
        } finally {
          client.destroy();
          draining.kill();
        }
      });

      it('shuts down the same way on SIGINT', async () => {
        const draining = await startServer(variant.model, shutdownFlags);
        const client = await TextClient.open(draining.target);
        try {
          expect(await client.request('PING int')).toBe('PONG int');
          process.kill(draining.pid, 'SIGINT');
          expect((await client.linesUntilClosed(10_000)).map(textCode)).toEqual(['ERR SHUTTING_DOWN']);
          expect(await withTimeout(draining.exited, 10_000, 'the server to exit')).toEqual({ code: 0, signal: null });
        } finally {
          client.destroy();
          draining.kill();
        }
      });
    });
  });
}
