/**
 * UDP in the forking model (`--udp`): the parent binds one UDP socket and forks children that
 * all read it, as prefork children share one listening socket: the kernel hands each datagram
 * to one of them. The parent holds the socket only to give it to children (a new one replaces a
 * child that dies); it never reads a datagram, so it keeps a bare handle, not a dgram socket.
 */
import { type ChildProcess, fork } from 'node:child_process';
import dgram from 'node:dgram';
import {
  isViewMessage,
  type ServerView,
  type SessionLimits,
  type StatsSnapshot,
  sumSnapshots,
  type ViewFromParent,
  type ViewToParent,
} from '@echoplex/core';
import { type DatagramListener, ListenError, type ViewChannel, ViewRelay } from '@echoplex/core/node';

export interface DatagramChildConfig {
  readonly limits: SessionLimits;
}

/** Besides the socket and the stop, core's server-view messages (INFO answered, counters asked for). */
export type ToDatagramChild = { readonly kind: 'socket' } | ViewFromParent | { readonly kind: 'stop' };

export type FromDatagramChild = { readonly kind: 'ready' } | ViewToParent;

export interface DatagramChildrenOptions {
  readonly host: string;
  readonly port: number;
  readonly children: number;
  readonly limits: SessionLimits;
  /** INFO is answered from here, with the whole server's numbers. */
  readonly server: ServerView;
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
  /** Each UDP child alive, and its end of the server view. */
  private readonly children = new Map<ChildProcess, ViewChannel>();
  private readonly view: ViewRelay;
  private stopping = false;

  constructor(private readonly options: DatagramChildrenOptions) {
    this.view = new ViewRelay(options.server);
  }

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

  /** Every UDP child's counters summed, for /metrics (one busy past STATS_TIMEOUT_MS counts as the last it sent). */
  async stats(): Promise<StatsSnapshot> {
    return sumSnapshots(await Promise.all([...this.children.values()].map((view) => view.stats())));
  }

  async close(): Promise<void> {
    this.stopping = true;
    const exits = [...this.children.keys()].map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
    for (const child of this.children.keys()) child.send({ kind: 'stop' } satisfies ToDatagramChild);
    this.handle?.close();
    this.handle = undefined;
    await Promise.all(exits);
  }

  private spawn(handle: UdpHandle): Promise<void> {
    const config: DatagramChildConfig = { limits: this.options.limits };
    const child = fork(CHILD_ENTRY, [JSON.stringify(config)], { serialization: 'json' });
    const view = this.view.connect((message) => {
      if (child.connected) child.send(message satisfies ToDatagramChild);
    });
    this.children.set(child, view);
    child.on('error', () => {});
    child.once('exit', () => {
      view.close();
      this.children.delete(child);
      if (!this.stopping) setTimeout(() => this.handle !== undefined && !this.stopping && void this.spawn(this.handle), RESPAWN_DELAY_MS);
    });
    child.send({ kind: 'socket' } satisfies ToDatagramChild, handle as never);
    return new Promise((resolve, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`UDP child ${child.pid} exited (code ${code}, signal ${signal}) before it was ready`)),
      );
      child.on('message', (message: FromDatagramChild) => {
        if (isViewMessage(message)) return view.receive(message);
        switch (message.kind) {
          case 'ready':
            resolve();
            return;
        }
      });
    });
  }
}
