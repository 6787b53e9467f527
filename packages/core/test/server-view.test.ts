/** RemoteView and ViewRelay across a channel: INFO and /metrics answered by the parent, counters collected with one timeout, retired counters kept. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isViewMessage,
  RemoteView,
  RetiredStats,
  type ServerInfo,
  ServerStats,
  type ViewFromParent,
  type ViewToParent,
} from '../src/index.js';
import { STATS_TIMEOUT_MS, type ViewChannel, ViewRelay } from '../src/node.js';

const INFO: ServerInfo = { model: 'test', pid: 1, threads: 2, processes: 1, connections: 3, uptimeSeconds: 0, protocol: 1 };

/** A parent and one child, their messages delivered at once; `busy` holds what the child would receive. */
function pair() {
  const stats = new ServerStats();
  let busy = false;
  const held: ViewFromParent[] = [];
  let channel: ViewChannel | undefined;
  const child = new RemoteView(
    (message: ViewToParent) => channel?.receive(message),
    () => stats.snapshot(),
  );
  const relay = new ViewRelay({ info: (done) => done(INFO), metrics: (done) => done('# the whole server\n') });
  channel = relay.connect((message) => (busy ? held.push(message) : child.receive(message)));
  return {
    stats,
    child,
    channel,
    setBusy: (value: boolean) => {
      busy = value;
      if (!value) for (const message of held.splice(0)) child.receive(message);
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the server view across a boundary', () => {
  it("answers a child's INFO and /metrics from the parent's view", () => {
    const { child } = pair();
    const answers: unknown[] = [];
    child.info((info) => answers.push(info));
    child.metrics((text) => answers.push(text));
    expect(answers).toEqual([INFO, '# the whole server\n']);
  });

  it("collects a child's counters, and the last ones it sent while it is busy past the timeout", async () => {
    vi.useFakeTimers();
    const { stats, channel, setBusy } = pair();
    stats.bytesReceived = 5;
    expect((await channel.stats())?.bytesReceived).toBe(5);
    stats.bytesReceived = 9;
    setBusy(true);
    const late = channel.stats();
    await vi.advanceTimersByTimeAsync(STATS_TIMEOUT_MS);
    expect((await late)?.bytesReceived, 'the last counters it sent stand in').toBe(5);
  });

  it('answers undefined for a child gone, whose counters a RetiredStats keeps once', async () => {
    const { stats, channel, setBusy } = pair();
    stats.bytesSent = 7;
    await channel.stats();
    setBusy(true);
    const pending = channel.stats();
    channel.close();
    expect(await pending).toBeUndefined();
    expect(await channel.stats()).toBeUndefined();
    const retired = new RetiredStats();
    retired.add(channel.lastSnapshot);
    const live = new ServerStats();
    live.bytesSent = 1;
    expect(retired.plus([live.snapshot(), undefined]).bytesSent).toBe(8);
  });

  it("tells the view's messages from a port's others", () => {
    const messages: ({ kind: 'hub' } | ViewToParent)[] = [{ kind: 'hub' }, { kind: 'info', call: 1 }];
    expect(messages.map((message) => isViewMessage(message))).toEqual([false, true]);
  });
});
