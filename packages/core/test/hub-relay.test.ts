/** RemoteHub and HubRelay together behave like a LocalHub, whatever the channel's latency. */

import { ProtocolError } from '@echoplex/protocol';
import { describe, expect, it } from 'vitest';
import { type Hub, type HubCall, type HubEvent, HubRelay, LocalHub, RemoteHub } from '../src/index.js';
import { connect } from './session-harness.js';

/** Two "workers" whose messages to and from the authority are queued and delivered later, in order. */
function twoWorkers() {
  const relay = new HubRelay(new LocalHub());
  const queue: (() => void)[] = [];
  const worker = () => {
    const remote: RemoteHub = new RemoteHub((call: HubCall) => queue.push(() => relay.handle(channel, structuredClone(call))));
    const channel = relay.connect((event: HubEvent) => queue.push(() => remote.receive(structuredClone(event))));
    return { remote, channel };
  };
  const run = () => {
    while (queue.length > 0) queue.shift()?.();
  };
  return { relay, a: worker(), b: worker(), run };
}

describe('HubRelay with RemoteHub', () => {
  it('carries chat between sessions on different workers, in each sender order', () => {
    const { a, b, run } = twoWorkers();
    const alice = connect(a.remote);
    const bob = connect(b.remote);
    alice.send('NICK alice\nJOIN lobby\n');
    run();
    bob.send('NICK alice\nNICK bob\nJOIN lobby\nSAY one\nSAY two\nSAY three\nWHO\n');
    run();
    expect(bob.transport.take()).toBe('ERR NICK_TAKEN alice is taken\nOK NICK bob\nOK JOIN lobby\nWHO lobby alice bob\n');
    expect(alice.transport.take()).toBe(
      'OK NICK alice\nOK JOIN lobby\nJOINED lobby bob\nMSG lobby bob one\nMSG lobby bob two\nMSG lobby bob three\n',
    );
  });

  it('detaches every member of a channel whose worker is gone', () => {
    const { relay, a, b, run } = twoWorkers();
    const alice = connect(a.remote);
    const bob = connect(b.remote);
    alice.send('JOIN lobby\n');
    bob.send('NICK bob\nJOIN lobby\n');
    run();
    alice.transport.take();
    relay.disconnect(b.channel);
    run();
    expect(alice.transport.take()).toBe('LEFT lobby bob\n');
    alice.send('NICK bob\n');
    run();
    expect(alice.transport.take()).toBe('OK NICK bob\n');
  });

  it('tells a client connected while the hub is away at once, before it makes any call, and again when it is back', () => {
    let away: ProtocolError | undefined = new ProtocolError('UNAVAILABLE', 'the hub is unreachable');
    const hub: Hub = Object.assign(new LocalHub(), { unavailable: () => away });
    const relay = new HubRelay(hub);
    const remote = new RemoteHub(() => {});
    relay.connect((event) => remote.receive(structuredClone(event)));
    expect(remote.unavailable()?.code).toBe('UNAVAILABLE');
    away = undefined;
    relay.availabilityChanged();
    expect(remote.unavailable()).toBeUndefined();
  });
});
