#!/usr/bin/env node
/**
 * The coroutine model: one thread, one event loop, as event-loop; but each connection is
 * one async function written like blocking's handler (await recv, await sendall), and
 * the loop switches between them at each await, as gevent or asyncio do. Rooms in a
 * LocalHub (with --hub, a RedisHub shared with other servers).
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
  serverInfo,
} from '@echoplex/core';
import { Coroutines } from './coroutines.js';
import { DatagramCoroutine } from './datagram-coroutine.js';

const MODEL = 'coroutine';
const { server: config } = readCommandLine({
  model: MODEL,
  summary: 'Echoplex on one event loop, each connection one async function: await recv, await sendall.',
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
const coroutines = new Coroutines({ limits: config, hub: chat.hub, server: view, stats, servedBy: `pid ${process.pid}` });

function info(): ServerInfo {
  return serverInfo(chat, { model: MODEL, startedAt, threads: 1, processes: 1, connections: coroutines.connections });
}

async function renderMetrics(): Promise<string> {
  return metrics.render({
    connections: coroutines.connections,
    stats,
    hub: chat.counters(),
  });
}

let nextConnectionId = chat.firstConnectionId - 1;
const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  nextConnectionId += 1;
  coroutines.serve(socket, nextConnectionId, coroutines.connections >= config.maxConnections);
});

// UDP (--udp): one async loop over the socket, a coroutine per datagram.
const datagramCoroutine = new DatagramCoroutine(
  new DatagramHandler({ limits: config, server: view, stats, servedBy: `pid ${process.pid}` }),
);
const datagrams =
  config.udpPort === undefined
    ? undefined
    : new DatagramEndpoint({ host: config.udpHost, port: config.udpPort, stats, serve: datagramCoroutine.deliver });
if (datagrams !== undefined) void datagramCoroutine.run();

await runServer({
  model: MODEL,
  config,
  logger,
  listener,
  connections: () => coroutines.connections,
  drain: async (drainTimeoutMs) => {
    datagramCoroutine.close();
    await coroutines.drain(drainTimeoutMs);
    await chat.close();
  },
  announce: { hub: chat.name, node: chat.node },
  ...(datagrams === undefined ? {} : { datagrams }),
});
