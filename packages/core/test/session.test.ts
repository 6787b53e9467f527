/** The Session as a client sees it, without sockets: requests in, replies and pushes out. */
import { encodeBinaryRequest, encodeFrame } from '@echoplex/protocol';
import { describe, expect, it } from 'vitest';
import { LocalHub } from '../src/index.js';
import { connect, limits } from './session-harness.js';

describe('Session, text dialect', () => {
  it('answers the commands of the table', () => {
    const { send, transport } = connect();
    send('PING\nping tok\nECHO hello world\nWORK 1 abc\nfoo\n\nNICK guest-3\n');
    expect(transport.take()).toBe(
      'PONG\nPONG tok\nECHO hello world\nWORK ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n' +
        "ERR UNKNOWN_COMMAND foo (HELP lists the commands)\nERR BAD_ARGUMENT invalid nick 'guest-3': 1-32 of [A-Za-z0-9_-], not starting with guest-\n",
    );
  });

  it('answers HELP with the commands, and stays open', () => {
    const { send, transport } = connect();
    send('help\nPING\n');
    expect(transport.take()).toBe('HELP ECHO PING NICK JOIN SAY WHO LEAVE WORK INFO QUIT HELP\nPONG\n');
    expect(transport.closed).toBe(false);
  });

  it('gives the same replies however the bytes are cut', () => {
    const whole = connect();
    const cut = connect();
    const input = 'PING a\r\nECHO x y\nWHO\n';
    whole.send(input);
    for (const ch of input) cut.send(ch);
    expect(cut.transport.take()).toBe(whole.transport.take());
  });

  it('lets two members chat and see each other come and go', () => {
    const hub = new LocalHub();
    const alice = connect(hub);
    const bob = connect(hub);
    alice.send('NICK alice\nJOIN lobby\n');
    bob.send('NICK bob\nJOIN lobby\nSAY hi there\nWHO\n');
    expect(bob.transport.take()).toBe('OK NICK bob\nOK JOIN lobby\nWHO lobby alice bob\n');
    expect(alice.transport.take()).toBe('OK NICK alice\nOK JOIN lobby\nJOINED lobby bob\nMSG lobby bob hi there\n');
    bob.send('QUIT\n');
    expect(bob.transport.take()).toBe('BYE\n');
    expect(bob.transport.closed).toBe(true);
    expect(alice.transport.take()).toBe('LEFT lobby bob\n');
  });

  it('keeps nicks unique and frees them on disconnect', () => {
    const hub = new LocalHub();
    const first = connect(hub);
    const second = connect(hub);
    first.send('NICK sam\n');
    second.send('NICK sam\n');
    expect(second.transport.take()).toBe('ERR NICK_TAKEN sam is taken\n');
    first.session.abort();
    second.send('NICK sam\n');
    expect(second.transport.take()).toBe('OK NICK sam\n');
  });

  it('refuses SAY, WHO and LEAVE outside a room, and chat text with CR', () => {
    const { send, transport } = connect();
    send('SAY hi\nWHO\nLEAVE\nJOIN bad room\n');
    expect(transport.take()).toBe(
      "ERR NOT_IN_ROOM join a room first\nERR NOT_IN_ROOM join a room first\nERR NOT_IN_ROOM join a room first\nERR BAD_ARGUMENT invalid room 'bad room': 1-32 of [A-Za-z0-9_-]\n",
    );
  });

  it('closes with TOO_LARGE on a line over max-line', () => {
    const { send, transport } = connect();
    send('x'.repeat(limits.maxLine + 10));
    expect(transport.take()).toBe(`ERR TOO_LARGE line over the limit of ${limits.maxLine} bytes\n`);
    expect(transport.closed).toBe(true);
  });
});

