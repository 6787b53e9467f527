/**
 * `echoplex-load --discover`: one PING and one INFO sent to a broadcast address (SO_BROADCAST),
 * and the servers that answer, listed with their INFO. Servers that share a UDP port (bound to
 * 0.0.0.0 with SO_REUSEADDR) answer from one address, so INFO is broadcast too: each server's
 * own INFO tells them apart, where a unicast INFO would reach only one of them.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { decodeDatagramReply, encodeFrame, FrameType, type ServerInfo } from '@echoplex/protocol';

export interface DiscoverOptions {
  /** Where the PING goes: `127.255.255.255` on loopback. */
  readonly broadcast: string;
  readonly port: number;
  /** How long to listen for answers. */
  readonly waitMs: number;
}

export interface DiscoveredServer {
  /** Where the answer came from (`host:port`). */
  readonly address: string;
  readonly info: ServerInfo;
}

export interface Discovery {
  readonly broadcast: string;
  readonly port: number;
  /** PONGs to our token: how many servers heard the PING. */
  readonly pongs: number;
  /** One entry per server (told apart by model, pid and who served), sorted by model then pid. */
  readonly servers: readonly DiscoveredServer[];
}

export const DEFAULT_DISCOVER_OPTIONS = { broadcast: '127.255.255.255', port: 7000, waitMs: 500 } as const;

export function discoverServers(options: DiscoverOptions): Promise<Discovery> {
  const { broadcast, port, waitMs } = options;
  const token = randomBytes(8);
  const ping = encodeFrame(FrameType.PING, token);
  const info = encodeFrame(FrameType.INFO);
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const servers = new Map<string, DiscoveredServer>();
    let pongs = 0;
    socket.once('error', (error) => {
      socket.close();
      reject(new Error(`cannot broadcast to ${broadcast}:${port}: ${error.message}`));
    });
    socket.on('message', (datagram, sender) => {
      let message: ReturnType<typeof decodeDatagramReply>;
      try {
        message = decodeDatagramReply(datagram);
      } catch {
        return; // Not an Echoplex reply: whatever else listens on that port.
      }
      const address = `${sender.address}:${sender.port}`;
      if (message.kind === 'PONG' && Buffer.from(message.token).equals(token)) {
        pongs += 1;
      }
      if (message.kind !== 'INFO') return;
      let parsed: ServerInfo;
      try {
        parsed = JSON.parse(message.json) as ServerInfo;
      } catch {
        return;
      }
      servers.set(`${parsed.model} ${parsed.pid} ${String(parsed.servedBy)}`, { address, info: parsed });
    });
    socket.bind(0, () => {
      socket.setBroadcast(true);
      socket.send(ping, port, broadcast);
      socket.send(info, port, broadcast);
      setTimeout(() => {
        socket.close();
        const list = [...servers.values()].sort(
          (a, b) => a.info.model.localeCompare(b.info.model) || a.info.pid - b.info.pid || a.address.localeCompare(b.address),
        );
        resolve({ broadcast, port, pongs, servers: list });
      }, waitMs);
    });
  });
}

/** The discovery as a person reads it: one line per server. */
export function formatDiscovery(discovery: Discovery): string {
  const { broadcast, port, pongs, servers } = discovery;
  const lines = [`${pongs} server(s) answered PING on ${broadcast}:${port}; ${servers.length} sent INFO`];
  for (const { address, info } of servers) {
    lines.push(
      `${address.padEnd(22)} ${info.model.padEnd(12)} pid ${String(info.pid).padEnd(8)} threads ${info.threads}  processes ${info.processes}  ` +
        `connections ${info.connections}  up ${info.uptimeSeconds}s  served by ${String(info.servedBy)}`,
    );
  }
  return lines.join('\n');
}
