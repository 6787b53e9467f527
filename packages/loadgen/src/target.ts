/** Where a server listens, as the CLI spells it (`tcp://host:port`, `unix:/path`), and how to reach it. */
import type net from 'node:net';

export type Target =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** A target string the CLI cannot use. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/**
 * Parses `tcp://host:port`, `unix:/path` (or `unix:///path`), and the shorthands `host:port`
 * and a bare absolute socket path, which is what a server's `listening` line prints.
 */
export function parseTarget(text: string): Target {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new TargetError(`unix target needs a socket path: '${text}'`);
    return { kind: 'unix', path };
  }
  if (text.startsWith('/')) return { kind: 'unix', path: text };
  const hostPort = text.startsWith('tcp://') ? text.slice('tcp://'.length) : text;
  const match = /^(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(hostPort);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || !(port >= 1 && port <= 65535)) {
    throw new TargetError(`target must be tcp://host:port or unix:/path, got '${text}'`);
  }
  const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host, port };
}

export function formatTarget(target: Target): string {
  return target.kind === 'unix'
    ? `unix:${target.path}`
    : `tcp://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

/** Connection options for `net.connect`, without the read callback the caller may add. */
export function connectOptions(target: Target): net.NetConnectOpts {
  return target.kind === 'unix' ? { path: target.path } : { host: target.host, port: target.port };
}
