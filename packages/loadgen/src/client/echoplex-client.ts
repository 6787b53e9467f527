/**
 * A typed client for every request of PROTOCOL.md, over the binary dialect by default or the
 * text dialect on request. Replies come back in request order; pushes go to listeners.
 */
import net from 'node:net';
import {
  encodeBinaryRequest,
  formatTextRequest,
  type Push,
  type Reply,
  type Request,
  type ServerInfo,
  type ServerMessage,
} from '@echoplex/protocol';
import { connectOptions, type Target } from '../target.js';
import { ConnectionClosedError, EchoplexError } from './echoplex-error.js';
import { type ClientDialect, createMessageReader, type MessageReader } from './message-reader.js';

export interface ClientOptions {
  readonly dialect?: ClientDialect;
  /** Largest frame body or line accepted from the server (default 1 MiB + 64 KiB). */
  readonly maxMessage?: number;
  /** Give up connecting after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

type PushListener = (push: Push) => void;
type NoticeListener = (reply: Reply) => void;

/** One request waiting for its reply. A SAY waits for the PING sent right behind it. */
interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  /** Set for SAY: the token of the barrier PING, and an ERR that came before its PONG. */
  readonly barrier?: string;
  sayError?: Reply;
}

const isPush = (message: ServerMessage): message is Push => message.kind === 'MSG' || message.kind === 'JOINED' || message.kind === 'LEFT';

const hasLineBreak = (bytes: Uint8Array): boolean => bytes.includes(0x0a) || bytes.includes(0x0d);

export class EchoplexClient {
  readonly dialect: ClientDialect;
  /** Settles when the connection has closed, for whatever reason. */
  readonly closed: Promise<void>;
  private readonly reader: MessageReader;
  private readonly pending: Pending[] = [];
  private readonly pushListeners = new Set<PushListener>();
  private readonly noticeListeners = new Set<NoticeListener>();
  private closeError: Error | undefined;
  private barriers = 0;

