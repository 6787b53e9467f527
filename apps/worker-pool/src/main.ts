#!/usr/bin/env node
/**
 * The worker-pool model: a fixed pool of worker_threads, each serving many connections
 * with its own event loop. The main thread accepts, keeps the sockets and the rooms
 * (a HubRelay over one LocalHub, or with --hub a RedisHub shared with other servers); each
 * connection's session lives in one worker for its whole life, so WORK on one worker leaves
 * the others and the main thread free.
 */
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import {
  booleanFlag,
  createLogger,
  DatagramEndpoint,
  DatagramThreads,
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
  serverInfo,
  sessionLimits,
  sumSnapshots,
} from '@echoplex/core';
import { WorkerPool } from './worker-pool.js';

const MODEL = 'worker-pool';
const { server: config, model: flags } = readCommandLine({
  model: MODEL,
  summary: 'Echoplex on a fixed pool of worker_threads: the main thread accepts, each connection lives in one worker.',
  flags: {
    workers: integerFlag('worker threads serving connections', availableParallelism(), 1, 256),
    'inject-faults': booleanFlag('let a client kill its worker with a trigger string (tests only)'),
  },
});
const logger = createLogger(MODEL, config.logLevel);
const startedAt = Date.now();
const metrics = new MetricsExporter(MODEL);

const view: ServerView = {
  info: (done) => done(info()),
  metrics: (done) => {
    void renderMetrics().then(done);
  },
};
// With --hub, waits up to 10 s for Redis, else exits 1 naming it. Only the main thread talks to it.
const chat = await openHub(config.hub, logger).catch((error: unknown) => exitOnStartupError(MODEL, error));
const relay = new HubRelay(chat.hub);
chat.onAvailabilityChange(() => relay.availabilityChanged());

function info(): ServerInfo {
  const threads = pool.size + 1 + datagramWorkers.size;
  return serverInfo(
    chat,
    { model: MODEL, startedAt, threads, processes: 1, connections: pool.connections },
    { workers: pool.size, workerConnections: pool.connectionsByWorker() },
  );
}

async function renderMetrics(): Promise<string> {
  const [stats, udpStats] = await Promise.all([pool.stats(), datagramWorkers.stats()]);
  return metrics.render({
    connections: pool.connections,
    stats: sumSnapshots([stats, datagramStats.snapshot(), udpStats]),
    hub: chat.counters(),
    gauges: {
      echoplex_workers: { help: 'Worker threads in the pool', values: [{ value: pool.size }] },
      echoplex_worker_connections: {
        help: 'Connections served now by each worker',
        values: pool.connectionsByWorker().map((value, worker) => ({ labels: { worker: String(worker) }, value })),
      },
    },
  });
}

const pool = new WorkerPool(
  flags.workers,
  (index) => ({
    index,
    limits: sessionLimits(config),
    injectFaults: flags['inject-faults'],
  }),
  relay,
  view,
  logger,
);

let nextConnectionId = chat.firstConnectionId - 1;
const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  nextConnectionId += 1;
  pool.serve(socket, nextConnectionId, pool.connections >= config.maxConnections);
});

// UDP (--udp): the main thread reads the socket and hands each datagram to the least busy of
// --workers datagram workers, so WORK over UDP spreads over the cores as connections do.
const datagramStats = new ServerStats();
const datagramWorkers = new DatagramThreads({
  threads: config.udpPort === undefined ? 0 : flags.workers,
  startAll: true,
  perThread: 64,
  waitingLimit: 4096,
  limits: config,
  server: view,
  label: 'udp worker',
});
const datagrams =
  config.udpPort === undefined
    ? undefined
    : new DatagramEndpoint({ host: config.udpHost, port: config.udpPort, stats: datagramStats, serve: datagramWorkers.serve });

await runServer({
  model: MODEL,
  config,
  logger,
  listener,
  connections: () => pool.connections,
  drain: async (drainTimeoutMs) => {
    await Promise.all([pool.drain(drainTimeoutMs), datagramWorkers.close()]);
    await chat.close();
  },
  announce: { hub: chat.name, node: chat.node, workers: flags.workers },
  ...(datagrams === undefined ? {} : { datagrams }),
});
