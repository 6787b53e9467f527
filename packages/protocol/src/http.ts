/**
 * HTTP/1.1 requests parsed by http-parser-js (no hand-written parser), made strict where
 * RFC 9112 requires, with the protocol's limits and rules on top: head size, body size,
 * one transfer coding, one Host.
 */
import { ProtocolError } from './errors.js';
import {
  createStrictParser,
  type HttpParser,
  httpMethodName,
  type ParsedHead,
  parserCallbacks,
  StrictnessError,
} from './strict-http-parser.js';

export interface HttpRequest {
  readonly method: string;
  /** The request target as sent: `/work?n=3`. */
  readonly target: string;
  /** The decoded path: `/work`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly version: '1.0' | '1.1';
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** Whether the connection stays open after the response. */
  readonly keepAlive: boolean;
}

/**
 * A decoded request, or the client's `Expect: 100-continue` to be answered before its body.
 * A request whose body streams (`HttpLimits.streamsBody`) comes as its `head` (an empty
 * body), then each `body` piece as it arrives, then `end`.
 */
export type HttpEvent =
  | { readonly kind: 'request'; readonly request: HttpRequest }
  | { readonly kind: 'continue' }
  | { readonly kind: 'head'; readonly request: HttpRequest }
  | { readonly kind: 'body'; readonly chunk: Buffer }
  | { readonly kind: 'end' };

export interface HttpLimits {
  /** `--max-line`: the request line and headers. Over it: 431. */
  readonly maxHead: number;
  /** `--max-frame`: the body. Over it: 413. */
  readonly maxBody: number;
  /** Which requests stream their body instead of buffering it (`PUT /files/<name>`); none when absent. */
  readonly streamsBody?: (method: string, path: string) => boolean;
  /** `--max-file`: a streamed body. Over it: 413, as soon as it is declared or received. */
  readonly maxStreamedBody?: number;
}

/** Thrown from a parser callback to stop parsing; caught in `push`. */
class Refusal {
  constructor(readonly error: ProtocolError) {}
}

const badRequest = (message: string): ProtocolError => new ProtocolError('BAD_FRAME', message);

/**
 * Incremental HTTP request decoder: `push` bytes, then `next` until `undefined`.
 * Pipelined requests come out in order; an error is final.
 */
export class HttpRequestDecoder {
  private readonly parser: HttpParser;
  private readonly events: HttpEvent[] = [];
  private failure: ProtocolError | undefined;
  private current: { info: ParsedHead; headers: Map<string, string>; body: Buffer[]; bodyBytes: number; streamed: boolean } | undefined;
  /** The strict parser's limits; the body's is the current request's (a streamed body has its own). */
  private readonly parserLimits: { maxHead: number; maxBody: number };

