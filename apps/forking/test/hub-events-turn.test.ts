/**
 * The parent sends a child one turn's hub events in one message. Sent while a socket handed to that
 * child is not yet acknowledged, Node queues the message unserialized: a list reused after the send
 * went out empty, and members joining as others connected never heard OK JOIN (the bench's fanout m100).
 */
import { expect, it } from 'vitest';
import { forkingServerFor } from './forking-server.js';

const forking = forkingServerFor(['--mode', 'prefork', '--workers', '2']);

it('answers every JOIN and pushes every JOINED while many connections are handed to the children at once', async () => {
  const count = 60;
  const clients = await Promise.all(Array.from({ length: count }, () => forking.open()));
  // Each JOIN's reply comes before any push: the client is in no room until then.
  const joins = await Promise.all(clients.map((client) => client.request('JOIN crowd')));
  expect(joins).toEqual(Array.from({ length: count }, () => 'OK JOIN crowd'));
  const [first, last] = [clients[0], clients[count - 1]];
  if (first === undefined || last === undefined) throw new Error('no clients');
  last.sendLine('SAY last word');
  const seen: string[] = [];
  for (let line = await first.nextLine(); !line.startsWith('MSG '); line = await first.nextLine()) seen.push(line);
  // Whoever joined after the first told it so; with every JOIN answered, that can be up to all the others.
  expect(seen.every((line) => line.startsWith('JOINED crowd guest-'))).toBe(true);
});
