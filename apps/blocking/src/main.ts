#!/usr/bin/env node
/**
 * The blocking model: one thread per connection, each running the textbook loop of
 * recv -> Session -> sendall on a blocking socket. Node has no blocking sockets, so the
 * main thread plays the kernel: it accepts, moves bytes between sockets and each thread's
 * shared buffers, and holds the one hub (a LocalHub, or with --hub a RedisHub shared with
 * other servers) that threads reach through a HubRelay.
 */
import { createServer } from 'node:net';
import {
  booleanFlag,
  ConfigError,
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
  SocketSessions,
  serverInfo,
  sumSnapshots,
} from '@echoplex/core';
import { CachedThreadPool } from './thread-pool.js';

const MODEL = 'blocking';
const { server: config, model: flags } = readCommandLine({
  model: MODEL,
  summary: 'Echoplex with one thread per connection, written against a blocking socket API (recv, sendall).',
  flags: {
    threads: integerFlag('handler threads at most; connections beyond wait for one (1: the iterative server)', 64, 1, 10_000),
    'max-waiting': integerFlag(
      'connections waiting for a thread at most; beyond, ERR BUSY (each waits --idle-timeout at most)',
      64,
      0,
      100_000,
    ),
    prestart: integerFlag(
      'handler threads started at boot, before the listening line, and kept however long they idle (the prethreaded server)',
      0,
      0,
      10_000,
    ),
    'inject-faults': booleanFlag(`tests only: a handler thread that receives the bytes CRASH-THREAD throws and dies`),
  },
});
if (flags.prestart > flags.threads) {
  exitOnStartupError(MODEL, new ConfigError(`--prestart ${flags.prestart} is more than --threads ${flags.threads}`));
}
const logger = createLogger(MODEL, config.logLevel);
const startedAt = Date.now();
/** The main thread's own counters: connections it answered BUSY. */
const stats = new ServerStats();
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

const pool = new CachedThreadPool({
  maxThreads: flags.threads,
  minThreads: flags.prestart,
  maxWaiting: flags['max-waiting'],
  stats,
  limits: config,
  injectFaults: flags['inject-faults'],
  relay,
  logger,
  server: view,
});
// Over --max-connections, the main thread answers BUSY itself: no thread is spent on a refusal.
const refusals = new SocketSessions({ limits: config, hub: chat.hub, server: view, stats, servedBy: 'main thread' });

function info(): ServerInfo {
  const threads = pool.liveThreads + datagramThreads.size;
  return serverInfo(
    chat,
    { model: MODEL, startedAt, threads, processes: 1, connections: pool.connections },
    { threadsBusy: pool.busyThreads, threadLimit: flags.threads, connectionsWaiting: pool.waitingConnections },
  );
}

async function renderMetrics(): Promise<string> {
  const [threadStats, udpStats] = await Promise.all([pool.stats(), datagramThreads.stats()]);
  return metrics.render({
    connections: pool.connections,
    stats: sumSnapshots([stats.snapshot(), threadStats, udpStats]),
    hub: chat.counters(),
    gauges: {
      echoplex_threads: { help: 'Handler threads alive', values: [{ value: pool.liveThreads }] },
      echoplex_threads_busy: { help: 'Handler threads serving a connection', values: [{ value: pool.busyThreads }] },
      echoplex_thread_limit: { help: 'Handler threads at most (--threads)', values: [{ value: flags.threads }] },
      echoplex_connections_waiting: { help: 'Connections accepted and waiting for a thread', values: [{ value: pool.waitingConnections }] },
    },
  });
}

let nextConnectionId = chat.firstConnectionId - 1;
const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  nextConnectionId += 1;
  if (pool.connections >= config.maxConnections || !pool.admits) refusals.serve(socket, nextConnectionId, true);
  else pool.serve(socket, nextConnectionId);
});

// UDP (--udp): as Python's ThreadingUDPServer, each datagram is given to a thread of its own:
// an idle one, else a new one (up to --threads), kept for the next; the main thread reads and sends.
const datagramThreads = new DatagramThreads({
  threads: flags.threads,
  startAll: false,
  perThread: 1,
  waitingLimit: 1024,
  limits: config,
  server: view,
  label: 'udp thread',
});
const datagrams =
  config.udpPort === undefined
    ? undefined
    : new DatagramEndpoint({ host: config.udpHost, port: config.udpPort, stats, serve: datagramThreads.serve });

// --prestart: the threads load before the listening line, so no client waits for a thread to start.
const prestartedAt = performance.now();
await pool.prestart(flags.prestart).catch((error: unknown) => exitOnStartupError(MODEL, error));
if (flags.prestart > 0) logger.info({ threads: pool.liveThreads, ms: Math.round(performance.now() - prestartedAt) }, 'threads prestarted');

await runServer({
  model: MODEL,
  config,
  logger,
  listener,
  connections: () => pool.connections,
  drain: async (drainTimeoutMs) => {
    await Promise.all([pool.drain(drainTimeoutMs), refusals.drain(drainTimeoutMs), datagramThreads.close()]);
    await chat.close();
  },
  announce: { hub: chat.name, node: chat.node, threads: flags.threads },
  ...(datagrams === undefined ? {} : { datagrams }),
});
