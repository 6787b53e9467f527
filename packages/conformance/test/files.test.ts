/**
 * The file service (`--files DIR`) on every model variant: LIST, GET and PUT in the three
 * dialects, the name rules that keep every request inside DIR, atomic uploads, --max-file,
 * and a 200 MiB GET to a slow reader that must cost the server bounded memory.
 */
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeBinaryRequest, encodeFrame, FrameType, parseFileList } from '@echoplex/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinaryClient, connectSocket, HttpConnection, httpRequestText, type RawConnection, sleep, TextClient } from '../src/clients.js';
import { presentVariants, variantName } from '../src/models.js';
import { killAllServers, processTreeRssBytes, type RunningServer, startServer } from '../src/server-process.js';

const MAX_FRAME = 64 * 1024;
const MAX_FILE = 1024 * 1024;
const FLAGS = ['--max-frame', '64k', '--max-line', '1k', '--idle-timeout', '5', '--max-file', '1m'];
/** The big GET: 200 MiB, read slowly; the server's memory must grow less than 64 MiB meanwhile. */
const BIG_BYTES = 200 * 1024 ** 2;
const RSS_GROWTH_LIMIT = 64 * 1024 ** 2;

const root = mkdtempSync(path.join(tmpdir(), 'echoplex-files-'));
/** A file beside every DIR, which no request may read or change. */
const outside = path.join(root, 'outside.txt');
const OUTSIDE_CONTENT = 'outside DIR: never served, never written\n';
const bigFile = path.join(root, 'big.bin');
let bigDigest = '';

/** A pattern that differs in every 4 bytes, so a dropped, doubled or reordered piece shows in the digest. */
function writeBigFile(): void {
  const hash = createHash('sha256');
  const piece = Buffer.allocUnsafe(8 * 1024 ** 2);
  for (let offset = 0; offset < BIG_BYTES; offset += piece.length) {
    for (let i = 0; i < piece.length; i += 4) piece.writeUInt32LE(Math.imul(offset + i, 2654435761) >>> 0, i);
    hash.update(piece);
    writeFileSync(bigFile, piece, { flag: offset === 0 ? 'w' : 'a' });
  }
  bigDigest = hash.digest('hex');
}

beforeAll(() => {
  writeFileSync(outside, OUTSIDE_CONTENT);
  writeBigFile();
}, 60_000);

afterAll(async () => {
  await killAllServers();
  rmSync(root, { recursive: true, force: true });
});

/** Everything under `root` outside the variants' DIRs, with sizes: must be the same after every refused request. */
function outsideState(): string[] {
  return readdirSync(root)
    .filter((entry) => !entry.startsWith('dir-'))
    .map((entry) => `${entry} ${statSync(path.join(root, entry)).size}`)
    .sort();
}

const variants = presentVariants().map((variant) => ({ ...variant, name: variantName(variant) }));
let dirCounter = 0;

