#!/usr/bin/env node
/**
 * The blocking model: one thread per connection, each running the textbook loop of recv -> Session -> sendall on a blocking
 * socket. Node has no blocking sockets, so a thread gets its connection's fd and calls libc's poll/recv/send on it (src/libc/);
 * the main thread only accepts (never reading), closes what threads are done with, and holds the one hub (a LocalHub, or with
 * --hub a RedisHub shared with other servers) that threads reach through a HubRelay.
 */
import { booleanFlag, integerFlag, waitingFlag } from '@echoplex/core';
import { DatagramThreads } from '@echoplex/core/node';
import { type ModelReport, startServer } from '@echoplex/core/server';
import { CachedThreadPool } from './thread-pool.js';

const server = await startServer({
  model: 'blocking',
  summary: 'Echoplex with one thread per connection, written against a blocking socket API (recv, sendall).',
  flags: {
    threads: integerFlag('handler threads at most; connections beyond wait for one (1: the iterative server)', 64, 1, 10_000),
    'max-waiting': waitingFlag('a thread'),
    prestart: integerFlag('threads started at boot, before the listening line, and never retired (the prethreaded server)', 0, 0, 10_000),
    'inject-faults': booleanFlag('tests only: a handler thread that receives the bytes CRASH-THREAD throws and dies'),
  },
  check: (flags) => (flags.prestart > flags.threads ? `--prestart ${flags.prestart} is more than --threads ${flags.threads}` : undefined),
  report,
});
const { config, flags, view } = server;
const pool = new CachedThreadPool(server, {
  maxThreads: flags.threads,
  minThreads: flags.prestart,
  maxWaiting: flags['max-waiting'],
  injectFaults: flags['inject-faults'],
});

function report(): ModelReport {
  return {
    threads: pool.liveThreads + udp.size,
    processes: 1,
    connections: pool.connections,
    info: { threadsBusy: pool.busyThreads, threadLimit: flags.threads, connectionsWaiting: pool.waitingConnections },
    stats: () => Promise.all([pool.stats(), udp.stats()]),
    gauges: {
      echoplex_threads: { help: 'Handler threads alive', values: [{ value: pool.liveThreads }] },
      echoplex_threads_busy: { help: 'Handler threads serving a connection', values: [{ value: pool.busyThreads }] },
      echoplex_thread_limit: { help: 'Handler threads at most (--threads)', values: [{ value: flags.threads }] },
      echoplex_connections_waiting: { help: 'Connections accepted and waiting for a thread', values: [{ value: pool.waitingConnections }] },
    },
  };
}

// UDP (--udp): as Python's ThreadingUDPServer, each datagram to a thread of its own; the main thread reads and sends.
const udp = DatagramThreads.threadPerDatagram(flags.threads, config, view);
const datagrams = server.datagramEndpoint(udp.serve);

await server.run({
  // Over --max-connections, or past --max-waiting, the main thread answers BUSY itself: no thread is spent on a refusal.
  serve: (socket, id) => (pool.connections >= config.maxConnections || !pool.admits ? server.refuse(socket, id) : pool.serve(socket, id)),
  start: () => pool.prestart(flags.prestart),
  drain: async (drainTimeoutMs) => {
    await Promise.all([pool.drain(drainTimeoutMs), udp.close()]);
  },
  // The main thread never reads a served connection: its thread reads the fd itself.
  pauseOnConnect: true,
  announce: { threads: flags.threads },
  datagrams,
});
