#!/usr/bin/env node
/**
 * The event-loop model: one thread, one event loop, every connection on it: accept on the loop, serve each socket with a core
 * session, keep rooms in a LocalHub (with --hub, a RedisHub). A WORK request holds up everyone else: that is the lesson.
 */
import { DatagramHandler } from '@echoplex/core';
import { loopFileStore, SocketSessions } from '@echoplex/core/node';
import { type ModelReport, startServer } from '@echoplex/core/server';

const server = await startServer({
  model: 'event-loop',
  summary: 'Echoplex on one thread and one event loop: every connection on node:net.',
  flags: {},
  report,
});
const { config, view, stats } = server;
const files = loopFileStore(config);
const sessions = new SocketSessions({ limits: config, hub: server.chat.hub, server: view, stats, servedBy: `pid ${process.pid}`, files });

function report(): ModelReport {
  return {
    threads: 1,
    processes: 1,
    connections: sessions.connections,
  };
}

// UDP (--udp): each datagram is answered on the loop as it arrives, like a request on a connection.
const udp = new DatagramHandler({ limits: config, server: view, stats, servedBy: `pid ${process.pid}` });
const datagrams = server.datagramEndpoint(udp.serve);

await server.run({
  serve: (socket, id) => sessions.serve(socket, id, sessions.connections >= config.maxConnections),
  drain: async (drainTimeoutMs) => {
    await sessions.drain(drainTimeoutMs);
  },
  datagrams,
});
