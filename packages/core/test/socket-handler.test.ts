/** HandlerConnection as a handler's loop uses it: replies handed back for sendall, pushes sent at once, the idle timer as a recv timeout. */
import { describe, expect, it, vi } from 'vitest';
import { HandlerConnection, type HandlerSocket, LocalHub, ServerStats, type ServerView } from '../src/index.js';
import { limits, view } from './session-harness.js';

/** A socket that records what the connection sends it; `sendall` blocks nothing (or returns `result`). */
class RecordingSocket implements HandlerSocket {
  readonly sent: string[] = [];
  closed = false;
  queued = 0;
  result: Promise<void> | undefined;

  sendall(bytes: Uint8Array): void | Promise<void> {
    this.sent.push(Buffer.from(bytes).toString('utf8'));
    return this.result;
  }
  outboundBytes(): number {
    return this.queued;
  }
  close(): void {
    this.closed = true;
  }
}

let nextId = 0;
function handlerConnection(hub = new LocalHub(), idleTimeoutMs = limits.idleTimeoutMs) {
  const socket = new RecordingSocket();
  nextId += 1;
  const connection = new HandlerConnection(socket, {
    id: nextId,
    limits: { ...limits, idleTimeoutMs },
    hub,
    server: view,
    stats: new ServerStats(),
    servedBy: 'test',
  });
  return { socket, connection, receive: (text: string) => Buffer.from(connection.receive(Buffer.from(text))).toString('utf8') };
}

describe('HandlerConnection', () => {
  it('hands the replies to what it received back to the loop, and sends nothing itself', () => {
    const { socket, receive } = handlerConnection();
    expect(receive('PING a\nECHO b\n')).toBe('PONG a\nECHO b\n');
    expect(receive('NICK x\nJOIN lobby\nSAY hi\n')).toBe('OK NICK x\nOK JOIN lobby\n');
    expect(receive('SAY only a push to others\n')).toBe('');
    expect(socket.sent).toEqual([]);
  });

  it('sends a push to the socket at once, while the loop waits in recv', () => {
    const hub = new LocalHub();
    const alice = handlerConnection(hub);
    const bob = handlerConnection(hub);
    alice.receive('NICK alice\nJOIN lobby\n');
    bob.receive('NICK bob\nJOIN lobby\nSAY hello\n');
    expect(alice.socket.sent).toEqual(['JOINED lobby bob\n', 'MSG lobby bob hello\n']);
  });

  it("hands a push to the socket's push when it has one, and the rest of what it sends outside the loop to sendall", () => {
    const hub = new LocalHub();
    const pushed: string[] = [];
    const alice = handlerConnection(hub, 50);
    Object.assign(alice.socket, { push: (bytes: Uint8Array) => pushed.push(Buffer.from(bytes).toString('utf8')) });
    const bob = handlerConnection(hub);
    alice.receive('NICK alice\nJOIN lobby\n');
    bob.receive('NICK bob\nJOIN lobby\nSAY hello\n');
    expect(pushed).toEqual(['JOINED lobby bob\n', 'MSG lobby bob hello\n']);
    expect(alice.socket.sent).toEqual([]);
    // A request cut short, then its timer: ERR TIMEOUT is no push.
    alice.receive('PIN');
    alice.connection.session.timeout();
    expect(alice.socket.sent).toEqual([expect.stringMatching(/^ERR TIMEOUT /)]);
  });

  it('keeps a rejected push from going unhandled: the loop learns of the failure at its next recv', async () => {
    const hub = new LocalHub();
    const alice = handlerConnection(hub);
    const bob = handlerConnection(hub);
    alice.receive('NICK alice\nJOIN lobby\n');
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    alice.socket.result = Promise.reject(new Error('EPIPE'));
    bob.receive('NICK bob\nJOIN lobby\n');
    await new Promise((resolve) => setTimeout(resolve, 10));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
    expect(alice.socket.sent).toEqual(['JOINED lobby bob\n']);
  });

  it('leaves the socket open for the loop when the session closes while receiving, so the BYE goes first', () => {
    const { socket, connection, receive } = handlerConnection();
    expect(receive('QUIT\n')).toBe('BYE\n');
    expect(connection.session.isClosed).toBe(true);
    expect(socket.closed).toBe(false);
  });

  it('closes the socket itself when the session closes outside receive (an idle timeout)', () => {
    const { socket, connection } = handlerConnection();
    connection.session.timeout();
    expect(connection.session.isClosed).toBe(true);
    expect(socket.closed).toBe(true);
  });

  it('turns the idle timer into the next recv timeout: none between requests, the rest of the period mid-request', () => {
    const { connection, receive } = handlerConnection(new LocalHub(), 2_000);
    const silent = connection.timeout();
    expect(silent).not.toBeNull();
    expect(silent as number).toBeLessThanOrEqual(2);
    expect(silent as number).toBeGreaterThan(1.5);
    receive('PING\n');
    expect(connection.timeout()).toBeNull();
    receive('PIN');
    expect(connection.timeout() as number).toBeGreaterThan(1.5);
  });

  it('checks pushes against --max-outbound with what the socket has not sent yet', () => {
    const hub = new LocalHub();
    const alice = handlerConnection(hub);
    const bob = handlerConnection(hub);
    alice.receive('NICK alice\nJOIN lobby\n');
    bob.receive('NICK bob\nJOIN lobby\n');
    alice.socket.queued = limits.maxOutbound;
    bob.receive('SAY one too many\n');
    expect(alice.socket.sent.at(-1)).toMatch(/^ERR SLOW_CONSUMER /);
    expect(alice.connection.session.isClosed).toBe(true);
  });

  it("after the peer's FIN, resolves closed() only once a call still under way was answered", async () => {
    let answer: ((text: string) => void) | undefined;
    const slowView: ServerView = { ...view, metrics: (done) => (answer = done) };
    const socket = new RecordingSocket();
    const connection = new HandlerConnection(socket, {
      id: 999,
      limits,
      hub: new LocalHub(),
      server: slowView,
      stats: new ServerStats(),
      servedBy: 'test',
    });
    expect(connection.receive(Buffer.from('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')).length).toBe(0);
    connection.session.end();
    let closed = false;
    const closing = connection.closed().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);
    answer?.('# metrics\n');
    await closing;
    expect(socket.sent.join('')).toMatch(/^HTTP\/1\.1 200 /);
    expect(socket.closed).toBe(true);
  });
});
