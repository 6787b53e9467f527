/**
 * UDP in the forking model (`--udp`): the parent binds one UDP socket and forks children that
 * all read it, as prefork children share one listening socket: the kernel hands each datagram
 * to one of them. The parent holds the socket only to give it to children (a new one replaces a
 * child that dies); it never reads a datagram, so it keeps a bare handle, not a dgram socket.
 */
import { type ChildProcess, fork } from 'node:child_process';
import dgram from 'node:dgram';
import type { DatagramListener, ServerInfo, SessionLimits, StatsSnapshot } from '@echoplex/core';
import { ListenError, ServerStats } from '@echoplex/core';

export interface DatagramChildConfig {
  readonly limits: SessionLimits;
}

export type ToDatagramChild =
  | { readonly kind: 'socket' }
  | { readonly kind: 'info'; readonly call: number; readonly info: ServerInfo }
  | { readonly kind: 'stats'; readonly call: number }
  | { readonly kind: 'stop' };

export type FromDatagramChild =
  | { readonly kind: 'ready' }
  | { readonly kind: 'info'; readonly call: number }
  | { readonly kind: 'stats'; readonly call: number; readonly snapshot: StatsSnapshot };

export interface DatagramChildrenOptions {
  readonly host: string;
  readonly port: number;
  readonly children: number;
  readonly limits: SessionLimits;
  readonly info: () => ServerInfo;
}

/** libuv's UV_UDP_REUSEADDR: several servers on one port each hear a broadcast. */
const UV_UDP_REUSEADDR = 4;
const CHILD_ENTRY = new URL('./datagram-child.js', import.meta.url);
/** A child that dies is replaced after this pause, not in a tight loop. */
const RESPAWN_DELAY_MS = 1_000;

interface UdpHandle {
  getsockname(out: { address?: string; port?: number; family?: string }): number;
  close(): void;
}

/**
 * A bound UDP handle that nothing reads yet. dgram offers no public way to bind without
 * reading, so this is the (deprecated, still exported) call node's cluster primary uses to
 * share a UDP socket with its workers; its warning is silenced for that one call.
 */
function bindSharedHandle(host: string, port: number): UdpHandle {
  const create = (dgram as unknown as { _createSocketHandle: (...args: unknown[]) => UdpHandle | number })._createSocketHandle;
  const quiet = process.noDeprecation === true;
  process.noDeprecation = true;
  let handle: UdpHandle | number;
  try {
    handle = create(host, port, host.includes(':') ? 'udp6' : 'udp4', -1, UV_UDP_REUSEADDR);
  } finally {
    process.noDeprecation = quiet;
  }
  if (typeof handle === 'number') throw new ListenError(`cannot bind UDP ${host}:${port}: errno ${handle} (see --udp, --udp-host)`);
  return handle;
}

export class DatagramChildren implements DatagramListener {
  private handle: UdpHandle | undefined;
  private readonly children = new Set<ChildProcess>();
  private readonly statsCalls = new Map<number, (snapshot: StatsSnapshot) => void>();
  private nextCall = 0;
  private stopping = false;

  constructor(private readonly options: DatagramChildrenOptions) {}

  /** UDP children alive. */
  get size(): number {
    return this.children.size;
  }

  async bind(): Promise<string> {
    const { host, port, children } = this.options;
    const handle = bindSharedHandle(host, port);
    this.handle = handle;
    await Promise.all(Array.from({ length: children }, () => this.spawn(handle)));
    const address: { address?: string; port?: number; family?: string } = {};
    handle.getsockname(address);
    return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }

  /** Every UDP child's counters, for /metrics (a child that does not answer within a second counts as zeros). */
  snapshots(): Promise<StatsSnapshot[]> {
    return Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<StatsSnapshot>((resolve) => {
            this.nextCall += 1;
            const call = this.nextCall;
            const timer = setTimeout(() => {
              this.statsCalls.delete(call);
              resolve(new ServerStats().snapshot());
            }, 1_000);
            this.statsCalls.set(call, (snapshot) => {
              clearTimeout(timer);
              resolve(snapshot);
            });
            child.send({ kind: 'stats', call } satisfies ToDatagramChild);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    this.stopping = true;
    const exits = [...this.children].map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
    for (const child of this.children) child.send({ kind: 'stop' } satisfies ToDatagramChild);
    this.handle?.close();
    this.handle = undefined;
    await Promise.all(exits);
  }

  private spawn(handle: UdpHandle): Promise<void> {
    const config: DatagramChildConfig = { limits: this.options.limits };
    const child = fork(CHILD_ENTRY, [JSON.stringify(config)], { serialization: 'json' });
    this.children.add(child);
    child.on('error', () => {});
    child.once('exit', () => {
      this.children.delete(child);
      if (!this.stopping) setTimeout(() => this.handle !== undefined && !this.stopping && void this.spawn(this.handle), RESPAWN_DELAY_MS);
    });
    child.send({ kind: 'socket' } satisfies ToDatagramChild, handle as never);
    return new Promise((resolve, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`UDP child ${child.pid} exited (code ${code}, signal ${signal}) before it was ready`)),
      );
      child.on('message', (message: FromDatagramChild) => {
        switch (message.kind) {
          case 'ready':
            resolve();
            return;
          case 'info':
            child.send({ kind: 'info', call: message.call, info: this.options.info() } satisfies ToDatagramChild);
            return;
          case 'stats': {
            const done = this.statsCalls.get(message.call);
            this.statsCalls.delete(message.call);
            done?.(message.snapshot);
            return;
          }
        }
      });
    });
  }
}
