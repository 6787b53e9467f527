/**
 * A worker thread that answers datagrams for DatagramThreads: bytes in from the thread that
 * owns the UDP socket, reply bytes back. It holds no socket; INFO asks the owner for the
 * whole server's numbers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DatagramLimits } from '@echoplex/protocol';
import { DatagramHandler } from './datagram-handler.js';
import { type DatagramThreadSetup, exactBytes, type FromDatagramThread, type ToDatagramThread } from './datagram-threads.js';
import { isViewMessage, RemoteView } from './server-view.js';
import { ServerStats } from './stats.js';

const port = parentPort;
if (port === null) throw new Error('datagram-thread.js runs as a worker thread of DatagramThreads');
const setup = workerData as DatagramThreadSetup;
const limits: DatagramLimits = setup.limits;
const stats = new ServerStats();
const post = (message: FromDatagramThread): void => port.postMessage(message);
/** INFO is the whole server's: the owner of the socket answers it. */
const view = new RemoteView(post, () => stats.snapshot());

const handler = new DatagramHandler({
  limits,
  stats,
  servedBy: setup.servedBy,
  server: view,
});

port.on('message', (message: ToDatagramThread) => {
  if (isViewMessage(message)) return view.receive(message);
  switch (message.kind) {
    case 'datagram':
      handler.handle(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength), (reply) =>
        post({ kind: 'reply', id: message.id, bytes: reply === undefined ? null : exactBytes(reply) }),
      );
      return;
  }
});