describe.each(variants)('files on $name', (variant) => {
  let server: RunningServer;
  let dir: string;
  const open: RawConnection[] = [];
  const track = <T extends RawConnection>(client: T): T => {
    open.push(client);
    return client;
  };
  const text = async () => track(await TextClient.open(server.target));
  const binary = async () => track(await BinaryClient.open(server.target));
  const http = async () => track(await HttpConnection.open(server.target));
  /** DIR's entries: the files the test put there, and nothing else (no temporary upload left over). */
  const entries = () => readdirSync(dir).sort();

  beforeAll(async () => {
    dirCounter += 1;
    dir = path.join(root, `dir-${dirCounter}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'hello world\n');
    symlinkSync(outside, path.join(dir, 'escape'));
    mkdirSync(path.join(dir, 'sub'));
    linkSync(bigFile, path.join(dir, 'big.bin'));
    server = await startServer(variant.model, [...variant.flags, ...FLAGS, '--files', dir]);
  });

  afterEach(() => {
    for (const client of open.splice(0)) client.destroy();
  });

  afterAll(async () => {
    await server?.stop('SIGTERM', 10_000);
  });

  it('text: LIST, GET of raw bytes then LF, PUT of raw bytes, HELP names them', async () => {
    const client = await text();
    expect(await client.request('HELP')).toMatch(/ LIST GET PUT$/);
    expect(await client.request('LIST')).toBe('LIST 2');
    expect([await client.nextLine(), await client.nextLine()]).toEqual([`big.bin ${BIG_BYTES}`, 'notes.txt 12']);
    expect(await client.request('GET notes.txt')).toBe('FILE notes.txt 12');
    expect((await client.nextBytes(13)).toString()).toBe('hello world\n\n');
    // Bytes that look like lines and commands are file content: LF, CR, a PING.
    const content = Buffer.from('line one\r\nPING no\n\x00\xff end', 'latin1');
    client.write(Buffer.concat([Buffer.from(`PUT text.bin ${content.length}\n`), content, Buffer.from('\nPING after\n')]));
    expect(await client.nextLine()).toBe(`OK PUT text.bin ${content.length}`);
    expect(await client.nextLine()).toBe('PONG after');
    expect(readFileSync(path.join(dir, 'text.bin'))).toEqual(content);
    expect(await client.request('GET text.bin')).toBe(`FILE text.bin ${content.length}`);
    expect(await client.nextBytes(content.length + 1)).toEqual(Buffer.concat([content, Buffer.from('\n')]));
    expect(await client.request('PUT empty 0')).toBe('OK PUT empty 0');
    expect(await client.request('GET nope')).toMatch(/^ERR NOT_FOUND /);
    expect(await client.request('PING still')).toBe('PONG still');
  });

  it('binary: PUT then GET as frames of at most --max-frame, ending with an empty frame', async () => {
    const client = await binary();
    const content = Buffer.alloc(MAX_FRAME - 100, 0);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 0xff;
    client.send({ command: 'PUT', name: 'frames.bin', size: content.length, data: content });
    const accepted = await client.nextFrame();
    expect([accepted.type, accepted.body.toString()]).toEqual([FrameType.PUT_OK, `frames.bin ${content.length}`]);
    // A file of four frames' worth, put there directly: GET cuts it into several frames.
    const large = Buffer.concat([content, content, content, content]);
    writeFileSync(path.join(dir, 'large.bin'), large);
    for (const [name, bytes] of [
      ['frames.bin', content],
      ['large.bin', large],
    ] as const) {
      client.send({ command: 'GET', name });
      const pieces: Buffer[] = [];
      for (;;) {
        const frame = await client.nextFrame();
        expect(frame.type).toBe(FrameType.FILE_DATA);
        expect(frame.body.length).toBeLessThanOrEqual(MAX_FRAME);
        if (frame.body.length === 0) break;
        pieces.push(frame.body);
      }
      // Buffer.equals: vitest's deep equality walks a buffer byte by byte, seconds for 256 KiB.
      expect(Buffer.concat(pieces).equals(bytes), `${name} intact`).toBe(true);
      if (name === 'large.bin') expect(pieces.length).toBeGreaterThan(1);
    }
    client.send({ command: 'LIST' });
    const list = await client.nextFrame();
    expect(list.type).toBe(FrameType.LIST_REPLY);
    expect(parseFileList(list.body.toString()).map((file) => file.name)).toEqual(
      [...parseFileList(list.body.toString()).map((file) => file.name)].sort(),
    );
    expect(parseFileList(list.body.toString())).toContainEqual({ name: 'frames.bin', size: content.length });
    client.send({ command: 'GET', name: 'nope' });
    const missing = await client.nextFrame();
    expect([missing.type, missing.body.toString().split(' ')[0]]).toEqual([FrameType.ERR, 'NOT_FOUND']);
  });

  it('HTTP: PUT is 201 then 204 on replace, GET has Content-Length, HEAD no body, /files/ lists as JSON', async () => {
    const client = await http();
    const body = 'x'.repeat(200 * 1024);
    const put = (content: string, expect100 = false) =>
      `PUT /files/web.txt HTTP/1.1\r\nHost: h\r\nContent-Length: ${content.length}\r\n${expect100 ? 'Expect: 100-continue\r\n' : ''}\r\n${content}`;
    expect((await client.request(put(body))).status).toBe(201);
    const replaced = await client.request(put('short'));
    expect([replaced.status, replaced.headers.get('content-length')]).toEqual([204, undefined]);
    // curl -T: Expect: 100-continue, then the body once the server said 100.
    client.write(`PUT /files/curl.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n`);
    expect((await client.nextResponse()).status).toBe(100);
    client.write('curl');
    expect((await client.nextResponse()).status).toBe(201);
    const got = await client.request(httpRequestText('GET', '/files/web.txt'));
    expect([got.status, got.headers.get('content-length'), got.body.toString()]).toEqual([200, '5', 'short']);
    const head = await client.request(httpRequestText('HEAD', '/files/web.txt'), { headOnly: true });
    expect([head.status, head.headers.get('content-length'), head.body.length]).toEqual([200, '5', 0]);
    const listing = await client.request(httpRequestText('GET', '/files/'));
    expect(listing.headers.get('content-type')).toBe('application/json');
    const files = JSON.parse(listing.body.toString()) as { name: string; size: number }[];
    expect(files.map((file) => file.name)).toEqual([...files.map((file) => file.name)].sort());
    expect(files).toContainEqual({ name: 'web.txt', size: 5 });
    expect(files).toContainEqual({ name: 'curl.txt', size: 4 });
    expect(files.map((file) => file.name)).not.toContain('escape');
    expect(files.map((file) => file.name)).not.toContain('sub');
    const chunked = await client.request(
      'PUT /files/chunked.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    expect(chunked.status).toBe(201);
    expect(readFileSync(path.join(dir, 'chunked.txt'), 'utf8')).toBe('abcde');
    expect((await client.request(httpRequestText('GET', '/files/nope'))).status).toBe(404);
    const wrong = await client.request(httpRequestText('POST', '/files/web.txt', { body: 'x' }));
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'GET, HEAD, PUT']);
    expect((await client.request(httpRequestText('GET', '/ping'))).status).toBe(200);
  });

  it('refuses ../x, absolute, a/b, a symlink out of DIR, a directory, NUL and ..%2f, touching nothing outside DIR', async () => {
    const before = outsideState();
    const dirBefore = entries();
    const client = await text();
    // `GET ` or `PUT ` as a connection's first bytes selects HTTP: a text client starts with another command.
    expect(await client.request('PING text')).toBe('PONG text');
    for (const name of [
      '../outside.txt',
      '/etc/passwd',
      `${root}/outside.txt`,
      'a/b',
      'escape',
      'sub',
      '.',
      '..',
      'nul\0x',
      'x'.repeat(256),
    ]) {
      expect(textReply(await client.request(`GET ${name}`)), `GET ${JSON.stringify(name)}`).toBe('ERR BAD_ARGUMENT');
    }
    for (const name of ['../outside.txt', `${root}/outside.txt`, 'a/b', 'escape', 'sub', '..']) {
      client.write(`PUT ${name} 6\nowned!`);
      expect(textReply(await client.nextLine()), `PUT ${JSON.stringify(name)}`).toBe('ERR BAD_ARGUMENT');
    }
    expect(await client.request('PING in step')).toBe('PONG in step');
    const frames = await binary();
    for (const name of ['../outside.txt', 'escape', 'a/b']) {
      frames.send({ command: 'PUT', name, size: 6, data: Buffer.from('owned!') });
      const reply = await frames.nextFrame();
      expect([reply.type, reply.body.toString().split(' ')[0]], `binary PUT ${name}`).toEqual([FrameType.ERR, 'BAD_ARGUMENT']);
      frames.write(encodeBinaryRequest({ command: 'GET', name }));
      expect((await frames.nextFrame()).type).toBe(FrameType.ERR);
    }
    const web = await http();
    for (const target of [
      '/files/..%2foutside.txt',
      '/files/%2e%2e%2foutside.txt',
      '/files/../outside.txt',
      '/files/escape',
      '/files/a%2fb',
      '/files/nul%00x',
      '/files/%2fetc%2fpasswd',
    ]) {
      expect((await web.request(httpRequestText('GET', target))).status, `GET ${target}`).toBe(400);
      expect((await web.request(`PUT ${target} HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nowned!`)).status, `PUT ${target}`).toBe(400);
    }
    expect(outsideState()).toEqual(before);
    expect(readFileSync(outside, 'utf8')).toBe(OUTSIDE_CONTENT);
    expect(entries()).toEqual(dirBefore);
  });

  it('an aborted PUT leaves the old file and no temporary file, in text and HTTP', async () => {
    writeFileSync(path.join(dir, 'kept.txt'), 'old content');
    const before = entries();
    const uploads: [string, () => Promise<RawConnection>][] = [
      [`put kept.txt 1000\n${'n'.repeat(500)}`, text],
      [`PUT /files/kept.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n${'h'.repeat(500)}`, http],
      [`PUT /files/new-one.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n${'c'.repeat(256)}\r\n`, http],
    ];
    for (const [partial, connect] of uploads) {
      const client = await connect();
      client.write(partial);
      // Until the upload is under way: a temporary file appears beside the old one (within a second, if this model makes one).
      const deadline = Date.now() + 1_000;
      while (Date.now() < deadline && entries().length === before.length) await sleep(10);
      client.destroy();
      await eventually(() => expect(entries()).toEqual(before));
    }
    expect(readFileSync(path.join(dir, 'kept.txt'), 'utf8')).toBe('old content');
  });

  it('--max-file: TOO_LARGE (413), fatal, as soon as the declared or received size passes it, and no temporary left', async () => {
    const before = entries();
    const client = await text();
    // Lower case: the command word is case-insensitive, the dialect sniffing is not (`PUT ` first would be HTTP).
    client.sendLine(`put huge.bin ${MAX_FILE + 1}`);
    expect(textReply(await client.nextLine())).toBe('ERR TOO_LARGE');
    await client.closed();
    const web = await http();
    const declared = await web.request(
      `PUT /files/huge.bin HTTP/1.1\r\nHost: h\r\nContent-Length: ${MAX_FILE + 1}\r\nExpect: 100-continue\r\n\r\n`,
    );
    expect(declared.status).toBe(413);
    await web.closed();
    const chunked = await http();
    const piece = `${(256 * 1024).toString(16)}\r\n${'z'.repeat(256 * 1024)}\r\n`;
    chunked.write(`PUT /files/huge.bin HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${piece.repeat(5)}0\r\n\r\n`);
    expect((await chunked.nextResponse()).status).toBe(413);
    await chunked.closed();
    const exact = await text();
    client.destroy();
    exact.write(Buffer.concat([Buffer.from(`put exact.bin ${MAX_FILE}\n`), Buffer.alloc(MAX_FILE, 1)]));
    expect(await exact.nextLine(10_000)).toBe(`OK PUT exact.bin ${MAX_FILE}`);
    await eventually(() => expect(entries()).toEqual([...before, 'exact.bin'].sort()));
  });

  it('streams a 200 MiB GET to a slow reader intact, the server growing less than 64 MiB', async () => {
    const socket = await connectSocket(server.target);
    try {
      // The connection's thread or child is up (per-connection forking forks here) before the baseline.
      const pong = await ask(socket, encodeFrame(FrameType.PING, Buffer.from('warm')));
      expect(pong.readUInt8(4)).toBe(FrameType.PONG);
      const baseline = processTreeRssBytes(server.pid);
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, processTreeRssBytes(server.pid));
      }, 50);
      const received = await slowBinaryGet(socket, 'big.bin');
      clearInterval(sampler);
      peak = Math.max(peak, processTreeRssBytes(server.pid));
      expect(received.bytes).toBe(BIG_BYTES);
      expect(received.digest).toBe(bigDigest);
      expect(received.maxFrame).toBeLessThanOrEqual(MAX_FRAME);
      const growth = peak - baseline;
      console.info(`${variant.name}: 200 MiB GET, server RSS ${mib(baseline)} -> peak ${mib(peak)} (+${mib(growth)})`);
      expect(growth, `RSS grew ${mib(growth)}`).toBeLessThan(RSS_GROWTH_LIMIT);
    } finally {
      socket.destroy();
    }
  }, 60_000);
});

const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** `ERR CODE` of an error line, or the line. */
const textReply = (line: string): string => (line.startsWith('ERR ') ? line.split(' ').slice(0, 2).join(' ') : line);

async function eventually(check: () => void, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** One request frame, and the first reply frame whole. */
function ask(socket: net.Socket, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(request);
  });
}

/**
 * A binary GET read by a slow client: it stops reading for 25 ms after every 8 MiB, so the
 * server sends faster than it is read and must wait rather than read ahead. The frames are
 * walked as they arrive and the file's bytes hashed, never gathered.
 */
function slowBinaryGet(socket: net.Socket, name: string): Promise<{ bytes: number; digest: string; maxFrame: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let maxFrame = 0;
    let header = Buffer.alloc(0);
    let bodyLeft = 0;
    let sincePause = 0;
    const timer = setTimeout(() => reject(new Error(`GET ${name}: ${bytes} bytes after 50 s`)), 50_000);
    const onData = (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, chunk.length - offset);
          hash.update(chunk.subarray(offset, offset + take));
          bytes += take;
          bodyLeft -= take;
          offset += take;
          continue;
        }
        const need = 5 - header.length;
        header = Buffer.concat([header, chunk.subarray(offset, offset + need)]);
        offset += Math.min(need, chunk.length - offset);
        if (header.length < 5) break;
        const length = header.readUInt32BE(0);
        const type = header.readUInt8(4);
        header = Buffer.alloc(0);
        if (type !== FrameType.FILE_DATA) return finish(new Error(`frame type 0x${type.toString(16)} after ${bytes} bytes`));
        bodyLeft = length - 1;
        maxFrame = Math.max(maxFrame, bodyLeft);
        if (bodyLeft === 0) return finish();
      }
      sincePause += chunk.length;
      if (sincePause >= 8 * 1024 ** 2) {
        sincePause = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 25);
      }
    };
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      if (error === undefined) resolve({ bytes, digest: hash.digest('hex'), maxFrame });
      else reject(error);
    };
    socket.on('data', onData);
    socket.once('error', (error) => finish(error));
    socket.write(encodeBinaryRequest({ command: 'GET', name }));
  });
}
