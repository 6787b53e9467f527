/** Opens the one listener of PROTOCOL.md (TCP or a Unix socket, replacing a stale socket file) and names its address. */
import { lstat, unlink } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import type { ServerConfig } from './config.js';
import { ConfigError } from './config.js';

/** Whether a server answers on this Unix socket path. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** A socket file left by a dead server is removed; one a live server answers on is an error. */
async function replaceStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new ConfigError(`--socket ${path}: the path exists and is not a socket`);
  if (await socketAnswers(path)) throw new ConfigError(`--socket ${path}: another server is listening there`);
  await unlink(path);
}

/** Starts listening; resolves with the address for the `listening` line. */
export async function listen(server: Server, config: ServerConfig): Promise<string> {
  const { socketPath } = config;
  if (socketPath !== undefined) await replaceStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = socketPath ?? `${config.host}:${config.port}`;
      reject(new ConfigError(`cannot listen on ${where}: ${error.code ?? error.message}`));
    };
    server.once('error', onError);
    const ready = () => {
      server.off('error', onError);
      resolve();
    };
    if (socketPath !== undefined) server.listen({ path: socketPath, backlog: config.backlog }, ready);
    else server.listen({ host: config.host, port: config.port, backlog: config.backlog }, ready);
  });
  const address = server.address();
  if (typeof address === 'string') return address;
  if (address === null) throw new Error('listener has no address');
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}
