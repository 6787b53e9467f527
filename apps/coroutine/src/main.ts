#!/usr/bin/env node
/**
 * The coroutine model: one thread, one event loop, as event-loop; but each connection is
 * one async function written like blocking's handler (await recv, await sendall), and
 * the loop switches between them at each await, as gevent or asyncio do. Rooms in a
 * LocalHub (with --hub, a RedisHub shared with other servers).
 */
import { DatagramHandler } from '@echoplex/core';
import { type ModelReport, startServer } from '@echoplex/core/server';
import { Coroutines } from './coroutines.js';
import { DatagramCoroutine } from './datagram-coroutine.js';

const server = await startServer({
  model: 'coroutine',
  summary: 'Echoplex on one event loop, each connection one async function: await recv, await sendall.',
  flags: {},
  report,
});
const { config, view, stats } = server;
const coroutines = new Coroutines({ limits: config, hub: server.chat.hub, server: view, stats, servedBy: `pid ${process.pid}` });

function report(): ModelReport {
  return {
    threads: 1,
    processes: 1,
    connections: coroutines.connections,
  };
}

// UDP (--udp): one async loop over the socket, a coroutine per datagram.
const datagramCoroutine = new DatagramCoroutine(
  new DatagramHandler({ limits: config, server: view, stats, servedBy: `pid ${process.pid}` }),
);
const datagrams = server.datagramEndpoint(datagramCoroutine.deliver);
if (datagrams !== undefined) void datagramCoroutine.run();

await server.run({
  serve: (socket, id) => coroutines.serve(socket, id, coroutines.connections >= config.maxConnections),
  drain: async (drainTimeoutMs) => {
    datagramCoroutine.close();
    await coroutines.drain(drainTimeoutMs);
  },
  datagrams,
});
