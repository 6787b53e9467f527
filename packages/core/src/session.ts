/**
 * The sans-IO session: one connection's state machine. Bytes go in, replies go out
 * through a transport the model provides; rooms go through the Hub. It knows nothing
 * of sockets, threads or processes, so every model runs this same code.
 */

import { isUtf8 } from 'node:buffer';
import {
  CONTINUE_RESPONSE,
  type Dialect,
  decodeBinaryRequest,
  encodeBinaryMessage,
  encodeHttpResponse,
  encodeTextHelp,
  encodeTextMessage,
  FILE_COMMANDS,
  FrameDecoder,
  type HelpRequest,
  type HttpEvent,
  type HttpRequest,
  HttpRequestDecoder,
  type HttpResponse,
  isClaimableNick,
  isValidChatText,
  isValidName,
  iteratedSha256,
  LineDecoder,
  MAX_WORK_ITERATIONS,
  ProtocolError,
  parseTextRequest,
  type Request,
  type ServerMessage,
  SNIFF_BYTES,
  sniffDialect,
  TEXT_COMMANDS,
} from '@echoplex/protocol';
import { FileService, type FileServiceHost } from './file-service.js';
import type { FileLimits, FileStore } from './file-store.js';
import { matchRoute, streamsToFile } from './http-routes.js';
import type { Hub, HubResult, RoomMembers, SharedPush } from './hub.js';
import type { ServerInfo, ServerView } from './server-view.js';
import type { ServerStats } from './stats.js';
import { renderStatusPage } from './status-page.js';

/** The limits a session enforces (a subset of the server config). */
export interface SessionLimits extends FileLimits {
  readonly maxFrame: number;
  readonly maxLine: number;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  readonly maxOutbound: number;
}

/** What a model gives a session to reach its peer. */
export interface SessionTransport {
  /** Queue bytes for the peer; `pushed`: a room's push, which a transport may hold until the current event is handled. */
  write(bytes: Buffer, pushed?: boolean): void;
  /** Bytes queued and not yet taken by the peer: what `--max-outbound` is checked against. */
  outboundBytes(): number;
  /** Send what is queued, then close. Called once; the session takes no input after it. */
  close(): void;
  /**
   * Arm the idle timer for `ms` (replacing any armed one), or disarm it; on expiry call
   * `session.timeout()`. Time the transport spends not reading because the peer does not
   * take its output must not count: defer the expiry until reading resumes.
   */
  setTimer(ms: number | undefined): void;
  /**
   * Call `ready` once the peer has taken enough of what was written for more (at once when it
   * has): a GET streams its file at the pace of the reader. Without it a GET does not wait.
   */
  whenWritable?(ready: () => void): void;
  /**
   * Stop reading the peer (`true`) or read again (`false`): an upload's bytes arrive faster
   * than the disk takes them. Without it the bytes wait in memory.
   */
  holdInput?(held: boolean): void;
}

export interface SessionOptions {
  /** Unique across the whole server; the guest nick is `guest-<id>`. */
  readonly id: number;
  readonly limits: SessionLimits;
  readonly hub: Hub;
  readonly server: ServerView;
  readonly stats: ServerStats;
  readonly transport: SessionTransport;
  /** Which thread or process serves this connection, reported by INFO. */
  readonly servedBy: string;
  /** Over `--max-connections`: the first request is answered BUSY, then the connection closes. */
  readonly busy?: boolean;
  /** `--files DIR` as this model reads and writes it; undefined: LIST, GET, PUT and /files/ are unknown. */
  readonly files?: FileStore | undefined;
}

type Decoder = FrameDecoder | LineDecoder | HttpRequestDecoder;

/** Why the idle timer runs: nothing yet or HTTP keep-alive (close silently), or a request under way (ERR TIMEOUT). */
type TimerMode = 'none' | 'silent' | 'request';

const EMPTY = Buffer.alloc(0);

export class Session {
  readonly id: number;
  private dialect: Dialect | undefined;
  private decoder: Decoder | undefined;
  private sniffed: Buffer = EMPTY;
  private attached = false;
  private nick: string;
  private room: string | undefined;
  /** A hub or server call is in flight: later requests wait, so replies stay in order. */
  private pending = false;
  private processing = false;
  private closed = false;
  private peerEnded = false;
  private shuttingDown = false;
  private timerMode: TimerMode = 'none';
  private completedRequests = 0;
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private readonly files: FileService | undefined;

