/**
 * A handler thread: it waits for a connection, serves it the textbook way (a loop of
 * recv -> Session -> sendall), then waits for the next. Only blocking calls, no event
 * loop: the main thread does everything asynchronous on its behalf.
 */
import { threadId, workerData } from 'node:worker_threads';
import { ServerStats, type ServerView, Session } from '@echoplex/core/sessions';
import { BlockingSocket, SocketError, SocketTimeout } from './blocking-socket.js';
import { MainThreadLink } from './main-thread-link.js';
import { FAULT_BYTES, type ThreadData } from './messages.js';
import { ConnectionBuffers, Doorbell } from './shared-buffers.js';
import { blockingRemoteHub } from './thread-hub.js';

/** What one recv asks for: a whole ring's worth, so a backlog drains in one call. */
const RECV_BYTES = 64 * 1024;

const data = workerData as ThreadData;
const doorbell = new Doorbell(data.doorbell);
const buffers = new ConnectionBuffers(data.buffers);
const stats = new ServerStats();
const link = new MainThreadLink(data.port, buffers, doorbell, data.slot, () => stats.snapshot());
const hub = blockingRemoteHub(link);
const server: ServerView = {
  info: (done) => done(link.requestInfo()),
  metrics: (done) => done(link.requestMetrics()),
};
const servedBy = `thread ${threadId}`;

/** Requests this thread has answered, over all its connections. */
const requestsSoFar = (): number =>
  Object.values(stats.requests).reduce((sum, byCommand) => Object.values(byCommand).reduce((total, count) => total + count, sum), 0);

/** One connection, start to finish; it waited `waitedMs` for this thread. */
function handle(socket: BlockingSocket, id: number, waitedMs: number): void {
  // The session's idle timer becomes a deadline, and the deadline the timeout of the next recv.
  let deadline: number | undefined;
  // Until its first request is answered, the connection's clock runs from the accept, not from when this thread took it.
  let waited = waitedMs;
  const requestsBefore = requestsSoFar();
  const session = new Session({
    id,
    limits: data.limits,
    hub,
    server,
    stats,
    servedBy,
    transport: {
      write: (bytes) => socket.sendall(bytes),
      outboundBytes: () => socket.outboundBytes(),
      close: () => socket.close(),
      setTimer: (ms) => {
        if (waited > 0 && requestsSoFar() !== requestsBefore) waited = 0;
        deadline = ms === undefined ? undefined : performance.now() + Math.max(0, ms - waited);
      },
    },
  });
  link.onShutdown = () => session.shutdown();
  if (link.shuttingDown) session.shutdown();
  try {
    while (!session.isClosed) {
      socket.settimeout(deadline === undefined ? null : Math.max(0, deadline - performance.now()) / 1000);
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
      session.receive(bytes);
      // Replies, and SAYs to the room, leave now rather than at the next block.
      link.flush();
    }
  } catch (error) {
    if (!(error instanceof SocketError)) throw error;
    session.abort();
  } finally {
    if (!session.isClosed) session.abort();
    socket.close();
    link.onShutdown = () => {};
  }
}

for (let job = link.nextConnection(); job !== undefined; job = link.nextConnection()) {
  handle(new BlockingSocket(buffers, link, job.peer), job.id, job.waitedMs);
  link.post({ kind: 'idle', snapshot: stats.snapshot() });
}
link.flush();
data.port.close();
