/**
 * What every model's main does the same way, written once: read the flags, log, open the hub
 * the flags name, answer INFO and /metrics from the model's own counts, accept connections
 * with ids unique on the hub, bind --udp, then listen, announce, serve until SIGTERM or SIGINT,
 * drain, close the hub and exit 0. A main keeps only its strategy: what serves a connection
 * or a datagram, what it counts, how it drains.
 */
import { createServer, type Socket } from 'node:net';
import { exitOnStartupError, readCommandLine } from './cli.js';
import type { CliSpec, FlagSpec, FlagValues, ServerConfig } from './config.js';
import { DatagramEndpoint, type DatagramListener, type DatagramServe } from './datagram-endpoint.js';
import { removeAbandonedUploads } from './directory-store.js';
import { HubRelay } from './hub-relay.js';
import { listen } from './listener.js';
import { createLogger, type Logger, logListening } from './logger.js';
import { MetricsExporter, type ModelGauge } from './metrics.js';
import { openHub, type ServerHub } from './server-hub.js';
import { serverInfo } from './server-info.js';
import type { ServerInfo, ServerView } from './server-view.js';
import { onShutdownSignal } from './shutdown.js';
import { SocketSessions } from './socket-sessions.js';
import { ServerStats, type StatsSnapshot, sumSnapshots } from './stats.js';

/**
 * What only the model knows of itself, read at every INFO, /metrics scrape and at shutdown:
 * its threads, processes and connections now, its own INFO fields and gauges, and the
 * counters its threads or children keep (summed with the process's own `stats`).
 */
export interface ModelReport {
  readonly threads: number;
  readonly processes: number;
  readonly connections: number;
  /** The model's own INFO fields, after the shared ones. */
  readonly info?: Readonly<Record<string, unknown>>;
  /** Asked at each scrape only (a thread or child may take up to STATS_TIMEOUT_MS); undefined: one that has sent none. */
  readonly stats?: () => Promise<readonly (StatsSnapshot | undefined)[]>;
  readonly gauges?: Readonly<Record<string, ModelGauge>>;
}

export interface ServerSpec<Flags extends Record<string, FlagSpec<unknown>>> extends CliSpec<Flags> {
  /** Called only once the server runs. */
  report(): ModelReport;
}

/** What a pool of threads or children takes from the process that runs it (a ServerProcess). */
export interface PoolHost {
  readonly config: ServerConfig;
  /** The process's own counters, where a pool counts what it answers itself. */
  readonly stats: ServerStats;
  readonly view: ServerView;
  readonly relay: HubRelay;
  readonly logger: Logger;
  refuse(socket: Socket, id: number): void;
}

export interface ServeOptions {
  /** Hands each accepted connection over with its id (from the hub's first id, so ids are unique across servers on it). */
  serve(socket: Socket, id: number): void;
  /** Sockets handed over paused, so that every byte the client sent is left for whoever reads it. */
  readonly pauseOnConnect?: boolean;
  /** Runs before the server listens (a pool starts its threads or children here); how long it took is logged. */
  start?(): Promise<void>;
  /** Shuts every connection down; resolves once all are closed or `drainTimeoutMs` has passed. Refusals drain beside it, the hub after it. */
  drain(drainTimeoutMs: number): Promise<void>;
  /** The model's own fields on the `listening` line, after `hub` and `node`. */
  readonly announce?: Readonly<Record<string, unknown>>;
  /** The --udp socket, bound after the listener; its address joins the `listening` line as `udpAddress`. */
  readonly datagrams?: DatagramListener | undefined;
}

/** Reads the flags (printing help, the version or a usage error and exiting) and opens the hub; exits 1 naming Redis if it does not answer. */
export async function startServer<Flags extends Record<string, FlagSpec<unknown>>>(
  spec: ServerSpec<Flags>,
): Promise<ServerProcess<FlagValues<Flags>>> {
  const { server: config, model: flags } = readCommandLine(spec);
  const logger = createLogger(spec.model, config.logLevel);
  if (config.filesDir !== undefined) {
    const removed = removeAbandonedUploads(config.filesDir);
    if (removed > 0) logger.info({ dir: config.filesDir, removed }, 'removed the temporary uploads of processes that died');
  }
  // With --hub, waits up to 10 s for Redis.
  const chat = await openHub(config.hub, logger).catch((error: unknown) => exitOnStartupError(spec.model, error));
  return new ServerProcess(spec, config, flags, logger, chat);
}

