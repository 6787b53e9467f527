/**
 * LIST, GET and PUT for one session, in its dialect, over whichever FileStore its model gave
 * it: a GET streamed piece by piece as the peer takes them (bounded memory for a file of any
 * size), a PUT written as its bytes arrive and committed only once they all have.
 */
import {
  encodeBinaryFileData,
  encodeBinaryList,
  encodeBinaryPutAccepted,
  encodeHttpHead,
  encodeTextFileHead,
  encodeTextList,
  encodeTextPutAccepted,
  type FileEntry,
  FRAME_HEADER_BYTES,
  FrameType,
  type HttpRequest,
  type HttpResponse,
  ProtocolError,
  TEXT_FILE_END,
} from '@echoplex/protocol';
import {
  badFileName,
  DEFAULT_MAX_FILE,
  type FileResult,
  type FileSink,
  type FileSource,
  type FileStore,
  fileNameProblem,
} from './file-store.js';

/** What one read of a GET asks the store for: small enough that a slow reader holds little, large enough for few calls. */
export const FILE_PIECE_BYTES = 64 * 1024;

/** Upload bytes waiting for the disk past which the peer is not read from, until the write under way is done. */
export const UPLOAD_HIGH_WATER = 1024 * 1024;

/** What the file service needs of its session. */
export interface FileServiceHost {
  /** Hands bytes to the transport now, after whatever the session queued before them. */
  send(bytes: Buffer): void;
  /** Calls `ready` once the peer has taken enough of what was sent for more (at once if it has). */
  whenWritable(ready: () => void): void;
  isClosed(): boolean;
  /** A request is under way: later ones wait, and the idle timer does not run while the transfer moves. */
  hold(): void;
  /** The request is answered: later requests go on. */
  release(): void;
  /** Stop reading the peer while an upload's bytes wait for the disk, or read again. */
  holdInput(held: boolean): void;
  /** ERR in the binary or text dialect (a fatal one closes). */
  fail(error: ProtocolError): void;
  /** A complete HTTP response to `request`, and its error for the counters (a fatal one closes). */
  respondHttp(request: HttpRequest, response: HttpResponse, error?: ProtocolError): void;
  /** Whether the connection stays open after the response to `request`. */
  keepAlive(request: HttpRequest): boolean;
  /** Ends the connection after what was sent (a GET that cannot be completed). */
  close(): void;
}

type Dialect = 'binary' | 'text' | 'http';

const httpError = (error: ProtocolError): HttpResponse => ({ status: error.httpStatus, contentType: 'text/plain', body: error.toString() });

export class FileService {
  private upload: Upload | undefined;
  private download: Download | undefined;
  private readonly maxFile: number;
  private readonly maxFrame: number;

  constructor(
    private readonly store: FileStore,
    limits: { readonly maxFrame: number; readonly maxFile?: number | undefined },
    private readonly host: FileServiceHost,
  ) {
    this.maxFile = limits.maxFile ?? DEFAULT_MAX_FILE;
    this.maxFrame = limits.maxFrame;
  }

  /** The largest upload (`--max-file`). */
  get uploadLimit(): number {
    return this.maxFile;
  }

  /** Whether a PUT's bytes are still arriving (text raw bytes, an HTTP body). */
  get uploading(): boolean {
    return this.upload !== undefined;
  }

  /** LIST, or HTTP `GET /files/` when `request` is given. */
  list(dialect: Dialect, request?: HttpRequest): void {
    this.host.hold();
    this.store.list((result) => {
      if (this.host.isClosed()) return;
      this.answerList(dialect, result, request);
      this.host.release();
    });
  }

  private answerList(dialect: Dialect, result: FileResult<readonly FileEntry[]>, request: HttpRequest | undefined): void {
    if (request !== undefined) {
      if (!result.ok) return this.host.respondHttp(request, httpError(result.error), result.error);
      const body = `${JSON.stringify(result.value.map(({ name, size }) => ({ name, size })))}\n`;
      return this.host.respondHttp(request, { status: 200, contentType: 'application/json', body });
    }
    if (!result.ok) return this.host.fail(result.error);
    this.host.send(dialect === 'binary' ? encodeBinaryList(result.value) : encodeTextList(result.value));
  }

  /** GET (and HTTP HEAD): the file streamed, or NOT_FOUND / BAD_ARGUMENT. */
  get(dialect: Dialect, name: string, request?: HttpRequest): void {
    const refuse = (error: ProtocolError) =>
      request === undefined ? this.host.fail(error) : this.host.respondHttp(request, httpError(error), error);
    const problem = fileNameProblem(name);
    if (problem !== undefined) return refuse(badFileName(problem));
    this.host.hold();
    this.store.read(name, (result) => {
      if (this.host.isClosed()) {
        if (result.ok) result.value.close();
        return;
      }
      if (!result.ok) {
        refuse(result.error);
        this.host.release();
        return;
      }
      this.stream(dialect, name, result.value, request);
    });
  }

