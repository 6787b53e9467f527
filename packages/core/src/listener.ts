/** Opens the one listener of PROTOCOL.md (TCP or a Unix socket, replacing a stale socket file) and names its address. */
import { lstat, stat, unlink } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { ServerConfig } from './config.js';
import { ConfigError } from './config.js';

/** The flags were fine but the machine said no (a port taken, a socket in use): not a usage error. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** What the errno of a failed listen means, for the person who has to fix it. */
const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another server listens there; pick another --port, or --port 0 for a free one',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no interface of this machine has that address (see --host)',
  ENOTFOUND: 'the host name does not resolve (see --host)',
};

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
  const directory = dirname(resolve(path));
  const folder = await stat(directory).catch(() => undefined);
  if (folder === undefined) throw new ConfigError(`--socket ${path}: the directory ${directory} does not exist`);
  if (!folder.isDirectory()) throw new ConfigError(`--socket ${path}: ${directory} is not a directory`);
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new ConfigError(`--socket ${path}: the path exists and is not a socket`);
  if (await socketAnswers(path)) throw new ListenError(`--socket ${path}: another server is listening there`);
  await unlink(path);
}

/** Starts listening; resolves with the address for the `listening` line. */
export async function listen(server: Server, config: ServerConfig): Promise<string> {
  const { socketPath } = config;
  if (socketPath !== undefined) await replaceStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = socketPath ?? `${config.host}:${config.port}`;
      const meaning = error.code === undefined ? undefined : LISTEN_ERRORS[error.code];
      reject(new ListenError(`cannot listen on ${where}: ${error.code ?? error.message}${meaning === undefined ? '' : `: ${meaning}`}`));
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
