#!/usr/bin/env node
/**
 * The coroutine model: one thread, one event loop, as event-loop; but each connection is one async function written like blocking's
 * handler (await recv, await sendall), and the loop switches between them at each await, as gevent or asyncio do.
 */
import { DatagramHandler } from '@echoplex/core';
import { loopFileStore } from '@echoplex/core/node';
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
const files = loopFileStore(config);
const coroutines = new Coroutines({ limits: config, hub: server.chat.hub, server: view, stats, servedBy: `pid ${process.pid}`, files });

function report(): ModelReport {
  return {
    threads: 1,
    processes: 1,
    connections: coroutines.connections,
  };
}

// UDP (--udp): one async loop over the socket, a coroutine per datagram.
const udp = new DatagramCoroutine(new DatagramHandler({ limits: config, server: view, stats, servedBy: `pid ${process.pid}` }));
const datagrams = server.datagramEndpoint(udp.deliver);
if (datagrams !== undefined) void udp.run();

await server.run({
  serve: (socket, id) => coroutines.serve(socket, id, coroutines.connections >= config.maxConnections),
  drain: async (drainTimeoutMs) => {
    udp.close();
    await coroutines.drain(drainTimeoutMs);
  },
  datagrams,
});