  private stream(dialect: Dialect, name: string, source: FileSource, request: HttpRequest | undefined): void {
    const { host } = this;
    let keepAlive = true;
    if (request !== undefined) {
      keepAlive = host.keepAlive(request);
      const headers = { status: 200, contentType: 'application/octet-stream', contentLength: source.size };
      host.send(encodeHttpHead(headers, { version: request.version, keepAlive }));
      if (request.method === 'HEAD') {
        source.close();
        this.finishDownload(keepAlive);
        return;
      }
    } else if (dialect === 'text') {
      host.send(encodeTextFileHead(name, source.size));
    }
    const end = dialect === 'binary' ? encodeBinaryFileData(Buffer.alloc(0)) : dialect === 'text' ? TEXT_FILE_END : undefined;
    const maxPiece = dialect === 'binary' ? Math.min(this.maxFrame, FILE_PIECE_BYTES) : FILE_PIECE_BYTES;
    this.download = new Download(source, maxPiece, dialect === 'binary', host, (complete) => {
      this.download = undefined;
      source.close();
      if (host.isClosed()) return;
      if (!complete) {
        // The head promised bytes that cannot come: ending the connection is the only honest answer.
        host.close();
        return;
      }
      if (end !== undefined) host.send(end);
      this.finishDownload(keepAlive);
    });
    this.download.next();
  }

  private finishDownload(keepAlive: boolean): void {
    if (!keepAlive) {
      this.host.close();
      return;
    }
    this.host.release();
  }

  /**
   * PUT whose bytes came whole (binary) or follow (text raw bytes, an HTTP body: `piece`, then
   * `finish`). A bad name is answered once the bytes are read, so the stream stays in step.
   */
  put(dialect: Dialect, name: string, declared: number | undefined, request?: HttpRequest): void {
    if (declared !== undefined && declared > this.maxFile) {
      const error = new ProtocolError('TOO_LARGE', `file of ${declared} bytes over the limit of ${this.maxFile}`);
      if (request === undefined) this.host.fail(error);
      else this.host.respondHttp(request, httpError(error), error);
      return;
    }
    const problem = fileNameProblem(name);
    const refusal = problem === undefined ? undefined : badFileName(problem);
    this.upload = new Upload(this.store, name, refusal, this.maxFile, this.host, (result, size) => {
      this.upload = undefined;
      if (this.host.isClosed()) return;
      this.answerPut(dialect, name, size, result, request);
      this.host.release();
    });
  }

  /** Bytes of the PUT under way. */
  piece(bytes: Buffer): void {
    this.upload?.push(bytes);
  }

  /** The PUT's bytes have all arrived: commit it, and hold later requests until it is answered. */
  finish(): void {
    const upload = this.upload;
    if (upload === undefined) return;
    this.host.hold();
    upload.end();
  }

  private answerPut(
    dialect: Dialect,
    name: string,
    size: number,
    result: FileResult<{ readonly replaced: boolean }>,
    request: HttpRequest | undefined,
  ): void {
    if (request !== undefined) {
      if (!result.ok) return this.host.respondHttp(request, httpError(result.error), result.error);
      if (result.value.replaced) return this.host.respondHttp(request, { status: 204 });
      return this.host.respondHttp(request, {
        status: 201,
        contentType: 'text/plain',
        body: `${name} ${size}\n`,
        headers: { Location: `/files/${name}` },
      });
    }
    if (!result.ok) return this.host.fail(result.error);
    this.host.send(dialect === 'binary' ? encodeBinaryPutAccepted(name, size) : encodeTextPutAccepted(name, size));
  }

  /** The connection is gone: an upload's temporary file is removed, an open file closed. */
  abort(): void {
    this.upload?.abort();
    this.upload = undefined;
    this.download?.abort();
    this.download = undefined;
  }
}

/**
 * How many piece buffers a GET cycles through. A piece is read only once the transport says the
 * peer took enough (outbound at most its high-water mark, about one piece), so a buffer used
 * this many pieces ago is no longer held by anyone and can be read into again.
 */
const PIECE_BUFFERS = 8;

/**
 * A file sent piece by piece: each read waits for the peer to take the last piece. The loop
 * runs in place while the store and the transport answer at once (a blocking thread's), so
 * a large file never deepens the stack. Pieces are read into a few reused buffers, with room
 * for a frame header in front, so a GET of any size allocates the same few hundred KiB.
 */
class Download {
  private remaining: number;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly buffers: Buffer[] = [];
  private turn = 0;

