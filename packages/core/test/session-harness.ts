/** A sans-IO test bench: sessions on a recording transport and a shared hub, no sockets, no timers. */
import { decodeBinaryMessage, type Frame, FrameDecoder, type ServerMessage } from '@echoplex/protocol';
import { type Hub, LocalHub, ServerStats, type ServerView, Session, type SessionLimits, type SessionTransport } from '../src/index.js';

export const limits: SessionLimits = { maxFrame: 1024, maxLine: 256, idleTimeoutMs: 1000, maxOutbound: 4096 };

export const view: ServerView = {
  info: (done) => done({ model: 'test', pid: 1, threads: 1, processes: 1, connections: 0, uptimeSeconds: 0, protocol: 1 }),
  metrics: (done) => done('# metrics\n'),
};

/** A transport that records what the session does. `backlog` pretends the peer is not reading. */
export class RecordingTransport implements SessionTransport {
  readonly written: Buffer[] = [];
  closed = false;
  timer: number | undefined;
  backlog = 0;

  write(bytes: Buffer): void {
    this.written.push(Buffer.from(bytes));
  }
  outboundBytes(): number {
    return this.backlog;
  }
  close(): void {
    this.closed = true;
  }
  setTimer(ms: number | undefined): void {
    this.timer = ms;
  }
  /** Everything written so far, as one string, and forget it. */
  take(): string {
    const text = Buffer.concat(this.written).toString('utf8');
    this.written.length = 0;
    return text;
  }
  /** Everything written so far, as binary messages, and forget it. */
  takeMessages(): ServerMessage[] {
    const decoder = new FrameDecoder(1 << 20);
    decoder.push(Buffer.concat(this.written));
    this.written.length = 0;
    const out: ServerMessage[] = [];
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(decodeBinaryMessage(f as Frame));
    return out;
  }
}

let nextId = 0;

export function connect(hub: Hub = new LocalHub(), options: { busy?: boolean; limits?: SessionLimits } = {}) {
  const transport = new RecordingTransport();
  nextId += 1;
  const session = new Session({
    id: nextId,
    limits: options.limits ?? limits,
    hub,
    server: view,
    stats: new ServerStats(),
    transport,
    servedBy: 'test',
    ...(options.busy === undefined ? {} : { busy: options.busy }),
  });
  const send = (text: string) => session.receive(Buffer.from(text, 'utf8'));
  return { session, transport, send, id: nextId };
}