  constructor(private readonly limits: HttpLimits) {
    this.parserLimits = { maxHead: limits.maxHead, maxBody: limits.maxBody };
    this.parser = createStrictParser(this.parserLimits);
    const callbacks = parserCallbacks();
    this.parser[callbacks.headersComplete] = (info: ParsedHead) => this.onHeaders(info);
    this.parser[callbacks.body] = (chunk: Buffer, _offset: number, length: number) => this.onBody(chunk, length);
    this.parser[callbacks.messageComplete] = () => this.onComplete();
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) return;
    let bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    try {
      while (bytes.length > 0) {
        const result = this.parser.execute(bytes);
        if (result instanceof Error) {
          this.failure = refusalOf(result, this.limits);
          return;
        }
        // A chunk-size or trailer line that never ends is bounded like the head.
        if (this.parser.line.length > this.limits.maxHead) {
          this.failure = badRequest(`a line of the body's framing over the limit of ${this.limits.maxHead} bytes`);
          return;
        }
        // The parser stops after an Upgrade request's head; go on with what follows it.
        bytes = bytes.subarray(result);
      }
    } catch (thrown) {
      if (thrown instanceof Refusal) this.failure = thrown.error;
      else throw thrown;
    }
  }

  /** Whether part of a request has arrived and not yet completed. */
  get inProgress(): boolean {
    return this.current !== undefined || this.parser.state !== 'REQUEST_LINE' || this.parser.line !== '';
  }

  next(): HttpEvent | ProtocolError | undefined {
    const event = this.events.shift();
    if (event !== undefined) return event;
    return this.failure;
  }

  private onHeaders(info: ParsedHead): number {
    if (info.versionMajor !== 1) throw new Refusal(badRequest(`unsupported HTTP version ${info.versionMajor}.${info.versionMinor}`));
    const headers = new Map<string, string>();
    let hosts = 0;
    let headBytes = (httpMethodName(info.method)?.length ?? 0) + info.url.length + 12;
    for (let i = 0; i + 1 < info.headers.length; i += 2) {
      const name = (info.headers[i] as string).toLowerCase();
      const value = info.headers[i + 1] as string;
      headBytes += name.length + value.length + 4;
      if (name === 'host') hosts += 1;
      const previous = headers.get(name);
      headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
    if (headBytes > this.limits.maxHead) {
      throw new Refusal(new ProtocolError('TOO_LARGE', `request head over the limit of ${this.limits.maxHead} bytes`, 431));
    }
    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host or with several.
    if (hosts > 1) throw new Refusal(badRequest('more than one Host header'));
    if (hosts === 0 && info.versionMinor >= 1) throw new Refusal(badRequest('an HTTP/1.1 request without a Host header'));
    const transferEncoding = headers.get('transfer-encoding');
    const contentLength = headers.get('content-length');
    if (transferEncoding !== undefined) {
      if (contentLength !== undefined) throw new Refusal(badRequest('both Transfer-Encoding and Content-Length'));
      if (transferEncoding.trim().toLowerCase() !== 'chunked') {
        throw new Refusal(badRequest(`unsupported transfer coding: ${transferEncoding}`));
      }
    }
    const method = httpMethodName(info.method) ?? 'UNKNOWN';
    const streamed = this.limits.streamsBody?.(method, decodedPath(splitTarget(info.url).rawPath)) === true;
    this.parserLimits.maxBody = this.bodyLimit(streamed);
    if (contentLength !== undefined) {
      if (!/^\d+$/.test(contentLength.trim())) throw new Refusal(badRequest(`invalid Content-Length: ${contentLength}`));
      const length = Number(contentLength.trim());
      if (length > this.parserLimits.maxBody) throw new Refusal(this.bodyTooLarge());
    }
    this.current = { info, headers, body: [], bodyBytes: 0, streamed };
    const expectsBody = transferEncoding !== undefined || Number(contentLength ?? 0) > 0;
    if (expectsBody && headers.get('expect')?.toLowerCase() === '100-continue' && info.versionMinor >= 1) {
      this.events.push({ kind: 'continue' });
    }
    if (streamed) this.events.push({ kind: 'head', request: requestOf(info, headers, EMPTY_BODY) });
    return 0;
  }

  private bodyLimit(streamed: boolean): number {
    return streamed ? (this.limits.maxStreamedBody ?? this.limits.maxBody) : this.limits.maxBody;
  }

  private onBody(chunk: Buffer, length: number): void {
    const request = this.current;
    if (request === undefined) return;
    request.bodyBytes += length;
    if (request.bodyBytes > this.parserLimits.maxBody) throw new Refusal(this.bodyTooLarge());
    if (request.streamed) this.events.push({ kind: 'body', chunk: chunk.subarray(0, length) });
    else request.body.push(chunk.subarray(0, length));
  }

  private onComplete(): void {
    const request = this.current;
    if (request === undefined) return;
    this.current = undefined;
    if (request.streamed) {
      this.events.push({ kind: 'end' });
      return;
    }
    const body = request.body.length === 1 ? (request.body[0] as Buffer) : Buffer.concat(request.body);
    this.events.push({ kind: 'request', request: requestOf(request.info, request.headers, body) });
  }

  private bodyTooLarge(): ProtocolError {
    return new ProtocolError('TOO_LARGE', `body over the limit of ${this.parserLimits.maxBody} bytes`);
  }
}