  constructor(
    private readonly source: FileSource,
    private readonly maxPiece: number,
    /** Binary: each piece in a 0x8C frame; otherwise the raw bytes. */
    private readonly framed: boolean,
    private readonly host: FileServiceHost,
    private readonly done: (complete: boolean) => void,
  ) {
    this.remaining = source.size;
  }

  next(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  abort(): void {
    this.stopped = true;
    this.source.close();
  }

  private buffer(): Buffer {
    const index = this.turn % PIECE_BUFFERS;
    this.turn += 1;
    let buffer = this.buffers[index];
    if (buffer === undefined) {
      buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + Math.min(this.maxPiece, this.remaining));
      this.buffers[index] = buffer;
    }
    return buffer;
  }

  private step(): void {
    if (this.stopped) return;
    if (this.host.isClosed()) return this.stop(false);
    if (this.remaining === 0) return this.stop(true);
    const buffer = this.buffer();
    const room = Math.min(buffer.length - FRAME_HEADER_BYTES, this.remaining);
    this.source.read(buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + room), (result) => {
      if (this.stopped) return;
      if (!result.ok || result.value === 0 || this.host.isClosed()) return this.stop(false);
      const count = result.value;
      this.remaining -= count;
      if (this.framed) {
        buffer.writeUInt32BE(count + 1, 0);
        buffer[4] = FrameType.FILE_DATA;
        this.host.send(buffer.subarray(0, FRAME_HEADER_BYTES + count));
      } else {
        this.host.send(buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + count));
      }
      this.host.whenWritable(() => this.next());
    });
  }

  private stop(complete: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.done(complete);
  }
}

/**
 * An upload: bytes written to the sink one write at a time (those that arrive meanwhile wait,
 * joined into the next write), then a commit. With a refused name the bytes are only counted.
 */
class Upload {
  private sink: FileSink | undefined;
  private readonly waiting: Buffer[] = [];
  private writing = true;
  private failure: ProtocolError | undefined;
  private received = 0;
  private ended = false;
  private aborted = false;
  /** Bytes in `waiting`; past UPLOAD_HIGH_WATER the peer is held. */
  private waitingBytes = 0;
  private holding = false;

  constructor(
    store: FileStore,
    name: string,
    refusal: ProtocolError | undefined,
    private readonly maxFile: number,
    private readonly host: Pick<FileServiceHost, 'holdInput'>,
    private readonly done: (result: FileResult<{ readonly replaced: boolean }>, size: number) => void,
  ) {
    this.failure = refusal;
    if (refusal !== undefined) {
      this.writing = false;
      return;
    }
    store.write(name, (result) => {
      if (this.aborted) {
        if (result.ok) result.value.abort();
        return;
      }
      if (result.ok) this.sink = result.value;
      else this.failure = result.error;
      this.writing = false;
      this.drain();
    });
  }

  push(bytes: Buffer): void {
    if (this.aborted || bytes.length === 0) return;
    this.received += bytes.length;
    if (this.received > this.maxFile && this.failure === undefined) {
      this.failure = new ProtocolError('TOO_LARGE', `upload over the limit of ${this.maxFile} bytes`);
    }
    if (this.failure !== undefined) return;
    this.waiting.push(bytes);
    this.waitingBytes += bytes.length;
    if (!this.holding && this.waitingBytes >= UPLOAD_HIGH_WATER) this.hold(true);
    this.drain();
  }

  private hold(held: boolean): void {
    if (this.holding === held) return;
    this.holding = held;
    this.host.holdInput(held);
  }

  end(): void {
    this.ended = true;
    this.drain();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.hold(false);
    this.sink?.abort();
  }

  private drain(): void {
    if (this.writing || this.aborted) return;
    const sink = this.sink;
    if (this.failure !== undefined || sink === undefined) {
      this.waiting.length = 0;
      this.waitingBytes = 0;
      this.hold(false);
      if (this.ended) {
        sink?.abort();
        this.settle({ ok: false, error: this.failure ?? new ProtocolError('UNAVAILABLE', 'the file store did not open the upload') });
      }
      return;
    }
    if (this.waiting.length > 0) {
      const bytes = this.waiting.length === 1 ? (this.waiting[0] as Buffer) : Buffer.concat(this.waiting);
      this.waiting.length = 0;
      this.waitingBytes = 0;
      this.writing = true;
      sink.write(bytes, (result) => {
        this.writing = false;
        // What came during the write goes next; the peer is read again meanwhile.
        this.hold(false);
        if (!result.ok) {
          this.failure = result.error;
          sink.abort();
        }
        this.drain();
      });
      return;
    }
    if (!this.ended) return;
    this.writing = true;
    sink.commit((result) => this.settle(result));
  }

  private settle(result: FileResult<{ readonly replaced: boolean }>): void {
    if (this.aborted) return;
    this.aborted = true;
    this.hold(false);
    this.done(result, this.received);
  }
}
