/** The file service through a Session, sans-IO: an in-memory store, a transport that paces the reader, every dialect. */
import { ProtocolError } from '@echoplex/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FileEntry,
  type FileResult,
  type FileSink,
  type FileSource,
  type FileStore,
  fileNameProblem,
  LocalHub,
  ServerStats,
  Session,
  type SessionLimits,
} from '../src/index.js';
import { RecordingTransport, view } from './session-harness.js';

const limits: SessionLimits = { maxFrame: 1024, maxLine: 256, idleTimeoutMs: 1000, maxOutbound: 4096, maxFile: 64 * 1024 };

/** Files in a Map. `later`: every call answers on a later turn, as a loop's store does; otherwise at once, as a blocking one. */
class MemoryStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  reads = 0;
  aborted = 0;
  committed = 0;

  constructor(private readonly later = false) {}

  private answer(call: () => void): void {
    if (this.later) setImmediate(call);
    else call();
  }

  list(done: (result: FileResult<readonly FileEntry[]>) => void): void {
    const entries = [...this.files].map(([name, bytes]) => ({ name, size: bytes.length })).sort((a, b) => (a.name < b.name ? -1 : 1));
    this.answer(() => done({ ok: true, value: entries }));
  }

  read(name: string, done: (result: FileResult<FileSource>) => void): void {
    const bytes = this.files.get(name);
    this.answer(() => {
      if (bytes === undefined) return done({ ok: false, error: notFound(name) });
      let position = 0;
      const source: FileSource = {
        size: bytes.length,
        read: (into, readDone) => {
          this.reads += 1;
          const count = bytes.copy(into, 0, position, position + into.length);
          position += count;
          this.answer(() => readDone({ ok: true, value: count }));
        },
        close: () => {},
      };
      done({ ok: true, value: source });
    });
  }

  write(name: string, done: (result: FileResult<FileSink>) => void): void {
    const pieces: Buffer[] = [];
    const sink: FileSink = {
      write: (bytes, writeDone) => {
        pieces.push(Buffer.from(bytes));
        this.answer(() => writeDone({ ok: true, value: undefined }));
      },
      commit: (commitDone) => {
        const replaced = this.files.has(name);
        this.files.set(name, Buffer.concat(pieces));
        this.committed += 1;
        this.answer(() => commitDone({ ok: true, value: { replaced } }));
      },
      abort: () => {
        this.aborted += 1;
      },
    };
    this.answer(() => done({ ok: true, value: sink }));
  }
}

const notFound = (name: string) => new ProtocolError('NOT_FOUND', `no file '${name}'`);

/** A transport whose peer takes output only when the test says so (`held`), or at once. */
class PacedTransport extends RecordingTransport {
  held = false;
  private waiting: (() => void) | undefined;

  whenWritable(ready: () => void): void {
    if (this.held) this.waiting = ready;
    else ready();
  }

  release(): void {
    const ready = this.waiting;
    this.waiting = undefined;
    ready?.();
  }
}

function open(store: FileStore, sessionLimits: SessionLimits = limits) {
  const transport = new PacedTransport();
  const session = new Session({
    id: 1,
    limits: sessionLimits,
    hub: new LocalHub(),
    server: view,
    stats: new ServerStats(),
    transport,
    servedBy: 'test',
    files: store,
  });
  return {
    session,
    transport,
    send: (bytes: string | Buffer) => session.receive(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')),
  };
}

/** Lets a store that answers later answer: several turns of the loop, whatever the machine's load. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Binary frames in what was written: [type, body]. */
function frames(bytes: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    out.push([bytes[offset + 4] as number, bytes.subarray(offset + 5, offset + 4 + length)]);
    offset += 4 + length;
  }
  return out;
}

describe('an upload faster than the disk', () => {
  it('holds the peer once 1 MiB waits for the write under way, and reads again when it is done', () => {
    const writes: (() => void)[] = [];
    let stored = 0;
    const store: FileStore = {
      list: () => {},
      read: () => {},
      write: (_name, done) =>
        done({
          ok: true,
          value: {
            write: (bytes, writeDone) => {
              writes.push(() => {
                stored += bytes.length;
                writeDone({ ok: true, value: undefined });
              });
            },
            commit: (commitDone) => commitDone({ ok: true, value: { replaced: false } }),
            abort: () => {},
          },
        }),
    };
    const holds: boolean[] = [];
    const transport = new PacedTransport();
    const session = new Session({
      id: 1,
      limits: { ...limits, maxFile: 8 * 1024 ** 2 },
      hub: new LocalHub(),
      server: view,
      stats: new ServerStats(),
      transport: Object.assign(transport, { holdInput: (held: boolean) => holds.push(held) }),
      servedBy: 'test',
      files: store,
    });
    const size = 4 * 1024 ** 2;
    session.receive(Buffer.from(`PING\nPUT f ${size}\n`));
    const piece = Buffer.alloc(64 * 1024, 1);
    for (let sent = 0; sent < 1024 ** 2 + piece.length; sent += piece.length) session.receive(piece);
    expect(holds).toEqual([true]);
    // The disk takes the first write: the peer is read again, what waited goes in one write.
    writes.shift()?.();
    expect(holds).toEqual([true, false]);
    expect(writes.length).toBe(1);
    for (let sent = 1024 ** 2 + piece.length; sent < size; sent += piece.length) session.receive(piece);
    while (writes.length > 0) writes.shift()?.();
    expect(stored).toBe(size);
    expect(Buffer.concat(transport.written).toString()).toBe(`PONG\nOK PUT f ${size}\n`);
  });
});

