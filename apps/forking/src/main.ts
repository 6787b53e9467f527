#!/usr/bin/env node
/**
 * The forking model: child processes, as Apache's prefork and Python's ForkingMixIn.
 * The parent accepts, counts, and hands each socket to a child that does all of its
 * IO; rooms and nicks stay in the parent's LocalHub (with --hub, a RedisHub shared with
 * other servers), relayed over IPC. A child that crashes takes only its own connections with it.
 */
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import {
  choiceFlag,
  createLogger,
  exitOnStartupError,
  HubRelay,
  integerFlag,
  MetricsExporter,
  openHub,
  readCommandLine,
  runServer,
  type ServerInfo,
  ServerStats,
  type ServerView,
  SocketSessions,
  serverInfo,
  sessionLimits,
  sumSnapshots,
} from '@echoplex/core';
import type { ChildPool, PoolOptions } from './child-pool.js';
import { DatagramChildren } from './datagram-children.js';
import { PerConnectionPool } from './per-connection-pool.js';
import { PreforkPool } from './prefork-pool.js';

const MODEL = 'forking';
const { server: config, model: flags } = readCommandLine({
  model: MODEL,
  summary: 'Echoplex in child processes: a prefork pool, or a fresh child per connection; rooms relayed by the parent.',
  flags: {
    mode: choiceFlag('prefork: children forked up front; per-connection: a fresh child per connection', 'prefork', [
      'prefork',
      'per-connection',
    ] as const),
    workers: integerFlag('prefork: how many children', availableParallelism(), 1, 1_024),
    'max-children': integerFlag('per-connection: children at once; other connections wait', 40, 1, 10_000),
    'max-waiting': integerFlag(
      'connections waiting for a child at most; beyond, ERR BUSY (each waits --idle-timeout at most)',
      64,
      0,
      100_000,
    ),
  },
});
const logger = createLogger(MODEL, config.logLevel);
const startedAt = Date.now();
/** The parent's own counters: the connections it turned away itself. */
const stats = new ServerStats();
const metrics = new MetricsExporter(MODEL);

const view: ServerView = {
  info: (done) => done(info()),
  metrics: (done) => {
    void renderMetrics().then(done);
  },
};
// With --hub, waits up to 10 s for Redis, else exits 1 naming it. Only the parent talks to it.
const chat = await openHub(config.hub, logger).catch((error: unknown) => exitOnStartupError(MODEL, error));
const relay = new HubRelay(chat.hub);
chat.onAvailabilityChange(() => relay.availabilityChanged());
// While no child can take a connection, the parent answers BUSY itself rather than fork a child to refuse it.
const refusals = new SocketSessions({ limits: config, hub: chat.hub, server: view, stats, servedBy: 'parent' });

const options: PoolOptions = {
  child: {
    limits: sessionLimits(config),
    drainTimeoutMs: config.drainTimeoutMs,
    once: flags.mode === 'per-connection',
  },
  services: { relay, view },
  maxConnections: config.maxConnections,
  maxWaiting: flags['max-waiting'],
  waitTimeoutMs: config.idleTimeoutMs,
  stats,
  refuse: (socket, id) => {
    refusals.serve(socket, id, true);
    // Accepted paused (pauseOnConnect): the refusal reads the first request to answer in its dialect.
    socket.resume();
  },
  logger,
};
const pool: ChildPool =
  flags.mode === 'prefork' ? new PreforkPool(options, flags.workers) : new PerConnectionPool(options, flags['max-children']);

function info(): ServerInfo {
  const processes = pool.liveChildren.length + 1 + (datagramChildren?.size ?? 0);
  return serverInfo(
    chat,
    { model: MODEL, startedAt, threads: processes, processes, connections: pool.connections },
    { mode: flags.mode, children: pool.liveChildren.map((child) => child.pid), connectionsWaiting: pool.waitingCount },
  );
}

async function renderMetrics(): Promise<string> {
  const [stats, udpStats] = await Promise.all([pool.stats(), datagramChildren?.stats()]);
  const children = pool.liveChildren;
  return metrics.render({
    connections: pool.connections,
    stats: sumSnapshots([stats, udpStats]),
    hub: chat.counters(),
    gauges: {
      echoplex_children: { help: 'Child processes alive', values: [{ value: children.length }] },
      echoplex_connections_waiting: { help: 'Accepted connections waiting for a child', values: [{ value: pool.waitingCount }] },
      echoplex_child_connections: {
        help: 'Connections each child serves',
        labelNames: ['pid'],
        values: children.map((child) => ({ labels: { pid: String(child.pid) }, value: child.connections })),
      },
    },
  });
}

let nextConnectionId = chat.firstConnectionId - 1;
// Paused: the parent never reads a byte, so everything the client sent reaches the child.
const listener = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => {
  nextConnectionId += 1;
  pool.serve(socket, nextConnectionId);
});

// UDP (--udp): --workers children share the one UDP socket the parent bound, each reading it,
// as prefork children share a listening socket (in per-connection mode too: no fork per datagram).
const datagramChildren =
  config.udpPort === undefined
    ? undefined
    : new DatagramChildren({
        host: config.udpHost,
        port: config.udpPort,
        children: flags.workers,
        limits: sessionLimits(config),
        server: view,
      });

await runServer({
  model: MODEL,
  config,
  logger,
  listener,
  connections: () => pool.connections,
  start: () => pool.start(),
  drain: async (drainTimeoutMs) => {
    await Promise.all([pool.drain(drainTimeoutMs), refusals.drain(drainTimeoutMs)]);
    await chat.close();
  },
  announce: { hub: chat.name, node: chat.node, mode: flags.mode },
  ...(datagramChildren === undefined ? {} : { datagrams: datagramChildren }),
});