/** One model's server process: its flags, logs, hub, counters and view, and the life that runs it. */
export class ServerProcess<Flags> implements PoolHost {
  /** The process's own counters: sessions it runs, connections it refuses, datagrams it reads. */
  readonly stats = new ServerStats();
  /** INFO and /metrics of the whole server, for sessions here and for the relays to other threads or processes. */
  readonly view: ServerView = {
    info: (done) => done(this.info()),
    metrics: (done) => {
      void this.renderMetrics().then(done);
    },
  };
  private readonly startedAt = Date.now();
  private readonly exporter: MetricsExporter;
  private hubRelay: HubRelay | undefined;
  private refusals: SocketSessions | undefined;

  constructor(
    private readonly spec: Pick<ServerSpec<Record<string, FlagSpec<unknown>>>, 'model' | 'report'>,
    readonly config: ServerConfig,
    readonly flags: Flags,
    readonly logger: Logger,
    /** The hub: a LocalHub, or with --hub a RedisHub shared with other servers. */
    readonly chat: ServerHub,
  ) {
    this.exporter = new MetricsExporter(spec.model);
  }

  /** The hub for sessions in other threads or processes: one HubRelay, told whenever Redis goes away or comes back. */
  get relay(): HubRelay {
    if (this.hubRelay === undefined) {
      const relay = new HubRelay(this.chat.hub);
      this.chat.onAvailabilityChange(() => relay.availabilityChanged());
      this.hubRelay = relay;
    }
    return this.hubRelay;
  }

  /**
   * Answers the connection's first request ERR BUSY here, in its dialect, and closes it: over
   * --max-connections, or while no thread or child could take it, none is spent on a refusal.
   */
  refuse(socket: Socket, id: number): void {
    this.refusals ??= new SocketSessions({
      limits: this.config,
      hub: this.chat.hub,
      server: this.view,
      stats: this.stats,
      servedBy: 'refusal',
    });
    this.refusals.serve(socket, id, true);
    // Accepted paused (pauseOnConnect): the refusal reads the first request to answer in its dialect.
    if (socket.isPaused()) socket.resume();
  }

  /** Where --udp and --udp-host say to bind; undefined without --udp. */
  get udpAddress(): { readonly host: string; readonly port: number } | undefined {
    const { udpHost, udpPort } = this.config;
    return udpPort === undefined ? undefined : { host: udpHost, port: udpPort };
  }

  /** The --udp socket, each datagram handed to `serve` and counted in `stats`; undefined without --udp. */
  datagramEndpoint(serve: DatagramServe): DatagramEndpoint | undefined {
    const address = this.udpAddress;
    return address === undefined ? undefined : new DatagramEndpoint({ ...address, stats: this.stats, serve });
  }

  /** Starts the server and returns once it listens; a signal later drains it and exits the process with status 0. */
  async run(options: ServeOptions): Promise<void> {
    const { config, logger, chat } = this;
    let nextConnectionId = chat.firstConnectionId - 1;
    const listener = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: options.pauseOnConnect ?? false }, (socket) => {
      nextConnectionId += 1;
      options.serve(socket, nextConnectionId);
    });
    onShutdownSignal(async (signal) => {
      logger.info({ signal, connections: this.spec.report().connections }, 'shutting down');
      listener.close();
      await options.datagrams?.close();
      await Promise.all([options.drain(config.drainTimeoutMs), this.refusals?.drain(config.drainTimeoutMs)]);
      await chat.close();
      logger.info('stopped');
      process.exit(0);
    });
    try {
      if (options.start !== undefined) {
        const startedAt = performance.now();
        await options.start();
        logger.info({ ms: Math.round(performance.now() - startedAt) }, 'started');
      }
      const address = await listen(listener, config);
      const udpAddress = await options.datagrams?.bind();
      const announce = { hub: chat.name, node: chat.node, ...options.announce };
      logListening(this.spec.model, address, udpAddress === undefined ? announce : { ...announce, udpAddress });
    } catch (error) {
      exitOnStartupError(this.spec.model, error);
    }
  }

  private info(): ServerInfo {
    const { threads, processes, connections, info } = this.spec.report();
    return serverInfo(this.chat, { model: this.spec.model, startedAt: this.startedAt, threads, processes, connections }, info);
  }

  private async renderMetrics(): Promise<string> {
    const { connections, stats, gauges } = this.spec.report();
    return this.exporter.render({
      connections,
      stats: sumSnapshots([this.stats.snapshot(), ...((await stats?.()) ?? [])]),
      hub: this.chat.counters(),
      ...(gauges === undefined ? {} : { gauges }),
    });
  }
}
