/** Behind a relay (a worker's or child's RemoteHub), one push to 100 members is still encoded once there, its bytes shared. */
import { describe, expect, it } from 'vitest';
import { type HubCall, type HubEvent, HubRelay, LocalHub, RemoteHub, ServerStats, Session, type SessionTransport } from '../src/index.js';
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

/** One "worker": its sessions reach the LocalHub through a RemoteHub and a HubRelay, every message structured-cloned as a MessagePort would. */
function worker(members: number) {
  const relay = new HubRelay(new LocalHub());
  const remote: RemoteHub = new RemoteHub((call: HubCall) => relay.handle(channel, structuredClone(call)));
  const channel = relay.connect((event: HubEvent) => remote.receive(structuredClone(event)));
  const stats = new ServerStats();
  const join = (id: number) => {
    const transport = new KeepingTransport();
    const session = new Session({ id, limits, hub: remote, server: view, stats, transport, servedBy: 'worker' });
    session.receive(Buffer.from('JOIN lobby\n'));
    return { session, transport };
  };
  const publisher = join(1);
  const listeners = Array.from({ length: members }, (_, index) => join(index + 2));
  for (const listener of [publisher, ...listeners]) listener.transport.written.length = 0;
  return { stats, publisher, listeners };
}

describe('push encoding behind a relay', () => {
  it('encodes one SAY to 100 members of one worker once, and hands each the same bytes', () => {
    const { stats, publisher, listeners } = worker(100);
    const before = stats.snapshot().pushEncodings;
    publisher.session.receive(Buffer.from('SAY through the relay\n'));
    expect(stats.snapshot().pushEncodings - before).toBe(1);
    const first = listeners[0]?.transport.written[0];
    expect(first?.toString()).toBe('MSG lobby guest-1 through the relay\n');
    for (const listener of listeners) {
      expect(listener.transport.written).toHaveLength(1);
      expect(listener.transport.written[0]).toBe(first);
    }
  });

  it('encodes each of a turn of SAYs once, however the relay batches them', () => {
    const { stats, publisher, listeners } = worker(100);
    const before = stats.snapshot().pushEncodings;
    publisher.session.receive(Buffer.from('SAY one\nSAY two\nSAY three\n'));
    expect(stats.snapshot().pushEncodings - before).toBe(3);
    for (const listener of listeners) expect(listener.transport.written.map(String).join('')).toMatch(/one\n.*two\n.*three\n$/s);
  });
});
