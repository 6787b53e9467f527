/**
 * A child process. It owns the sockets the parent hands it and does their IO with
 * core's SocketSessions, exactly as the event-loop app does; only the hub and the
 * server-wide numbers live across the IPC channel, in the parent.
 */
import { Socket } from 'node:net';
import { RemoteHub, type ServerInfo, ServerStats, type ServerView, SocketSessions } from '@echoplex/core/sessions';
import { type ChildConfig, isToChild, type ToParent } from './ipc.js';

/** Without a parent there is no hub: serve what was received, say SHUTTING_DOWN, and go. */
const ORPHAN_DRAIN_MS = 1_000;

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const stats = new ServerStats();

function send(message: ToParent, sent?: () => void): void {
  if (process.send === undefined || !process.connected) {
    sent?.();
    return;
  }
  process.send(message, undefined, undefined, () => sent?.());
}

let nextCall = 1;
const infoCalls = new Map<number, (info: ServerInfo) => void>();
const metricsCalls = new Map<number, (text: string) => void>();

/** INFO and /metrics are the whole server's: only the parent knows them. */
const view: ServerView = {
  info: (done) => {
    const call = nextCall++;
    infoCalls.set(call, done);
    send({ kind: 'info?', call });
  },
  metrics: (done) => {
    const call = nextCall++;
    metricsCalls.set(call, done);
    send({ kind: 'metrics?', call });
  },
};

const hub = new RemoteHub((call) => send({ kind: 'hub', call }));
const sessions = new SocketSessions({ limits: config.limits, hub, server: view, stats, servedBy: `pid ${process.pid}` });

function serve(socket: Socket, id: number, busy: boolean): void {
  // A socket rebuilt from a passed handle loses the listener's options: answer after the peer's FIN, as the event-loop app does.
  socket.allowHalfOpen = true;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    send({ kind: 'released', id });
  };
  // The server ending its side is the session closing: from then on it no longer counts.
  socket.once('finish', release);
  socket.once('close', release);
  sessions.serve(socket, id, busy);
  // Registered after the session's own handlers, so its hub detach is sent before we go.
  if (config.once) socket.once('close', exit);
}

let exiting = false;
/** Exits once the parent has our last counters (and every hub call queued before them). */
function exit(): void {
  if (exiting) return;
  exiting = true;
  send({ kind: 'exiting', stats: stats.snapshot() }, () => process.exit(0));
}

let draining = false;
async function drain(timeoutMs: number): Promise<void> {
  if (draining) return;
  draining = true;
  await sessions.shutdown(timeoutMs);
  exit();
}

process.on('message', (message: unknown, handle: unknown) => {
  if (!isToChild(message)) return;
  switch (message.kind) {
    case 'connection':
      if (handle instanceof Socket) serve(handle, message.id, message.busy);
      break;
    case 'hub':
      hub.receive(message.event);
      break;
    case 'info':
      infoCalls.get(message.call)?.(message.info);
      infoCalls.delete(message.call);
      break;
    case 'metrics':
      metricsCalls.get(message.call)?.(message.text);
      metricsCalls.delete(message.call);
      break;
    case 'stats?':
      send({ kind: 'stats', call: message.call, stats: stats.snapshot() });
      break;
    case 'drain':
      void drain(message.timeoutMs);
      break;
  }
});

// The parent died, even by SIGKILL: the channel closes, and no child outlives it.
process.on('disconnect', () => void drain(ORPHAN_DRAIN_MS));
// Ctrl-C signals the whole process group; the parent coordinates the drain.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => void drain(config.drainTimeoutMs));

if (process.connected) send({ kind: 'ready' });
else process.exit(1);
