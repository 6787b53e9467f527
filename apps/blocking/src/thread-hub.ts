/**
 * Rooms and nicks from a handler thread: core's RemoteHub over the thread's link, where a
 * call that needs an answer (NICK, JOIN, LEAVE, WHO) blocks the thread until the main
 * thread's HubRelay replies, as an RPC in a textbook server would. One-way calls (SAY,
 * attach, detach) ride in the thread's next batch, in the order they were made.
 */
import { RemoteHub } from '@echoplex/core';
import type { MainThreadLink } from './main-thread-link.js';

export function blockingRemoteHub(link: MainThreadLink): RemoteHub {
  let awaited: number | undefined;
  const hub = new RemoteHub((call) => {
    link.post({ kind: 'hub', call });
    if (!('call' in call)) return;
    awaited = call.call;
    link.block(() => awaited === undefined);
  });
  link.onHubEvent = (event) => {
    if (event.op === 'result' && event.call === awaited) awaited = undefined;
    hub.receive(event);
  };
  return hub;
}