describe('file names', () => {
  it('accepts 1-255 of [A-Za-z0-9._-] but . and .., refuses anything with another character', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._-]{1,255}$/), (name) => {
        expect(fileNameProblem(name) === undefined).toBe(name !== '.' && name !== '..');
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('/', '\0', '\\', ' ', '~', '%', 'é'),
        fc.string({ maxLength: 40 }),
        (a, bad, b) => {
          expect(fileNameProblem(`${a}${bad}${b}`)).toBeDefined();
        },
      ),
    );
    expect(fileNameProblem('x'.repeat(256))).toBeDefined();
    expect(fileNameProblem('')).toBeDefined();
  });
});

describe.each([
  ['a blocking store (answers at once)', false],
  ['a loop store (answers later)', true],
])('the file service on %s', (_, later) => {
  it('streams a GET of 16 MiB in 1 KiB frames without deepening the stack, ending with an empty frame', async () => {
    const store = new MemoryStore(later);
    const file = Buffer.alloc(16 * 1024 ** 2);
    for (let i = 0; i < file.length; i += 997) file[i] = i & 0xff;
    store.files.set('big.bin', file);
    const { transport, send } = open(store);
    const name = Buffer.from('big.bin');
    send(Buffer.concat([Buffer.from([0, 0, 0, name.length + 1, 0x0c]), name]));
    const deadline = Date.now() + 20_000;
    while (store.reads < file.length / 1024 && Date.now() < deadline) await settle();
    await settle();
    const got = frames(Buffer.concat(transport.written));
    expect(got.every(([type, body]) => type === 0x8c && body.length <= 1024)).toBe(true);
    expect(got.at(-1)?.[1].length).toBe(0);
    expect(Buffer.concat(got.map(([, body]) => body)).equals(file)).toBe(true);
  }, 30_000);

  it('reads the next piece only once the peer took the last one', async () => {
    const store = new MemoryStore(later);
    store.files.set('f', Buffer.alloc(150 * 1024, 7));
    const { transport, send } = open(store);
    transport.held = true;
    send('list\nGET f\n');
    await settle();
    expect(store.reads).toBe(1);
    transport.release();
    await settle();
    expect(store.reads).toBe(2);
    transport.held = false;
    transport.release();
    await settle();
    const text = Buffer.concat(transport.written).toString('latin1');
    expect(text).toBe(`LIST 1\nf 153600\nFILE f 153600\n${'\x07'.repeat(153600)}\n`);
    expect(store.reads).toBe(3);
  });

  it('stores a text PUT whose bytes arrive cut anywhere, answers after the commit, and goes on with the next line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 8 }), async (content, cuts) => {
        const store = new MemoryStore(later);
        const { transport, send } = open(store);
        const stream = Buffer.concat([Buffer.from(`PING a\nPUT f.bin ${content.length}\n`), content, Buffer.from('\nPING b\n')]);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
        let from = 0;
        for (const to of [...points, stream.length]) {
          send(stream.subarray(from, to));
          from = to;
          if (later) await settle();
        }
        if (later) await settle();
        expect(Buffer.concat(transport.written).toString()).toBe(`PONG a\nOK PUT f.bin ${content.length}\nPONG b\n`);
        expect(store.files.get('f.bin')?.equals(Buffer.from(content))).toBe(true);
      }),
      { numRuns: later ? 20 : 100 },
    );
  });

  it('answers a PUT with a bad name once its bytes are read, so the stream stays in step, and never writes it', async () => {
    const store = new MemoryStore(later);
    const { transport, send } = open(store);
    send('PING\nPUT ../x 5\nPING!\nPING ok\n');
    await settle();
    expect(Buffer.concat(transport.written).toString()).toMatch(/^PONG\nERR BAD_ARGUMENT [^\n]*\nPONG ok\n$/);
    expect(store.files.size).toBe(0);
  });

  it('refuses a text PUT over --max-file at once, fatally, reading none of it', async () => {
    const store = new MemoryStore(later);
    const { transport, send } = open(store);
    send(`PING\nPUT big ${64 * 1024 + 1}\nxxxx`);
    await settle();
    expect(Buffer.concat(transport.written).toString()).toMatch(/^PONG\nERR TOO_LARGE /);
    expect(transport.closed).toBe(true);
  });

  it('aborts the upload when the connection goes mid-PUT: nothing committed', async () => {
    const store = new MemoryStore(later);
    const { session, send } = open(store);
    send('PING\nPUT f 100\nhalf');
    await settle();
    session.abort();
    await settle();
    expect([store.committed, store.aborted, store.files.size]).toEqual([0, 1, 0]);
  });

  it('streams an HTTP PUT body (100-continue first), 201 then 204, and a GET with Content-Length', async () => {
    const store = new MemoryStore(later);
    const { transport, send } = open(store);
    send('PUT /files/w.txt HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await settle();
    expect(Buffer.concat(transport.written).toString()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    send('he');
    send('llo');
    await settle();
    send('PUT /files/w.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi');
    await settle();
    send('GET /files/w.txt HTTP/1.1\r\nHost: h\r\n\r\n');
    await settle();
    const text = Buffer.concat(transport.written).toString();
    expect(text).toContain('HTTP/1.1 201 Created');
    expect(text).toContain('HTTP/1.1 204 No Content\r\n\r\n');
    expect(text.endsWith('Content-Type: application/octet-stream\r\nContent-Length: 2\r\n\r\nhi')).toBe(true);
  });
});
