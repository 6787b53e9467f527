#!/usr/bin/env node
/**
 * The event-loop model: one thread, one event loop, every connection on it. Nothing
 * here but the strategy: accept on the loop, serve each socket with a core session,
 * keep rooms in a LocalHub (with --hub, a RedisHub shared with other servers). A WORK
 * request holds up everyone else: that is the lesson.
 */
import { createServer } from 'node:net';
import {
  createLogger,
  DatagramEndpoint,
  DatagramHandler,
  exitOnStartupError,
  MetricsExporter,
  openHub,
  readCommandLine,
  runServer,
  type ServerInfo,
  ServerStats,
  type ServerView,
  SocketSessions,
  serverInfo,
} from '@echoplex/core';

const MODEL = 'event-loop';
const { server: config } = readCommandLine({
  model: MODEL,
  summary: 'Echoplex on one thread and one event loop: every connection on node:net.',
  flags: {},
});
const logger = createLogger(MODEL, config.logLevel);
const startedAt = Date.now();
const stats = new ServerStats();
const metrics = new MetricsExporter(MODEL);

const view: ServerView = {
  info: (done) => done(info()),
  metrics: (done) => {
    void renderMetrics().then(done);
  },
};
// With --hub, waits up to 10 s for Redis, else exits 1 naming it.
const chat = await openHub(config.hub, logger).catch((error: unknown) => exitOnStartupError(MODEL, error));
const sessions = new SocketSessions({ limits: config, hub: chat.hub, server: view, stats, servedBy: `pid ${process.pid}` });

function info(): ServerInfo {
  return serverInfo(chat, { model: MODEL, startedAt, threads: 1, processes: 1, connections: sessions.connections });
}

async function renderMetrics(): Promise<string> {
  return metrics.render({
    connections: sessions.connections,
    stats,
    hub: chat.counters(),
  });
}

let nextConnectionId = chat.firstConnectionId - 1;
const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  nextConnectionId += 1;
  sessions.serve(socket, nextConnectionId, sessions.connections >= config.maxConnections);
});

// UDP (--udp): each datagram is answered on the loop as it arrives, like a request on a connection.
const datagramHandler = new DatagramHandler({ limits: config, server: view, stats, servedBy: `pid ${process.pid}` });
const datagrams =
  config.udpPort === undefined
    ? undefined
    : new DatagramEndpoint({
        host: config.udpHost,
        port: config.udpPort,
        stats,
        serve: (datagram, answer) => datagramHandler.handle(datagram, answer),
      });

await runServer({
  model: MODEL,
  config,
  logger,
  listener,
  connections: () => sessions.connections,
  drain: async (drainTimeoutMs) => {
    await sessions.drain(drainTimeoutMs);
    await chat.close();
  },
  announce: { hub: chat.name, node: chat.node },
  ...(datagrams === undefined ? {} : { datagrams }),
});
