/** A push is encoded once per dialect and its bytes are shared by every member: counted through /metrics. */
import { describe, expect, it } from 'vitest';
import { LocalHub, ServerStats, Session, type SessionTransport } from '../src/index.js';
import { MetricsExporter } from '../src/server.js';
import { limits, view } from './session-harness.js';

/** Keeps the very buffers it is given, so a test can tell shared bytes from copies. */
class KeepingTransport implements SessionTransport {
  readonly written: Buffer[] = [];
  write(bytes: Buffer): void {
    this.written.push(bytes);
  }
  outboundBytes(): number {
    return 0;
  }
  close(): void {}
  setTimer(): void {}
}

function room(members: number, dialectOf: (index: number) => 'text' | 'binary') {
  const hub = new LocalHub();
  const stats = new ServerStats();
  let nextId = 0;
  const join = (dialect: 'text' | 'binary') => {
    const transport = new KeepingTransport();
    nextId += 1;
    const session = new Session({ id: nextId, limits, hub, server: view, stats, transport, servedBy: 'test' });
    const join = dialect === 'text' ? Buffer.from('JOIN lobby\n') : Buffer.from([0, 0, 0, 6, 0x04, ...Buffer.from('lobby')]);
    session.receive(join);
    transport.written.length = 0;
    return { session, transport };
  };
  const publisher = join('text');
  const listeners = Array.from({ length: members }, (_, index) => join(dialectOf(index)));
  for (const listener of listeners) listener.transport.written.length = 0;
  return { stats, publisher, listeners };
}

const encodings = async (stats: ServerStats): Promise<number> => {
  const text = await new MetricsExporter('test').render({ connections: 0, stats: stats.snapshot() });
  const line = text.split('\n').find((l) => l.startsWith('echoplex_push_encodings_total{'));
  return Number(line?.split(' ').pop());
};

describe('push encoding', () => {
  it('encodes one SAY to 100 text members once, and hands every member the same bytes', async () => {
    const { stats, publisher, listeners } = room(100, () => 'text');
    const before = await encodings(stats);
    const pushedBefore = stats.pushedMessages;
    publisher.session.receive(Buffer.from('SAY hello all\n'));
    expect((await encodings(stats)) - before).toBe(1);
    expect(stats.pushedMessages - pushedBefore).toBe(100);
    const first = listeners[0]?.transport.written[0];
    expect(first?.toString()).toBe('MSG lobby guest-1 hello all\n');
    for (const listener of listeners) {
      expect(listener.transport.written).toHaveLength(1);
      expect(listener.transport.written[0]).toBe(first);
    }
  });

  it('encodes once per dialect when the room mixes text and binary members', async () => {
    const { stats, publisher, listeners } = room(100, (index) => (index % 2 === 0 ? 'text' : 'binary'));
    const before = await encodings(stats);
    publisher.session.receive(Buffer.from('SAY mixed\nSAY again\n'));
    expect((await encodings(stats)) - before).toBe(4);
    expect(listeners[0]?.transport.written.map(String).join('')).toBe('MSG lobby guest-1 mixed\nMSG lobby guest-1 again\n');
    expect(listeners[1]?.transport.written.map((bytes) => bytes[4]).join()).toBe(`${0xc0},${0xc0}`);
  });
});
