#!/usr/bin/env node
/**
 * The forking model: child processes, as Apache's prefork and Python's ForkingMixIn.
 * The parent accepts, counts, and hands each socket to a child that does all of its
 * IO; rooms and nicks stay in the parent's LocalHub (with --hub, a RedisHub shared with
 * other servers), relayed over IPC. A child that crashes takes only its own connections with it.
 */
import { availableParallelism } from 'node:os';
import { choiceFlag, integerFlag, sessionLimits, waitingFlag } from '@echoplex/core';
import { type ModelReport, startServer } from '@echoplex/core/server';
import type { ChildPool, PoolOptions } from './child-pool.js';
import { DatagramChildren } from './datagram-children.js';
import { PerConnectionPool } from './per-connection-pool.js';
import { PreforkPool } from './prefork-pool.js';

const server = await startServer({
  model: 'forking',
  summary: 'Echoplex in child processes: a prefork pool, or a fresh child per connection; rooms relayed by the parent.',
  flags: {
    mode: choiceFlag('prefork: children forked at start; per-connection: a fresh child each', 'prefork', [
      'prefork',
      'per-connection',
    ] as const),
    workers: integerFlag('prefork: how many children', availableParallelism(), 1, 1_024),
    'max-children': integerFlag('per-connection: children at once; other connections wait', 40, 1, 10_000),
    'max-waiting': waitingFlag('a child'),
  },
  report,
});
const { config, flags, view, stats } = server;
const options: PoolOptions = {
  child: { limits: sessionLimits(config), drainTimeoutMs: config.drainTimeoutMs, once: flags.mode === 'per-connection' },
  services: { relay: server.relay, view },
  maxConnections: config.maxConnections,
  maxWaiting: flags['max-waiting'],
  waitTimeoutMs: config.idleTimeoutMs,
  stats,
  // While no child can take a connection, the parent answers BUSY itself rather than fork a child to refuse it.
  refuse: (socket, id) => server.refuse(socket, id),
  logger: server.logger,
};
const pool: ChildPool =
  flags.mode === 'prefork' ? new PreforkPool(options, flags.workers) : new PerConnectionPool(options, flags['max-children']);

function report(): ModelReport {
  const children = pool.liveChildren;
  const processes = children.length + 1 + (datagramChildren?.size ?? 0);
  return {
    threads: processes,
    processes,
    connections: pool.connections,
    info: { mode: flags.mode, children: children.map((child) => child.pid), connectionsWaiting: pool.waitingCount },
    stats: () => Promise.all([pool.stats(), datagramChildren?.stats()]),
    gauges: {
      echoplex_children: { help: 'Child processes alive', values: [{ value: children.length }] },
      echoplex_connections_waiting: { help: 'Accepted connections waiting for a child', values: [{ value: pool.waitingCount }] },
      echoplex_child_connections: {
        help: 'Connections each child serves',
        labelNames: ['pid'],
        values: children.map((child) => ({ labels: { pid: String(child.pid) }, value: child.connections })),
      },
    },
  };
}

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

await server.run({
  serve: (socket, id) => pool.serve(socket, id),
  // Paused: the parent never reads a byte, so everything the client sent reaches the child.
  pauseOnConnect: true,
  start: () => pool.start(),
  drain: async (drainTimeoutMs) => {
    await pool.drain(drainTimeoutMs);
  },
  announce: { mode: flags.mode },
  datagrams: datagramChildren,
});