  private constructor(
    private readonly socket: net.Socket,
    dialect: ClientDialect,
    maxMessage: number,
  ) {
    this.dialect = dialect;
    this.reader = createMessageReader(dialect, maxMessage);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => {
      this.closeError = error;
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.failAll(this.closeError ?? new ConnectionClosedError('connection closed'));
        resolve();
      });
    });
  }

  /** Opens a connection to `target`; rejects if it cannot within the timeout. */
  static connect(target: Target, options: ClientOptions = {}): Promise<EchoplexClient> {
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = net.connect(connectOptions(target));
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionClosedError(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new EchoplexClient(socket, options.dialect ?? 'binary', options.maxMessage ?? 1024 * 1024 + 65536));
      });
    });
  }

  /** Calls `listener` with every MSG, JOINED and LEFT; returns the function that unsubscribes. */
  onPush(listener: PushListener): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  /** Calls `listener` with replies nobody asked for: ERR SHUTTING_DOWN, SLOW_CONSUMER, TIMEOUT. */
  onNotice(listener: NoticeListener): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /** Sends one request and resolves with its reply, ERR included (an error as a value). */
  request(request: Request): Promise<Reply> {
    if (request.command === 'SAY') return this.sayRequest(request.text);
    return new Promise((resolve, reject) => {
      if (!this.writable(reject)) return;
      this.pending.push({ resolve, reject });
      this.socket.write(this.encode(request));
    });
  }

  async echo(data: Uint8Array | string): Promise<Buffer> {
    const reply = expect(await this.request({ command: 'ECHO', data: bytes(data) }), 'ECHO');
    return Buffer.from(reply.data);
  }

  async ping(token: Uint8Array | string = ''): Promise<Buffer> {
    const reply = expect(await this.request({ command: 'PING', token: bytes(token) }), 'PONG');
    return Buffer.from(reply.token);
  }

  async nick(nick: string): Promise<string> {
    return expect(await this.request({ command: 'NICK', nick }), 'NICK').nick;
  }

  async join(room: string): Promise<string> {
    return expect(await this.request({ command: 'JOIN', room }), 'JOIN').room;
  }

  async leave(): Promise<string> {
    return expect(await this.request({ command: 'LEAVE' }), 'LEAVE').room;
  }

  /** Resolves once the server has taken the message (SAY has no reply of its own on success). */
  async say(text: string): Promise<void> {
    const reply = await this.request({ command: 'SAY', text });
    if (reply.kind === 'ERR') throw new EchoplexError(reply.error);
  }

  async who(): Promise<{ readonly room: string; readonly nicks: readonly string[] }> {
    const reply = expect(await this.request({ command: 'WHO' }), 'WHO');
    return { room: reply.room, nicks: reply.nicks };
  }

  async work(iterations: number, data: Uint8Array | string): Promise<Buffer> {
    const reply = expect(await this.request({ command: 'WORK', iterations, data: bytes(data) }), 'WORK');
    return Buffer.from(reply.digest);
  }

  async info(): Promise<ServerInfo> {
    return JSON.parse(expect(await this.request({ command: 'INFO' }), 'INFO').json) as ServerInfo;
  }

  /** Sends QUIT, waits for BYE and for the server to close. */
  async quit(): Promise<void> {
    expect(await this.request({ command: 'QUIT' }), 'BYE');
    await this.closed;
  }

  /** Closes at once, without QUIT; pending requests reject. */
  close(): void {
    this.socket.destroy();
  }

  /**
   * SAY has no reply on success, so a PING with a private token follows it: an ERR before
   * that PONG belongs to the SAY, the PONG alone means it was taken.
   */
  private sayRequest(text: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (!this.writable(reject)) return;
      const barrier = `say-barrier-${++this.barriers}`;
      this.pending.push({ resolve, reject, barrier });
      this.socket.write(this.encode({ command: 'SAY', text }));
      this.socket.write(this.encode({ command: 'PING', token: Buffer.from(barrier) }));
    });
  }

  private writable(reject: (error: Error) => void): boolean {
    if (this.socket.destroyed || !this.socket.writable) {
      reject(this.closeError ?? new ConnectionClosedError('connection closed'));
      return false;
    }
    return true;
  }

  private encode(request: Request): Buffer {
    if (this.dialect === 'binary') return encodeBinaryRequest(request);
    const argument =
      request.command === 'ECHO' || request.command === 'WORK'
        ? request.data
        : request.command === 'PING'
          ? request.token
          : request.command === 'SAY'
            ? Buffer.from(request.text)
            : undefined;
    if (argument !== undefined && hasLineBreak(argument)) {
      throw new RangeError(`${request.command} over the text dialect cannot carry CR or LF`);
    }
    return formatTextRequest(request);
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    // One chunk holds at most chunk.length messages: the bound keeps the loop finite.
    for (let i = 0; i <= chunk.length; i++) {
      let message: ServerMessage | undefined;
      try {
        message = this.reader.next();
      } catch (error) {
        this.closeError = error instanceof Error ? error : new Error(String(error));
        this.socket.destroy();
        return;
      }
      if (message === undefined) return;
      this.dispatch(message);
    }
  }

  private dispatch(message: ServerMessage): void {
    if (isPush(message)) {
      for (const listener of this.pushListeners) listener(message);
      return;
    }
    const head = this.pending[0];
    if (head === undefined) {
      for (const listener of this.noticeListeners) listener(message);
      return;
    }
    if (head.barrier !== undefined) {
      const isBarrier = message.kind === 'PONG' && Buffer.from(message.token).toString() === head.barrier;
      if (!isBarrier) {
        head.sayError ??= message;
        return;
      }
      this.pending.shift();
      head.resolve(head.sayError ?? message);
      return;
    }
    this.pending.shift();
    head.resolve(message);
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.splice(0)) pending.reject(error);
  }
}

function bytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** The reply if it is of the expected kind; an ERR becomes an `EchoplexError`. */
function expect<K extends Reply['kind']>(reply: Reply, kind: K): Extract<Reply, { kind: K }> {
  if (reply.kind === kind) return reply as Extract<Reply, { kind: K }>;
  if (reply.kind === 'ERR') throw new EchoplexError(reply.error);
  throw new Error(`expected a ${kind} reply, got ${reply.kind}`);
}
