/**
 * A UDP child of the forking model: it reads the one UDP socket the parent bound and every
 * UDP child shares, answers each datagram itself, and sends the reply from that socket. The
 * kernel gives each datagram to whichever child asks first: the parent never touches one.
 */
import { DatagramHandler, isViewMessage, RemoteView, ServerStats } from '@echoplex/core';
import { DatagramEndpoint } from '@echoplex/core/node';
import type { DatagramChildConfig, FromDatagramChild, ToDatagramChild } from './datagram-children.js';

const config = JSON.parse(process.argv[2] ?? '{}') as DatagramChildConfig;
const stats = new ServerStats();
const send = (message: FromDatagramChild): void => {
  process.send?.(message);
};
/** INFO is the whole server's: the parent answers it. */
const view = new RemoteView(send, () => stats.snapshot());

const handler = new DatagramHandler({
  limits: config.limits,
  stats,
  servedBy: `udp child ${process.pid}`,
  server: view,
});
const endpoint = new DatagramEndpoint({ host: '', port: 0, stats, serve: (datagram, answer) => handler.handle(datagram, answer) });

process.on('message', (message: ToDatagramChild, handle?: object) => {
  if (isViewMessage(message)) return view.receive(message);
  switch (message.kind) {
    case 'socket':
      if (handle === undefined) throw new Error('the parent sent no UDP handle');
      void endpoint.bindShared(handle).then(() => send({ kind: 'ready' }));
      return;
    case 'stop':
      void endpoint.close().then(() => process.exit(0));
      return;
  }
});
// An orphan has no one to answer INFO for, and would keep the port: it goes when the parent does.
process.on('disconnect', () => process.exit(0));