describe('Session, binary dialect', () => {
  it('answers frames with frames', () => {
    const { session, transport } = connect();
    session.receive(Buffer.concat([encodeBinaryRequest({ command: 'ECHO', data: Buffer.from('hi') }), encodeFrame(0x42)]));
    expect(transport.takeMessages()).toEqual([
      { kind: 'ECHO', data: Buffer.from('hi') },
      { kind: 'ERR', error: expect.objectContaining({ code: 'UNKNOWN_COMMAND' }) },
    ]);
    expect(transport.closed).toBe(false);
  });

  it('refuses an oversized length at once, then closes', () => {
    const { session, transport } = connect();
    session.receive(Buffer.from([0, 0, 0x10, 0]));
    expect(transport.takeMessages()[0]).toMatchObject({ kind: 'ERR', error: { code: 'TOO_LARGE' } });
    expect(transport.closed).toBe(true);
  });

  it('drops a member whose pushed output passes max-outbound with SLOW_CONSUMER', () => {
    const hub = new LocalHub();
    const reader = connect(hub);
    const stalled = connect(hub);
    reader.session.receive(encodeBinaryRequest({ command: 'JOIN', room: 'r' }));
    stalled.session.receive(encodeBinaryRequest({ command: 'JOIN', room: 'r' }));
    stalled.transport.backlog = limits.maxOutbound;
    reader.session.receive(encodeBinaryRequest({ command: 'SAY', text: 'hello' }));
    const messages = stalled.transport.takeMessages();
    expect(messages.at(-1)).toMatchObject({ kind: 'ERR', error: { code: 'SLOW_CONSUMER' } });
    expect(stalled.transport.closed).toBe(true);
    expect(reader.transport.closed).toBe(false);
  });
});

describe('Session, HTTP dialect', () => {
  it('routes, answers 405 with Allow, and keeps the connection alive', () => {
    const { send, transport } = connect();
    send('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiPUT /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = transport.take();
    expect(text).toContain('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\n\r\nhi');
    expect(text).toContain('HTTP/1.1 405 Method Not Allowed');
    expect(text).toContain('Allow: GET, HEAD');
    expect(transport.closed).toBe(false);
  });

  it('posts to a room whose text members get MSG', () => {
    const hub = new LocalHub();
    const member = connect(hub);
    member.send('JOIN lobby\n');
    member.transport.take();
    const poster = connect(hub);
    poster.send('POST /rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nX-Nick: web\r\nContent-Length: 5\r\n\r\nhello');
    expect(poster.transport.take()).toMatch(/^HTTP\/1\.1 202 /);
    expect(member.transport.take()).toBe('MSG lobby web hello\n');
  });

  it('closes after a response to Connection: close', () => {
    const { send, transport } = connect();
    send('GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(transport.take()).toContain('Connection: close');
    expect(transport.closed).toBe(true);
  });
});

describe('Session limits and lifecycle', () => {
  it('closes silently when nothing arrives before the idle timeout', () => {
    const { session, transport } = connect();
    expect(transport.timer).toBe(limits.idleTimeoutMs);
    session.timeout();
    expect(transport.take()).toBe('');
    expect(transport.closed).toBe(true);
  });

  it('answers TIMEOUT to a request left unfinished, and does not time out between requests', () => {
    const { session, transport, send } = connect();
    send('PING\n');
    expect(transport.timer).toBeUndefined();
    send('PI');
    expect(transport.timer).toBe(limits.idleTimeoutMs);
    session.timeout();
    expect(transport.take()).toBe('PONG\nERR TIMEOUT request not completed within 1 s\n');
    expect(transport.closed).toBe(true);
  });

  it('answers BUSY in the dialect of the first request, then closes', () => {
    const { send, transport } = connect(new LocalHub(), { busy: true });
    send('PING\n');
    expect(transport.take()).toBe('ERR BUSY the server is at its connection limit\n');
    expect(transport.closed).toBe(true);
  });

  it('on shutdown, answers SHUTTING_DOWN where the dialect is known and closes silently otherwise', () => {
    const known = connect();
    known.send('PING\n');
    known.transport.take();
    known.session.shutdown();
    expect(known.transport.take()).toBe('ERR SHUTTING_DOWN the server is shutting down\n');
    const unknown = connect();
    unknown.session.shutdown();
    expect(unknown.transport.take()).toBe('');
    expect(unknown.transport.closed).toBe(true);
  });
});
