/** Small test clients over node:net for each dialect; every read times out with a clear error instead of hanging a test. */
import http from 'node:http';
import net from 'node:net';
import {
  decodeBinaryMessage,
  encodeBinaryRequest,
  FRAME_HEADER_BYTES,
  parseTextMessage,
  type Request,
  type ServerMessage,
} from '@echoplex/protocol';
import type { ConnectTarget } from './server-process.js';

export const DEFAULT_READ_TIMEOUT_MS = 5_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a parser found at the front of the received bytes: a value and how many bytes it used. */
export interface Parsed<T> {
  readonly value: T;
  readonly used: number;
}

/** Raises the timeout error a test reads when a server never answers. */
export class ReadTimeoutError extends Error {}

/** A TCP or Unix socket with a receive buffer that tests pull parsed values from. */
export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private isClosed = false;
  private readonly closedPromise: Promise<void>;
  /** Every byte received since connecting, consumed or not. */
  receivedBytes = 0;
  /** A socket error (ECONNRESET, EPIPE…), kept so tests may inspect it; never thrown. */
  socketError: Error | undefined;

  protected constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.receivedBytes += chunk.length;
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('error', (error) => {
      this.socketError = error;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.notify();
        resolve();
      });
    });
  }

  /** Connects to a server; rejects with the socket error. */
  static async open(target: ConnectTarget): Promise<RawConnection> {
    return new RawConnection(await connectSocket(target));
  }

  get closedYet(): boolean {
    return this.isClosed;
  }

  /** Bytes received and not yet taken by a read. */
  get pending(): Buffer {
    return this.buffer;
  }

  write(bytes: Uint8Array | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Writes and waits until the bytes are handed to the kernel. */
  writeAndFlush(bytes: Uint8Array | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Half-closes: the server sees end of stream. */
  end(): void {
    this.socket.end();
  }

  /** Abrupt close, as a crashed client. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Stops reading, so the kernel buffers fill and the server sees a client that does not read. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Resolves when the socket has closed; rejects after `timeoutMs`. */
  closed(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<void> {
    return withTimeout(this.closedPromise, timeoutMs, 'the server to close the connection');
  }

  /** Waits for the first value `parse` finds in the received bytes, and consumes those bytes. */
  async take<T>(parse: (bytes: Buffer) => Parsed<T> | undefined, what: string, timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parse(this.buffer);
      if (parsed !== undefined) {
        this.buffer = this.buffer.subarray(parsed.used);
        return parsed.value;
      }
      if (this.isClosed) {
        throw new Error(
          `connection closed while waiting for ${what}` +
            (this.buffer.length > 0 ? `; ${this.buffer.length} bytes left: ${preview(this.buffer)}` : ''),
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new ReadTimeoutError(
          `timed out after ${timeoutMs} ms waiting for ${what}` +
            (this.buffer.length > 0 ? `; ${this.buffer.length} bytes buffered: ${preview(this.buffer)}` : '; nothing buffered'),
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Exactly `count` bytes (a text GET's raw file bytes). */
  nextBytes(count: number, timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<Buffer> {
    return this.take(
      (bytes) => (bytes.length >= count ? { value: Buffer.from(bytes.subarray(0, count)), used: count } : undefined),
      `${count} raw bytes`,
      timeoutMs,
    );
  }

  /** Reads until the server closes, returning everything it sent that was not taken yet. */
  async readToClose(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<Buffer> {
    await this.closed(timeoutMs);
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

const preview = (bytes: Buffer): string => JSON.stringify(bytes.subarray(0, 120).toString('latin1'));

export function connectSocket(target: ConnectTarget): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    socket.setNoDelay(true);
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One raw frame at the front of `bytes`: the type and a copy of the body. */
export function parseRawFrame(bytes: Buffer): Parsed<{ type: number; body: Buffer }> | undefined {
  if (bytes.length < 4) return undefined;
  const length = bytes.readUInt32BE(0);
  if (bytes.length < 4 + length) return undefined;
  if (length === 0) return { value: { type: -1, body: Buffer.alloc(0) }, used: 4 };
  return {
    value: { type: bytes[4] as number, body: Buffer.from(bytes.subarray(FRAME_HEADER_BYTES, 4 + length)) },
    used: 4 + length,
  };
}

/** The binary dialect: requests as frames, replies and pushes decoded with the protocol's codec. */
export class BinaryClient extends RawConnection {
  static override async open(target: ConnectTarget): Promise<BinaryClient> {
    return new BinaryClient(await connectSocket(target));
  }

  send(request: Request): void {
    this.write(encodeBinaryRequest(request));
  }

  /** The next frame, undecoded: for checking types the codec would refuse. */
  nextFrame(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<{ type: number; body: Buffer }> {
    return this.take(parseRawFrame, 'a frame', timeoutMs);
  }

  async next(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<ServerMessage> {
    const frame = await this.nextFrame(timeoutMs);
    return decodeBinaryMessage({ type: frame.type, body: frame.body });
  }

  /** Sends a request and returns the next message. */
  async request(request: Request, timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<ServerMessage> {
    this.send(request);
    return this.next(timeoutMs);
  }

  /** The server's INFO, parsed. */
  async info(): Promise<Record<string, unknown>> {
    const reply = await this.request({ command: 'INFO' });
    if (reply.kind !== 'INFO') throw new Error(`expected INFO, got ${describeMessage(reply)}`);
    return JSON.parse(reply.json) as Record<string, unknown>;
  }

  /** Every message until the server closes. */
  async nextUntilClosed(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<ServerMessage[]> {
    const messages: ServerMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        messages.push(await this.next(Math.max(1, deadline - Date.now())));
      } catch (error) {
        if (this.closedYet && this.pending.length === 0) return messages;
        throw error;
      }
    }
  }
}

/** One text line at the front of `bytes`, without its LF (a CR before it is kept, to be checked). */
export function parseRawLine(bytes: Buffer): Parsed<string> | undefined {
  const lf = bytes.indexOf(0x0a);
  if (lf === -1) return undefined;
  return { value: bytes.subarray(0, lf).toString('utf8'), used: lf + 1 };
}

/** The text dialect: lines in, lines out. */
export class TextClient extends RawConnection {
  static override async open(target: ConnectTarget): Promise<TextClient> {
    return new TextClient(await connectSocket(target));
  }

  /** Sends one line; the LF is added. */
  sendLine(line: string): void {
    this.write(`${line}\n`);
  }

  nextLine(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<string> {
    return this.take(parseRawLine, 'a line', timeoutMs);
  }

  /** Sends a line and returns the next line. */
  async request(line: string, timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<string> {
    this.sendLine(line);
    return this.nextLine(timeoutMs);
  }

  async next(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<ServerMessage> {
    return parseTextMessage(await this.nextLine(timeoutMs));
  }

  /** Every line until the server closes. */
  async linesUntilClosed(timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<string[]> {
    const lines: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        lines.push(await this.nextLine(Math.max(1, deadline - Date.now())));
      } catch (error) {
        if (this.closedYet && this.pending.length === 0) return lines;
        throw error;
      }
    }
  }
}

export interface RawHttpResponse {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/**
 * One HTTP response at the front of `bytes`. `headOnly` for a response to HEAD; a 1xx,
 * 204 or 304 has no body either; without Content-Length or chunked, the body runs to close.
 */
export function parseHttpResponse(bytes: Buffer, headOnly: boolean, closed: boolean): Parsed<RawHttpResponse> | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const match = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (match === null) throw new Error(`malformed status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  const status = Number(match[2]);
  const head = { version: match[1] as string, status, reason: match[3] ?? '', headers };
  const bodyStart = headEnd + 4;
  if (headOnly || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { value: { ...head, body: Buffer.alloc(0) }, used: bodyStart };
  }
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
    const chunks: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = bytes.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = Number.parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('malformed chunk size in response');
      if (size === 0) {
        // The CRLF ending the last-chunk line starts the blank line that ends any trailers.
        const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd);
        if (trailerEnd === -1) return undefined;
        return { value: { ...head, body: Buffer.concat(chunks) }, used: trailerEnd + 4 };
      }
      if (bytes.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(Buffer.from(bytes.subarray(lineEnd + 2, lineEnd + 2 + size)));
      at = lineEnd + 2 + size + 2;
    }
  }
  const contentLength = headers.get('content-length');
  if (contentLength !== undefined) {
    const length = Number(contentLength);
    if (bytes.length < bodyStart + length) return undefined;
    return { value: { ...head, body: Buffer.from(bytes.subarray(bodyStart, bodyStart + length)) }, used: bodyStart + length };
  }
  if (!closed) return undefined;
  return { value: { ...head, body: Buffer.from(bytes.subarray(bodyStart)) }, used: bytes.length };
}

/** Raw HTTP/1.x over a socket: for pipelining, chunked bodies, Expect and malformed requests. */
export class HttpConnection extends RawConnection {
  static override async open(target: ConnectTarget): Promise<HttpConnection> {
    return new HttpConnection(await connectSocket(target));
  }

  /** The next response; `headOnly` when it answers a HEAD request. */
  nextResponse(options: { headOnly?: boolean; timeoutMs?: number } = {}): Promise<RawHttpResponse> {
    return this.take(
      (bytes) => parseHttpResponse(bytes, options.headOnly ?? false, this.closedYet),
      'an HTTP response',
      options.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    );
  }

  /** Sends a request (head and body as given, CRLF line ends expected) and returns the response. */
  async request(raw: string | Buffer, options: { headOnly?: boolean; timeoutMs?: number } = {}): Promise<RawHttpResponse> {
    this.write(raw);
    return this.nextResponse(options);
  }
}

/** A complete HTTP/1.1 request as raw text, with Host and, when there is a body, Content-Length. */
export function httpRequestText(
  method: string,
  target: string,
  options: { headers?: Readonly<Record<string, string>>; body?: string; version?: '1.0' | '1.1' } = {},
): string {
  const body = options.body ?? '';
  let head = `${method} ${target} HTTP/${options.version ?? '1.1'}\r\nHost: conformance\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (body.length > 0 || method === 'POST') head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${head}\r\n${body}`;
}

export interface SimpleHttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The local port of the socket that carried it: equal ports mean one kept-alive connection. */
  readonly localPort: number | undefined;
}

/** One request through node:http, for the simple cases. */
export function httpRequest(
  target: ConnectTarget,
  method: string,
  path: string,
  options: { headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<SimpleHttpResponse> {
  const where = 'path' in target ? { socketPath: target.path } : { host: target.host, port: target.port };
  const request = new Promise<SimpleHttpResponse>((resolve, reject) => {
    const req = http.request(
      { ...where, method, path, headers: options.headers ?? {}, agent: options.agent ?? new http.Agent({ keepAlive: false }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: req.socket?.localPort }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
  return withTimeout(request, options.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS, `HTTP ${method} ${path}`);
}

/** A message as one readable line, for assertion failures. */
export function describeMessage(message: ServerMessage): string {
  switch (message.kind) {
    case 'ECHO':
      return `ECHO (${message.data.length} bytes)`;
    case 'PONG':
      return `PONG ${Buffer.from(message.token).toString('latin1')}`;
    case 'NICK':
      return `NICK ${message.nick}`;
    case 'JOIN':
    case 'LEAVE':
      return `${message.kind} ${message.room}`;
    case 'WHO':
      return `WHO ${message.room} ${message.nicks.join(' ')}`;
    case 'WORK':
      return `WORK ${Buffer.from(message.digest).toString('hex')}`;
    case 'INFO':
      return `INFO ${message.json}`;
    case 'BYE':
      return 'BYE';
    case 'ERR':
      return `ERR ${message.error.toString()}`;
    case 'MSG':
      return `MSG ${message.room} ${message.nick} ${message.text.slice(0, 60)}`;
    case 'JOINED':
    case 'LEFT':
      return `${message.kind} ${message.room} ${message.nick}`;
  }
}
