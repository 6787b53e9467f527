/**
 * A handler thread: it waits for a connection, serves it the textbook way (a loop of
 * recv -> Session -> sendall on the connection's own fd), then waits for the next. Only
 * blocking calls, no event loop: the main thread accepts, and relays the hub.
 */
import { threadId, workerData } from 'node:worker_threads';
import { HandlerConnection, ServerStats, type ServerView, SocketError, SocketTimeout } from '@echoplex/core';
import { blockingFileStore } from '@echoplex/core/node';
import { BlockingSocket } from './libc/blocking-socket.js';
import { MainThreadLink } from './main-thread-link.js';
import { FAULT_BYTES, type ThreadData } from './messages.js';
import { ThreadControl } from './thread-control.js';
import { blockingRemoteHub } from './thread-hub.js';

/** What one recv asks for: 64 KiB, so a backlog drains in few calls. */
const RECV_BYTES = 64 * 1024;

const data = workerData as ThreadData;
const stats = new ServerStats();
const link = new MainThreadLink(data.port, data.wakeFd, new ThreadControl(data.control), () => stats.snapshot());
const hub = blockingRemoteHub(link);
const server: ServerView = {
  info: (done) => done(link.requestInfo()),
  metrics: (done) => done(link.requestMetrics()),
};
const servedBy = `thread ${threadId}`;
/** --files: this thread reads and writes DIR with synchronous calls, blocking only itself. */
const files = blockingFileStore(data.limits);

/** One connection, start to finish; it waited `waitedMs` for this thread. */
function handle(socket: BlockingSocket, id: number, waitedMs: number): void {
  const connection = new HandlerConnection(socket, { id, limits: data.limits, hub, server, stats, servedBy, waitedMs, files });
  const { session } = connection;
  link.onShutdown = () => session.shutdown();
  if (link.shuttingDown) {
    // SIGTERM came before this thread took the connection: answer what already arrived, then SHUTTING_DOWN.
    socket.settimeout(0);
    try {
      const bytes = socket.recv(RECV_BYTES);
      if (bytes.length > 0) socket.sendall(connection.receive(bytes));
    } catch (error) {
      if (!(error instanceof SocketTimeout)) throw error;
    }
    session.shutdown();
  }
  try {
    while (!session.isClosed) {
      socket.settimeout(connection.timeout());
      let bytes: Buffer;
      try {
        bytes = socket.recv(RECV_BYTES);
      } catch (error) {
        if (!(error instanceof SocketTimeout)) throw error;
        session.timeout();
        continue;
      }
      if (bytes.length === 0) {
        session.end();
        break;
      }
      if (data.injectFaults && bytes.includes(FAULT_BYTES)) throw new Error('injected fault: this handler thread dies');
      socket.sendall(connection.receive(bytes));
      // Replies, and SAYs to the room, leave now rather than at the next block.
      link.flush();
    }
  } catch (error) {
    if (!(error instanceof SocketError)) throw error;
    session.abort();
  } finally {
    if (!session.isClosed) session.abort();
    // Sends the rest, FIN, lingers; then the main thread hears of it (and closes the fd).
    socket.close();
    link.onShutdown = () => {};
    link.onDispatched = () => {};
  }
}

link.post({ kind: 'ready' });
for (let job = link.nextConnection(); job !== undefined; job = link.nextConnection()) {
  handle(new BlockingSocket(job.fd, link), job.id, Math.max(0, performance.timeOrigin + performance.now() - job.acceptedAt));
  link.post({ kind: 'idle', snapshot: stats.snapshot() });
}
link.flush();
data.port.close();