const EMPTY_BODY = Buffer.alloc(0);

const splitTarget = (target: string): { rawPath: string; query: string } => {
  const queryStart = target.indexOf('?');
  return queryStart === -1 ? { rawPath: target, query: '' } : { rawPath: target.slice(0, queryStart), query: target.slice(queryStart + 1) };
};

function decodedPath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    throw new Refusal(badRequest(`malformed path: ${rawPath}`));
  }
}

function requestOf(info: ParsedHead, headers: ReadonlyMap<string, string>, body: Buffer): HttpRequest {
  const target = info.url;
  const { rawPath, query } = splitTarget(target);
  return {
    method: httpMethodName(info.method) ?? 'UNKNOWN',
    target,
    path: decodedPath(rawPath),
    query: new URLSearchParams(query),
    version: info.versionMajor === 1 && info.versionMinor === 0 ? '1.0' : '1.1',
    headers,
    body,
    keepAlive: info.shouldKeepAlive,
  };
}

/** The parser's own errors as the protocol's: a head too large is 431, a body too large 413, the rest 400. */
function refusalOf(error: Error, limits: HttpLimits): ProtocolError {
  if (error instanceof StrictnessError) {
    if (error.kind === 'body too large') return new ProtocolError('TOO_LARGE', error.message);
    if (error.kind === 'fields too large') return new ProtocolError('TOO_LARGE', error.message, 431);
    return badRequest(`malformed HTTP request: ${error.message}`);
  }
  if (/header size/.test(error.message)) {
    return new ProtocolError('TOO_LARGE', `request head over the limit of ${limits.maxHead} bytes`, 431);
  }
  return badRequest(`malformed HTTP request (${(error as { code?: string }).code ?? error.message})`);
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

export interface HttpResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly body?: Uint8Array | string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ResponseFraming {
  readonly version: '1.0' | '1.1';
  readonly keepAlive: boolean;
  /** A response to HEAD: headers as for GET, no body. */
  readonly headOnly: boolean;
}

/** One complete response, head and body in a single buffer. */
export function encodeHttpResponse(response: HttpResponse, framing: ResponseFraming): Buffer {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : (response.body ?? new Uint8Array(0));
  let head = `HTTP/${framing.version} ${response.status} ${STATUS_TEXT[response.status] ?? 'Unknown'}\r\n`;
  if (response.contentType !== undefined) head += `Content-Type: ${response.contentType}\r\n`;
  // RFC 9110 §8.6: no Content-Length on a 204.
  if (response.status !== 204) head += `Content-Length: ${body.length}\r\n`;
  for (const [name, value] of Object.entries(response.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (!framing.keepAlive) head += 'Connection: close\r\n';
  else if (framing.version === '1.0') head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  const headBytes = Buffer.byteLength(head, 'latin1');
  if (framing.headOnly || body.length === 0) return Buffer.from(head, 'latin1');
  const out = Buffer.allocUnsafe(headBytes + body.length);
  out.write(head, 0, 'latin1');
  out.set(body, headBytes);
  return out;
}

/**
 * The head alone of a response whose body the caller streams after it (a GET of a file):
 * `contentLength` bytes must follow, unless the request was HEAD.
 */
export function encodeHttpHead(
  response: Omit<HttpResponse, 'body'> & { readonly contentLength: number },
  framing: Omit<ResponseFraming, 'headOnly'>,
): Buffer {
  let head = `HTTP/${framing.version} ${response.status} ${STATUS_TEXT[response.status] ?? 'Unknown'}\r\n`;
  if (response.contentType !== undefined) head += `Content-Type: ${response.contentType}\r\n`;
  head += `Content-Length: ${response.contentLength}\r\n`;
  for (const [name, value] of Object.entries(response.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (!framing.keepAlive) head += 'Connection: close\r\n';
  else if (framing.version === '1.0') head += 'Connection: keep-alive\r\n';
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** The interim response to `Expect: 100-continue`. */
export const CONTINUE_RESPONSE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
