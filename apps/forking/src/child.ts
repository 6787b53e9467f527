/**
 * A child process. It owns the sockets the parent hands it and does their IO with
 * core's SocketSessions, exactly as the event-loop app does; only the hub and the
 * server-wide numbers live across the IPC channel, in the parent. The channel is
 * flow-controlled: while the parent lags behind what we send, our sockets are not read.
 */
import { Socket } from 'node:net';
import {
  HUB_BATCH_BYTES,
  type HubCall,
  hubCallBytes,
  isViewMessage,
  RemoteHub,
  RemoteView,
  refusalBytes,
  ServerStats,
} from '@echoplex/core';
import { closeLingering, loopFileStore, OUTPUT_HIGH_WATER, SocketSessions } from '@echoplex/core/node';
import { type ChildConfig, isToChild, type ToParent } from './ipc.js';

/** Without a parent there is no hub: serve what was received, say SHUTTING_DOWN, and go. */
const ORPHAN_DRAIN_MS = 1_000;

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const stats = new ServerStats();

/** The sockets this child serves, paused together while the channel to the parent is backed up. */
const sockets = new Set<Socket>();
/** Sockets the relay paused (and only those: a socket paused for its own unread output stays with its session). */
const pausedByRelay = new Set<Socket>();
/** Our channel to the parent is backed up: what our sockets send would pile up in it. */
let channelBacklogged = false;
/** The parent's channel to some child is backed up (it said 'hold'): what our sockets send would pile up there. */
let heldByParent = false;
const relayHeld = (): boolean => channelBacklogged || heldByParent;

/** Hub calls of this turn (a publisher's SAYs of one read): they cross in one message, sent before anything else. */
const hubCalls: HubCall[] = [];
let hubCallsBytes = 0;
let hubFlushQueued = false;

function flushHubCalls(): void {
  hubFlushQueued = false;
  hubCallsBytes = 0;
  if (hubCalls.length > 0) sendNow({ kind: 'hub', calls: hubCalls.splice(0) });
}

function send(message: ToParent, sent?: () => void): void {
  flushHubCalls();
  sendNow(message, sent);
}

function sendNow(message: ToParent, sent?: () => void): void {
  if (process.send === undefined || !process.connected) {
    sent?.();
    return;
  }
  // false: the channel's write queue is over Node's threshold. Its callback runs once this message is written.
  const flowing = process.send(message, undefined, undefined, () => {
    sent?.();
    if (!flowing && channelBacklogged) {
      channelBacklogged = false;
      releaseReading();
    }
  });
  if (!flowing && !channelBacklogged) {
    channelBacklogged = true;
    holdReading();
  }
}

/** A fast sender's SAYs must wait in its socket, not pile up in an IPC queue (ours to the parent, or the parent's to a child). */
function holdReading(): void {
  for (const socket of sockets) {
    if (socket.isPaused()) continue;
    socket.pause();
    pausedByRelay.add(socket);
  }
}

function releaseReading(): void {
  if (relayHeld()) return;
  for (const socket of pausedByRelay) {
    // Still over its output mark: its session paused it meanwhile, and resumes it on 'drain'.
    if (!socket.destroyed && socket.writableLength <= OUTPUT_HIGH_WATER) socket.resume();
  }
  pausedByRelay.clear();
}

/** INFO and /metrics are the whole server's: only the parent knows them. */
const view = new RemoteView(
  (message) => send(message),
  () => stats.snapshot(),
);

const hub = new RemoteHub((call) => {
  hubCalls.push(call);
  hubCallsBytes += hubCallBytes(call);
  if (hubCallsBytes >= HUB_BATCH_BYTES) return flushHubCalls();
  if (hubFlushQueued) return;
  hubFlushQueued = true;
  setImmediate(flushHubCalls);
});
const files = loopFileStore(config.limits);
const sessions = new SocketSessions({ limits: config.limits, hub, server: view, stats, servedBy: `pid ${process.pid}`, files });

/** Requests this child has answered, over all its connections. */
const requestsSoFar = (): number =>
  Object.values(stats.requests).reduce((sum, byCommand) => Object.values(byCommand).reduce((total, count) => total + count, sum), 0);

/**
 * A connection that waited `waitedMs` for a child: its first request must still be done
 * within --idle-timeout of the accept. The session's own timer starts now, so this one
 * cuts it first, as the session would: silently if it sent nothing, else ERR TIMEOUT.
 */
function limitFirstRequest(socket: Socket, waitedMs: number): void {
  const { idleTimeoutMs } = config.limits;
  if (idleTimeoutMs === 0 || waitedMs <= 0) return;
  const requestsBefore = requestsSoFar();
  const firstBytes: Buffer[] = [];
  let seen = 0;
  const watch = (chunk: Buffer): void => {
    if (seen < 16) firstBytes.push(chunk.subarray(0, 16));
    seen += chunk.length;
  };
  socket.on('data', watch);
  const timer = setTimeout(
    () => {
      socket.removeListener('data', watch);
      if (socket.destroyed || socket.writableEnded || requestsSoFar() !== requestsBefore) return;
      stats.countError('TIMEOUT');
      if (seen > 0)
        socket.write(refusalBytes(Buffer.concat(firstBytes), 'TIMEOUT', `request not completed within ${idleTimeoutMs / 1000} s`));
      closeLingering(socket);
    },
    Math.max(0, idleTimeoutMs - waitedMs),
  );
  socket.once('close', () => clearTimeout(timer));
}

function serve(socket: Socket, id: number, busy: boolean, waitedMs: number): void {
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
  sockets.add(socket);
  socket.once('close', () => {
    sockets.delete(socket);
    pausedByRelay.delete(socket);
  });
  sessions.serve(socket, id, busy);
  if (relayHeld() && !socket.isPaused()) {
    socket.pause();
    pausedByRelay.add(socket);
  }
  if (!busy) limitFirstRequest(socket, waitedMs);
  // Registered after the session's own handlers, so its hub detach is sent before we go.
  if (config.once) socket.once('close', exit);
}

let exiting = false;
/** Exits once the parent has our last counters (and every hub call queued before them). */
function exit(): void {
  if (exiting) return;
  exiting = true;
  send({ kind: 'exiting', snapshot: stats.snapshot() }, () => process.exit(0));
}

let draining = false;
/** A socket handed over just before the drain has its first bytes in the kernel still: read them, so they are answered, not dropped. */
const HANDOVER_GRACE_MS = 50;

async function drain(timeoutMs: number): Promise<void> {
  if (draining) return;
  draining = true;
  await new Promise((resolve) => setTimeout(resolve, Math.min(HANDOVER_GRACE_MS, timeoutMs)));
  await sessions.drain(timeoutMs);
  exit();
}

process.on('message', (message: unknown, handle: unknown) => {
  if (!isToChild(message)) return;
  if (isViewMessage(message)) return view.receive(message);
  switch (message.kind) {
    case 'connection':
      if (handle instanceof Socket) serve(handle, message.id, message.busy, message.waitedMs);
      break;
    case 'hub':
      for (const event of message.events) hub.receive(event);
      break;
    case 'drain':
      void drain(message.timeoutMs);
      break;
    case 'hold':
      heldByParent = true;
      holdReading();
      break;
    case 'release':
      heldByParent = false;
      releaseReading();
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