  constructor(private readonly options: SessionOptions) {
    this.id = options.id;
    this.files = options.files === undefined ? undefined : new FileService(options.files, options.limits, this.fileHost());
    this.nick = `guest-${options.id}`;
    options.stats.connectionsAccepted += 1;
    this.updateTimer();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes from the peer, cut anywhere. */
  receive(chunk: Buffer): void {
    if (this.closed || this.shuttingDown) return;
    this.options.stats.bytesReceived += chunk.length;
    if (this.decoder === undefined) {
      const bytes = this.sniffed.length === 0 ? chunk : Buffer.concat([this.sniffed, chunk]);
      const dialect = sniffDialect(bytes.subarray(0, SNIFF_BYTES));
      if (dialect === undefined) {
        this.sniffed = bytes;
        this.updateTimer();
        return;
      }
      this.sniffed = EMPTY;
      const decoder = this.start(dialect);
      if (this.options.busy === true) {
        this.fail(new ProtocolError('BUSY', 'the server is at its connection limit'));
        this.flush();
        return;
      }
      decoder.push(bytes);
    } else {
      this.decoder.push(chunk);
    }
    this.process();
  }

  /** The peer closed its side: requests already received are answered, then the connection closes. */
  end(): void {
    if (this.closed) return;
    this.peerEnded = true;
    if (!this.pending && !this.processing) this.close();
  }

  /** The transport is gone (reset, error): forget the connection without writing. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.length = 0;
    this.files?.abort();
    this.detach();
  }

  /** The idle timer armed through `setTimer` fired. */
  timeout(): void {
    if (this.closed) return;
    if (this.timerMode === 'request') {
      this.fail(new ProtocolError('TIMEOUT', `request not completed within ${this.options.limits.idleTimeoutMs / 1000} s`));
      this.flush();
    } else {
      this.close();
    }
  }

  /** SIGTERM: finish what was received, then ERR SHUTTING_DOWN, or a silent close if the dialect is unknown. */
  shutdown(): void {
    if (this.closed || this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.dialect === undefined) this.close();
    else if (!this.pending && !this.processing) this.finishShutdown();
  }

  /** A push from the hub (MSG, JOINED, LEFT), in bytes every member in this dialect shares. */
  deliver(push: SharedPush): void {
    if (this.closed || (this.dialect !== 'binary' && this.dialect !== 'text')) return;
    const bytes = push.bytes(this.dialect, this.options.stats);
    const { maxOutbound } = this.options.limits;
    if (this.options.transport.outboundBytes() + this.outBytes + bytes.length > maxOutbound) {
      this.fail(new ProtocolError('SLOW_CONSUMER', `more than ${maxOutbound} bytes of pushed output waiting`));
    } else {
      const { stats } = this.options;
      stats.pushedMessages += 1;
      // The common case, a push between requests with nothing queued: straight to the transport, no list to fill and empty.
      if (!this.processing && this.out.length === 0) {
        stats.bytesSent += bytes.length;
        this.options.transport.write(bytes, true);
        return;
      }
      this.queue(bytes);
    }
    if (!this.processing) this.flush(true);
  }

  private start(dialect: Dialect): Decoder {
    const { limits } = this.options;
    this.dialect = dialect;
    const decoder =
      dialect === 'binary'
        ? new FrameDecoder(limits.maxFrame)
        : dialect === 'text'
          ? new LineDecoder(limits.maxLine)
          : new HttpRequestDecoder({
              maxHead: limits.maxLine,
              maxBody: limits.maxFrame,
              ...(this.files === undefined ? {} : { streamsBody: streamsToFile, maxStreamedBody: this.files.uploadLimit }),
            });
    this.decoder = decoder;
    // Chat needs the hub; HTTP clients post to rooms without joining them.
    if (dialect !== 'http' && this.options.busy !== true) {
      this.options.hub.attach(this);
      this.attached = true;
    }
    return decoder;
  }

  /** Handles decoded requests until input runs out, a call is pending, or the connection closes. */
  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.pending && !this.closed && this.step()) {
        // each step handles one request
      }
    } finally {
      this.processing = false;
    }
    this.flush();
    if (this.closed || this.pending) return;
    if (this.shuttingDown) this.finishShutdown();
    else if (this.peerEnded) this.close();
    else this.updateTimer();
  }

  /** One request; false when no complete request is buffered. */
  private step(): boolean {
    const decoder = this.decoder;
    if (decoder instanceof FrameDecoder) {
      const frame = decoder.next();
      if (frame === undefined) return false;
      this.completedRequests += 1;
      if (frame instanceof ProtocolError) this.fail(frame);
      else this.handle(decodeBinaryRequest(frame));
      return true;
    }
    if (decoder instanceof LineDecoder) {
      if (decoder.rawRemaining > 0) return this.uploadRaw(decoder);
      const line = decoder.next();
      if (line === undefined) return false;
      this.completedRequests += 1;
      if (line instanceof ProtocolError) this.fail(line);
      else {
        const request = parseTextRequest(line);
        if (request !== undefined) this.handle(request);
      }
      return true;
    }
    if (decoder instanceof HttpRequestDecoder) {
      const event = decoder.next();
      if (event === undefined) return false;
      if (event instanceof ProtocolError) this.fail(event);
      else if (event.kind === 'continue') this.queue(CONTINUE_RESPONSE);
      else if (event.kind === 'request') {
        this.completedRequests += 1;
        this.handleHttp(event.request);
      } else this.uploadHttp(event);
      return true;
    }
    return false;
  }

  private handle(request: Request | HelpRequest | ProtocolError): void {
    const { stats, hub, server } = this.options;
    const dialect = this.dialect as Dialect;
    if (request instanceof ProtocolError) {
      stats.countRequest(dialect, 'UNKNOWN');
      this.fail(request);
      return;
    }
    stats.countRequest(dialect, request.command);
    switch (request.command) {
      case 'ECHO':
        this.reply({ kind: 'ECHO', data: request.data });
        return;
      case 'PING':
        this.reply({ kind: 'PONG', token: request.token });
        return;
      case 'NICK':
        if (!isClaimableNick(request.nick)) {
          this.fail(badArgument(`invalid nick '${request.nick}': 1-32 of [A-Za-z0-9_-], not starting with guest-`));
          return;
        }
        this.await<HubResult<string>>(
          (done) => hub.setNick(this.id, request.nick, done),
          (result) => {
            if (!result.ok) return this.fail(result.error);
            this.nick = result.value;
            this.reply({ kind: 'NICK', nick: result.value });
          },
        );
        return;
      case 'JOIN':
        if (!isValidName(request.room)) {
          this.fail(badArgument(`invalid room '${request.room}': 1-32 of [A-Za-z0-9_-]`));
          return;
        }
        this.await<HubResult<string>>(
          (done) => hub.join(this.id, request.room, done),
          (result) => {
            if (!result.ok) return this.fail(result.error);
            this.room = result.value;
            this.reply({ kind: 'JOIN', room: result.value });
          },
        );
        return;
      case 'LEAVE':
        if (this.room === undefined) return this.fail(notInRoom());
        this.await<HubResult<string>>(
          (done) => hub.leave(this.id, done),
          (result) => {
            // UNAVAILABLE leaves the member where it was; NOT_IN_ROOM means the hub had it in no room.
            if (result.ok || result.error.code === 'NOT_IN_ROOM') this.room = undefined;
            if (!result.ok) return this.fail(result.error);
            this.reply({ kind: 'LEAVE', room: result.value });
          },
        );
        return;
      case 'SAY': {
        if (this.room === undefined) return this.fail(notInRoom());
        if (!isValidChatText(request.text)) return this.fail(badArgument('chat text must not contain CR or LF'));
        const unavailable = hub.unavailable();
        if (unavailable !== undefined) return this.fail(unavailable);
        hub.say(this.id, request.text);
        return;
      }
      case 'WHO':
        if (this.room === undefined) return this.fail(notInRoom());
        this.await<HubResult<RoomMembers>>(
          (done) => hub.who(this.id, done),
          (result) => {
            if (!result.ok) return this.fail(result.error);
            this.reply({ kind: 'WHO', room: result.value.room, nicks: result.value.nicks });
          },
        );
        return;
      case 'WORK':
        this.reply({ kind: 'WORK', digest: iteratedSha256(request.data, request.iterations) });
        return;
      case 'INFO':
        this.await<ServerInfo>(
          (done) => server.info(done),
          (info) => this.reply({ kind: 'INFO', json: JSON.stringify(this.describe(info)) }),
        );
        return;
      case 'QUIT':
        this.reply({ kind: 'BYE' });
        this.close();
        return;
      case 'HELP':
        this.queue(encodeTextHelp(this.files === undefined ? TEXT_COMMANDS : [...TEXT_COMMANDS, ...FILE_COMMANDS]));
        return;
      case 'LIST':
      case 'GET':
      case 'PUT':
        this.handleFile(request, dialect === 'binary' ? 'binary' : 'text');
        return;
    }
  }

  /** LIST, GET, PUT in binary or text; without `--files` they are unknown commands. */
  private handleFile(request: Extract<Request, { command: 'LIST' | 'GET' | 'PUT' }>, dialect: 'binary' | 'text'): void {
    const files = this.files;
    if (files === undefined) return this.fail(new ProtocolError('UNKNOWN_COMMAND', `${request.command} (the server has no --files)`));
    if (request.command === 'LIST') return files.list(dialect);
    if (request.command === 'GET') return files.get(dialect, request.name);
    if (request.data !== undefined) {
      files.put(dialect, request.name, request.size);
      files.piece(Buffer.from(request.data.buffer, request.data.byteOffset, request.data.length));
      files.finish();
      return;
    }
    // Text: the size bytes follow the line; a size over --max-file is refused before any is read.
    if (request.size > files.uploadLimit) return files.put(dialect, request.name, request.size);
    (this.decoder as LineDecoder).beginRaw(request.size);
    files.put(dialect, request.name, request.size);
    if (request.size === 0) files.finish();
  }

  /** A text PUT's raw bytes, as they arrive; the last of them commits it. */
  private uploadRaw(decoder: LineDecoder): boolean {
    const bytes = decoder.nextRaw();
    if (bytes === undefined) return false;
    // A piece of an upload is progress: the idle clock restarts, as for a completed request.
    this.completedRequests += 1;
    this.files?.piece(bytes);
    if (decoder.rawRemaining === 0) this.files?.finish();
    return true;
  }

  /** `PUT /files/<name>`: its head, each piece of its body as it arrives, its end. */
  private uploadHttp(event: Exclude<HttpEvent, { kind: 'request' | 'continue' }>): void {
    const files = this.files;
    if (files === undefined) return;
    if (event.kind === 'head') {
      const route = matchRoute(event.request.path);
      this.options.stats.countRequest('http', route?.name ?? 'UNKNOWN');
      const declared = event.request.headers.get('content-length');
      files.put('http', route?.name === 'FILE' ? route.file : '', declared === undefined ? undefined : Number(declared), event.request);
    } else if (event.kind === 'body') {
      this.completedRequests += 1;
      files.piece(event.chunk);
    } else {
      this.completedRequests += 1;
      files.finish();
    }
  }

  private handleHttp(request: HttpRequest): void {
    const { stats, hub, server } = this.options;
    const route = matchRoute(request.path);
    stats.countRequest('http', route?.name ?? 'UNKNOWN');
    const respond = (response: HttpResponse, error?: ProtocolError) => this.respondHttp(request, response, error);
    const fail = (error: ProtocolError) => this.failHttp(request, error);
    if (route === undefined) return fail(new ProtocolError('UNKNOWN_COMMAND', `no route for ${request.method} ${request.path}`));
    if (!route.allow.includes(request.method)) {
      const error = new ProtocolError('UNKNOWN_COMMAND', `${request.method} is not allowed on ${request.path}`, 405);
      return respond({ status: 405, contentType: 'text/plain', body: error.toString(), headers: { Allow: route.allow.join(', ') } }, error);
    }
    switch (route.name) {
      case 'ECHO':
        return respond({ status: 200, contentType: 'application/octet-stream', body: request.body });
      case 'PING':
        return respond({ status: 200, contentType: 'text/plain', body: 'pong' });
      case 'WORK': {
        const raw = request.query.get('n') ?? '';
        const iterations = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
        if (!(iterations >= 1 && iterations <= MAX_WORK_ITERATIONS)) {
          return fail(badArgument(`query n must be 1..${MAX_WORK_ITERATIONS}, got '${raw}'`));
        }
        const digest = iteratedSha256(request.body, iterations).toString('hex');
        return respond({ status: 200, contentType: 'text/plain', body: digest });
      }
      case 'ROOM_POST': {
        const nick = request.headers.get('x-nick') ?? 'http';
        if (!isValidName(route.room)) return fail(badArgument(`invalid room '${route.room}'`));
        if (!isClaimableNick(nick)) return fail(badArgument(`invalid X-Nick '${nick}'`));
        if (!isUtf8(request.body)) return fail(new ProtocolError('BAD_FRAME', 'message body is not valid UTF-8'));
        const text = request.body.toString('utf8');
        if (!isValidChatText(text)) return fail(badArgument('chat text must not contain CR or LF'));
        const unavailable = hub.unavailable();
        if (unavailable !== undefined) return fail(unavailable);
        hub.post(route.room, nick, text);
        return respond({ status: 202, contentType: 'text/plain', body: 'accepted' });
      }
      case 'ROOM_GET':
        if (!isValidName(route.room)) return fail(badArgument(`invalid room '${route.room}'`));
        return this.await<HubResult<RoomMembers>>(
          (done) => hub.members(route.room, done),
          (result) => {
            if (!result.ok) return fail(result.error);
            const { room, nicks } = result.value;
            respond({ status: 200, contentType: 'application/json', body: JSON.stringify({ room, members: nicks }) });
          },
        );
      case 'INFO':
        // Indented: a person reads /info in a browser or curl; programs parse it the same.
        return this.await<ServerInfo>(
          (done) => server.info(done),
          (info) => respond({ status: 200, contentType: 'application/json', body: `${JSON.stringify(this.describe(info), null, 2)}\n` }),
        );
      case 'STATUS':
        return this.await<ServerInfo>(
          (done) => server.info(done),
          (info) =>
            this.await<string>(
              (done) => server.metrics(done),
              (text) => respond({ status: 200, contentType: 'text/html; charset=utf-8', body: renderStatusPage(info, text) }),
            ),
        );
      case 'METRICS':
        return this.await<string>(
          (done) => server.metrics(done),
          (text) => respond({ status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: text }),
        );
      case 'FILES':
      case 'FILE':
        if (this.files === undefined) return fail(new ProtocolError('UNKNOWN_COMMAND', `no route for ${request.method} ${request.path}`));
        if (route.name === 'FILES') return this.files.list('http', request);
        if (request.method === 'PUT') return this.files.put('http', route.file, request.body.length, request);
        return this.files.get('http', route.file, request);
    }
  }

  /** What the file service may do to this session. */
  private fileHost(): FileServiceHost {
    return {
      send: (bytes) => {
        this.queue(bytes);
        this.flush();
      },
      whenWritable: (ready) => {
        const { transport } = this.options;
        if (transport.whenWritable === undefined) ready();
        else transport.whenWritable(ready);
      },
      isClosed: () => this.closed,
      hold: () => {
        this.pending = true;
        // A transfer that moves is not idle: the clock restarts when the next request is awaited.
        if (this.timerMode !== 'none') this.options.transport.setTimer(undefined);
        this.timerMode = 'none';
      },
      release: () => {
        if (this.closed || !this.pending) return;
        this.pending = false;
        this.completedRequests += 1;
        if (!this.processing) this.process();
      },
      holdInput: (held) => this.options.transport.holdInput?.(held),
      fail: (error) => this.fail(error),
      respondHttp: (request, response, error) => this.respondHttp(request, response, error),
      keepAlive: (request) => request.keepAlive && !this.shuttingDown,
      close: () => this.close(),
    };
  }

  private respondHttp(request: HttpRequest, response: HttpResponse, error?: ProtocolError): void {
    if (error !== undefined) this.options.stats.countError(error.code);
    const fatal = error?.fatal === true;
    const keepAlive = request.keepAlive && !fatal && !this.shuttingDown;
    this.queue(encodeHttpResponse(response, { version: request.version, keepAlive, headOnly: request.method === 'HEAD' }));
    if (!keepAlive) this.close();
  }

  private failHttp(request: HttpRequest, error: ProtocolError): void {
    this.respondHttp(request, { status: error.httpStatus, contentType: 'text/plain', body: error.toString() }, error);
  }

  /** Sends ERR in the connection's dialect (text while it is unknown); a fatal one closes. */
  private fail(error: ProtocolError): void {
    if (this.closed) return;
    this.options.stats.countError(error.code);
    if (this.dialect === 'http') {
      const response = encodeHttpResponse(
        { status: error.httpStatus, contentType: 'text/plain', body: error.toString() },
        { version: '1.1', keepAlive: !error.fatal, headOnly: false },
      );
      this.queue(response);
    } else {
      this.queue(this.encode({ kind: 'ERR', error }));
    }
    if (error.fatal) this.close();
  }

  private finishShutdown(): void {
    this.fail(new ProtocolError('SHUTTING_DOWN', 'the server is shutting down'));
    this.flush();
  }

  private describe(info: object): object {
    // HTTP connections take no guest nick and join no room: they report null for both.
    const nick = this.dialect === 'http' ? null : this.nick;
    return { ...info, servedBy: this.options.servedBy, connectionId: this.id, nick, room: this.room ?? null };
  }

  /** Runs a hub or server call; later requests wait for it, whether it completes now or later. */
  private await<T>(call: (done: (value: T) => void) => void, then: (value: T) => void): void {
    this.pending = true;
    call((value) => {
      if (this.closed) return;
      this.pending = false;
      then(value);
      if (!this.processing) this.process();
    });
  }

  private reply(message: ServerMessage): void {
    this.queue(this.encode(message));
  }

  private encode(message: ServerMessage): Buffer {
    return this.dialect === 'binary' ? encodeBinaryMessage(message) : encodeTextMessage(message);
  }

  private queue(bytes: Buffer): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
  }

  private flush(pushed = false): void {
    if (this.out.length === 0) return;
    const bytes = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out, this.outBytes);
    emptyKeepingCapacity(this.out);
    this.outBytes = 0;
    this.options.stats.bytesSent += bytes.length;
    this.options.transport.write(bytes, pushed);
  }

  private close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.files?.abort();
    if (this.timerMode !== 'none') this.options.transport.setTimer(undefined);
    this.timerMode = 'none';
    this.detach();
    this.options.transport.close();
  }

  private detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.options.hub.detach(this.id);
  }

  /** Arms, re-arms or disarms the idle timer for the state the connection is in now. */
  private updateTimer(): void {
    const { idleTimeoutMs } = this.options.limits;
    if (idleTimeoutMs === 0 || this.closed) return;
    let mode: TimerMode;
    const decoder = this.decoder;
    if (decoder === undefined) mode = this.sniffed.length > 0 ? 'request' : 'silent';
    else if (decoder instanceof HttpRequestDecoder) mode = decoder.inProgress ? 'request' : 'silent';
    else mode = decoder.buffered > 0 || (decoder instanceof LineDecoder && decoder.rawRemaining > 0) ? 'request' : 'none';
    const completed = this.completedRequests > 0;
    this.completedRequests = 0;
    // A request that completed restarts the clock for the next one (or for keep-alive idleness).
    if (mode === this.timerMode && !(completed && mode !== 'none')) return;
    this.timerMode = mode;
    this.options.transport.setTimer(mode === 'none' ? undefined : idleTimeoutMs);
  }
}

/**
 * Empties a list that fills again at once (one connection's output, a turn's dirty connections):
 * `length = 0` would make V8 drop its backing store and the next push allocate it again.
 */
export function emptyKeepingCapacity(list: unknown[]): void {
  while (list.length > 0) list.pop();
}

const badArgument = (message: string): ProtocolError => new ProtocolError('BAD_ARGUMENT', message);
const notInRoom = (): ProtocolError => new ProtocolError('NOT_IN_ROOM', 'join a room first');

/** The limits a session needs, taken from the server's config (plain data, so it crosses to workers and children). */
export const sessionLimits = (config: SessionLimits): SessionLimits => ({
  maxFrame: config.maxFrame,
  maxLine: config.maxLine,
  idleTimeoutMs: config.idleTimeoutMs,
  maxOutbound: config.maxOutbound,
  filesDir: config.filesDir,
  maxFile: config.maxFile,
});
