#!/usr/bin/env node
/**
 * The coroutine model: one thread, one event loop, as event-loop; but each connection is
 * one async function written like blocking's handler (await recv, await sendall), and
 * the loop switches between them at each await, as gevent or asyncio do.
 */
import { createServer } from 'node:net';
import {
  createLogger,
  DatagramEndpoint,
  DatagramHandler,
  LocalHub,
  MetricsExporter,
  readCommandLine,
  runServer,
  type ServerInfo,
  ServerStats,
  type ServerView,
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
    void metrics.render({ connections: coroutines.size, stats }).then(done);
  },
};
const hub = new LocalHub();
const coroutines = new Coroutines({ limits: config, hub, server: view, stats, servedBy: `pid ${process.pid}` });

function info(): ServerInfo {
  return {
    model: MODEL,
    pid: process.pid,
    threads: 1,
    processes: 1,
    connections: coroutines.size,
    rooms: hub.roomCount,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    protocol: 1,
  };
}

let nextConnectionId = 0;
const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  nextConnectionId += 1;
  coroutines.serve(socket, nextConnectionId, coroutines.size >= config.maxConnections);
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
  connections: () => coroutines.size,
  drain: (drainTimeoutMs) => {
    datagramCoroutine.close();
    return coroutines.shutdown(drainTimeoutMs);
  },
  ...(datagrams === undefined ? {} : { datagrams }),
});
