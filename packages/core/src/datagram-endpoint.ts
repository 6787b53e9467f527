/**
 * The UDP socket of `--udp PORT`: binds it, hands each datagram to the model's strategy,
 * sends the answer back to its sender, and counts datagrams in, out and dropped.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { ListenError } from './listener.js';
import type { ServerStats } from './stats.js';

/** A model's UDP strategy: answer this datagram, now or later, here or on another thread (undefined: no answer). */
export type DatagramServe = (datagram: Buffer, answer: (reply: Buffer | undefined) => void) => void;

export interface DatagramEndpointOptions {
  readonly host: string;
  readonly port: number;
  readonly stats: ServerStats;
  readonly serve: DatagramServe;
}

/** What runServer binds after the listener and closes on shutdown: a DatagramEndpoint, or a model's own (prefork's shared socket). */
export interface DatagramListener {
  /** Resolves with the `host:port` for the listening line's `udpAddress`. */
  bind(): Promise<string>;
  close(): Promise<void>;
}

/** Why a bind failed, for the person who has to fix it. */
const BIND_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another socket holds that UDP port; pick another --udp, or --udp 0 for a free one',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no interface of this machine has that address (see --udp-host)',
  ENOTFOUND: 'the host name does not resolve (see --udp-host)',
};

/** `host:port` of a bound UDP socket, as the listening line names it. */
export function datagramAddress(socket: Socket): string {
  const { address, family, port } = socket.address();
  return family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

export class DatagramEndpoint implements DatagramListener {
  /**
   * `reuseAddr`, so several servers on one machine can bind `0.0.0.0` on one port and each
   * hear a broadcast PING (unicast then reaches one of them, as the kernel picks).
   */
  readonly socket: Socket;
  private closed = false;

  constructor(private readonly options: DatagramEndpointOptions) {
    this.socket = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
    this.socket.on('message', (datagram, sender) => this.receive(datagram, sender));
    // A failed send is reported to its callback; anything else must not take the server down.
    this.socket.on('error', () => {});
  }

  /** Binds the socket; resolves with its `host:port`. */
  bind(): Promise<string> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const meaning = error.code === undefined ? undefined : BIND_ERRORS[error.code];
        reject(
          new ListenError(`cannot bind UDP ${host}:${port}: ${error.code ?? error.message}${meaning === undefined ? '' : `: ${meaning}`}`),
        );
      };
      this.socket.once('error', onError);
      this.socket.bind({ address: host, port }, () => {
        this.socket.off('error', onError);
        resolve(datagramAddress(this.socket));
      });
    });
  }

  /**
   * Reads a socket another process bound: the UDP handle a prefork parent sent with
   * `child.send(message, handle)`, which dgram's bind takes in place of a port.
   */
  bindShared(handle: object): Promise<string> {
    return new Promise((resolve) => {
      this.socket.bind(handle as unknown as number, () => resolve(datagramAddress(this.socket)));
    });
  }

  /** Stops hearing datagrams; answers still on their way are dropped. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(datagram: Buffer, sender: RemoteInfo): void {
    const { stats, serve } = this.options;
    stats.datagramsReceived += 1;
    stats.bytesReceived += datagram.length;
    serve(datagram, (reply) => {
      if (reply === undefined || this.closed) {
        stats.datagramsDropped += 1;
        return;
      }
      this.socket.send(reply, sender.port, sender.address, (error) => {
        if (error) {
          stats.datagramsDropped += 1;
        } else {
          stats.datagramsSent += 1;
          stats.bytesSent += reply.length;
        }
      });
    });
  }
}
