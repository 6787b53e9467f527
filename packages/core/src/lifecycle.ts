/** The life every model's server shares: start, listen, announce, serve until SIGTERM or SIGINT, drain, exit 0. */
import type { Server } from 'node:net';
import { exitOnStartupError } from './cli.js';
import type { ServerConfig } from './config.js';
import type { DatagramListener } from './datagram-endpoint.js';
import { listen } from './listener.js';
import { type Logger, logListening } from './logger.js';
import { onShutdownSignal } from './shutdown.js';

export interface ServerLifecycle {
  readonly model: string;
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Accepts connections; the model's connection handler is already attached. */
  readonly listener: Server;
  /** Connections being served now, for the shutdown log line. */
  connections(): number;
  /** Shuts every connection down; resolves once all are closed or `drainTimeoutMs` has passed. */
  drain(drainTimeoutMs: number): Promise<void>;
  /** Runs before the server listens (a pool starts its workers here). */
  start?(): Promise<void>;
  /** The model's own fields on the `listening` line. */
  readonly announce?: Readonly<Record<string, unknown>>;
  /** The `--udp` socket, bound after the listener; its address joins the `listening` line as `udpAddress`. */
  readonly datagrams?: DatagramListener;
}

/** Starts the server and returns once it listens; a signal later drains it and exits the process with status 0. */
export async function runServer(server: ServerLifecycle): Promise<void> {
  const { model, config, logger, listener } = server;
  onShutdownSignal(async (signal) => {
    logger.info({ signal, connections: server.connections() }, 'shutting down');
    listener.close();
    await server.datagrams?.close();
    await server.drain(config.drainTimeoutMs);
    logger.info('stopped');
    process.exit(0);
  });
  try {
    await server.start?.();
    const address = await listen(listener, config);
    const udpAddress = await server.datagrams?.bind();
    logListening(model, address, udpAddress === undefined ? server.announce : { ...server.announce, udpAddress });
  } catch (error) {
    exitOnStartupError(model, error);
  }
}
