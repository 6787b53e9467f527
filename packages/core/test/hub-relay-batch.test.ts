/** HubRelay.handleAll: a turn's calls from one client are applied in order and their pushes cross as one event per client. */
import { describe, expect, it } from 'vitest';
import { type HubCall, type HubEvent, HubRelay, LocalHub, RemoteHub } from '../src/index.js';
import { connect } from './session-harness.js';

describe('HubRelay.handleAll', () => {
  it('sends the pushes of several SAYs as one event, delivered in order', () => {
    const relay = new HubRelay(new LocalHub());
    const toA: HubEvent[] = [];
    const calls: HubCall[] = [];
    let channelA: ReturnType<HubRelay['connect']> | undefined;
    const remoteA: RemoteHub = new RemoteHub((call) => relay.handle(channelA as ReturnType<HubRelay['connect']>, structuredClone(call)));
    channelA = relay.connect((event) => {
      toA.push(event);
      remoteA.receive(structuredClone(event));
    });
    const remoteB = new RemoteHub((call) => calls.push(call));
    const channelB = relay.connect((event) => remoteB.receive(structuredClone(event)));
    const alice = connect(remoteA);
    const bob = connect(remoteB);
    alice.send('NICK alice\nJOIN lobby\n');
    bob.send('NICK bob\nJOIN lobby\n');
    // Each result lets bob's session make its next call: a turn per call until it is done.
    while (calls.length > 0) relay.handleAll(channelB, calls.splice(0));
    alice.transport.take();
    bob.transport.take();
    toA.length = 0;
    bob.send('SAY one\nSAY two\nSAY three\nLEAVE\n');
    relay.handleAll(channelB, calls.splice(0));
    expect(toA.map((event) => event.op)).toEqual(['pushes']);
    expect(alice.transport.take()).toBe('MSG lobby bob one\nMSG lobby bob two\nMSG lobby bob three\nLEFT lobby bob\n');
    expect(bob.transport.take()).toBe('OK LEAVE lobby\n');
  });
});
