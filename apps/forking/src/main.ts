#!/usr/bin/env node
/**
 * The forking model: child processes, as Apache's prefork and Python's ForkingMixIn. The parent accepts and hands each socket to a
 * child that does all of its IO; rooms stay in the parent's hub, relayed over IPC. A crashing child takes only its own connections.
 */
import { availableParallelism } from 'node:os';
import { choiceFlag, integerFlag, sessionLimits, waitingFlag } from '@echoplex/core';
import { type ModelReport, startServer } from '@echoplex/core/server';
import { poolOptions } from './child-pool.js';
import { DatagramChildren } from './datagram-children.js';
import { PerConnectionPool } from './per-connection-pool.js';
import { PreforkPool } from './prefork-pool.js';

const server = await startServer({
  model: 'forking',
  summary: 'Echoplex in child processes: a prefork pool, or a fresh child per connection; rooms relayed by the parent.',
  flags: {
    mode: choiceFlag('prefork: children forked at start, or one per connection', 'prefork', ['prefork', 'per-connection'] as const),
    workers: integerFlag('prefork: how many children', availableParallelism(), 1, 1_024),
    'max-children': integerFlag('per-connection: children at once; other connections wait', 40, 1, 10_000),
    'max-waiting': waitingFlag('a child'),
  },
  report,
});
const { config, flags, view } = server;
const options = poolOptions(server, { once: flags.mode === 'per-connection', maxWaiting: flags['max-waiting'] });
const pool = flags.mode === 'prefork' ? new PreforkPool(options, flags.workers) : new PerConnectionPool(options, flags['max-children']);

function report(): ModelReport {
  const processes = pool.liveChildren.length + 1 + (datagrams?.size ?? 0);
  return {
    threads: processes,
    processes,
    connections: pool.connections,
    info: { mode: flags.mode, children: pool.liveChildren.map((child) => child.pid), connectionsWaiting: pool.waitingCount },
    stats: () => Promise.all([pool.stats(), datagrams?.stats()]),
    gauges: {
      echoplex_children: { help: 'Child processes alive', values: [{ value: pool.liveChildren.length }] },
      echoplex_connections_waiting: { help: 'Accepted connections waiting for a child', values: [{ value: pool.waitingCount }] },
      echoplex_child_connections: {
        help: 'Connections each child serves',
        labelNames: ['pid'],
        values: pool.liveChildren.map((child) => ({ labels: { pid: String(child.pid) }, value: child.connections })),
      },
    },
  };
}

// UDP (--udp): --workers children read the one socket the parent bound, as prefork children share a listener (no fork per datagram).
const udp = server.udpAddress;
const datagrams = udp && new DatagramChildren({ ...udp, children: flags.workers, limits: sessionLimits(config), server: view });

await server.run({
  serve: (socket, id) => pool.serve(socket, id),
  pauseOnConnect: true, // the parent never reads a byte, so everything the client sent reaches the child
  start: () => pool.start(),
  drain: async (drainTimeoutMs) => {
    await pool.drain(drainTimeoutMs);
  },
  announce: { mode: flags.mode },
  datagrams,
});
