#!/usr/bin/env node
/**
 * The worker-pool model: a fixed pool of worker_threads, each serving many connections with its own event loop. The main thread
 * accepts, keeps the sockets and the rooms (a HubRelay over one LocalHub, or with --hub a RedisHub shared with other servers);
 * each connection's session lives in one worker for its whole life, so WORK on one worker leaves the others and the main thread free.
 */
import { availableParallelism } from 'node:os';
import { booleanFlag, integerFlag, sessionLimits } from '@echoplex/core';
import { DatagramThreads } from '@echoplex/core/node';
import { type ModelReport, startServer } from '@echoplex/core/server';
import { WorkerPool } from './worker-pool.js';

const server = await startServer({
  model: 'worker-pool',
  summary: 'Echoplex on a fixed pool of worker_threads: the main thread accepts, each connection lives in one worker.',
  flags: {
    workers: integerFlag('worker threads serving connections', availableParallelism(), 1, 256),
    'inject-faults': booleanFlag('let a client kill its worker with a trigger string (tests only)'),
  },
  report,
});
const { config, flags, view } = server;
const setup = (index: number) => ({ index, limits: sessionLimits(config), injectFaults: flags['inject-faults'] });
const pool = new WorkerPool(flags.workers, setup, server.relay, view, server.logger);

function report(): ModelReport {
  return {
    threads: pool.size + 1 + udp.size,
    processes: 1,
    connections: pool.connections,
    info: { workers: pool.size, workerConnections: pool.connectionsByWorker() },
    stats: () => Promise.all([pool.stats(), udp.stats()]),
    gauges: {
      echoplex_workers: { help: 'Worker threads in the pool', values: [{ value: pool.size }] },
      echoplex_worker_connections: {
        help: 'Connections served now by each worker',
        values: pool.connectionsByWorker().map((value, worker) => ({ labels: { worker: String(worker) }, value })),
      },
    },
  };
}

// UDP (--udp): the main thread reads the socket and hands each datagram to the least busy of --workers datagram workers,
// so WORK over UDP spreads over the cores as connections do.
const udp = DatagramThreads.fixedPool(config.udpPort === undefined ? 0 : flags.workers, config, view);
const datagrams = server.datagramEndpoint(udp.serve);

await server.run({
  serve: (socket, id) => pool.serve(socket, id, pool.connections >= config.maxConnections),
  drain: async (drainTimeoutMs) => {
    await Promise.all([pool.drain(drainTimeoutMs), udp.close()]);
  },
  announce: { workers: flags.workers },
  datagrams,
});
