/** `echoplex-load --discover [--broadcast ADDR] [--port N] [--wait T] [-j]`: its flags, its run and its output. */
import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { FlagError, parseDuration } from '../load/load-flags.js';
import { DEFAULT_DISCOVER_OPTIONS, type DiscoverOptions, discoverServers, formatDiscovery } from './discover.js';

export interface DiscoverCommand {
  readonly options: DiscoverOptions;
  readonly json: boolean;
}

/** Whether argv asks for discovery rather than a load run. */
export const wantsDiscovery = (argv: readonly string[]): boolean => argv.includes('--discover');

export function parseDiscoverFlags(argv: readonly string[]): DiscoverCommand {
  let values: { broadcast?: string; port?: string; wait?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        discover: { type: 'boolean' },
        broadcast: { type: 'string' },
        port: { type: 'string' },
        wait: { type: 'string' },
        json: { type: 'boolean', short: 'j' },
      },
    }));
  } catch (error) {
    throw new FlagError(`--discover: ${error instanceof Error ? error.message : String(error)}`);
  }
  const broadcast = values.broadcast ?? DEFAULT_DISCOVER_OPTIONS.broadcast;
  if (!isIPv4(broadcast)) throw new FlagError(`--broadcast takes an IPv4 address like 127.255.255.255, got '${broadcast}'`);
  const port = values.port === undefined ? DEFAULT_DISCOVER_OPTIONS.port : Number(values.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65_535))
    throw new FlagError(`--port takes a UDP port 1..65535, got '${values.port}'`);
  const waitSeconds = values.wait === undefined ? DEFAULT_DISCOVER_OPTIONS.waitMs / 1000 : parseDuration(values.wait, 'wait');
  if (!(waitSeconds > 0 && waitSeconds <= 60)) throw new FlagError('--wait must be above 0 and at most 60 seconds');
  return { options: { broadcast, port, waitMs: waitSeconds * 1000 }, json: values.json ?? false };
}

/** Runs a discovery and prints it; exit code 0 when a server answered, 1 when none did. */
export async function runDiscoverCommand(command: DiscoverCommand, out: NodeJS.WritableStream): Promise<number> {
  const discovery = await discoverServers(command.options);
  out.write(`${command.json ? JSON.stringify(discovery) : formatDiscovery(discovery)}\n`);
  return discovery.servers.length > 0 || discovery.pongs > 0 ? 0 : 1;
}
