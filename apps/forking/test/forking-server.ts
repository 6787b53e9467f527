/** What the forking tests ask of a running server tree: its INFO, its children's pids, whether a pid still lives. */
import { existsSync, readFileSync } from 'node:fs';
import { killAllServers, type RunningServer, sleep, startServer, TextClient } from '@echoplex/conformance';
import { afterAll, beforeAll } from 'vitest';

export interface ForkingInfo {
  readonly processes: number;
  readonly connections: number;
  readonly children: readonly number[];
  readonly connectionsWaiting: number;
  readonly servedBy: string;
}

export async function infoOf(client: TextClient): Promise<ForkingInfo> {
  const line = await client.request('INFO');
  if (!line.startsWith('INFO ')) throw new Error(`expected INFO, got ${line}`);
  return JSON.parse(line.slice('INFO '.length)) as ForkingInfo;
}

/** `pid 1234` as a number. */
export const servingPid = (info: ForkingInfo): number => Number(info.servedBy.replace(/^pid /, ''));

/** A zombie counts as gone: it has exited, only nobody reaped it yet (PID 1 in a container may never). */
export function isRunning(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const fields = readFileSync(stat, 'utf8');
    return fields.slice(fields.lastIndexOf(')') + 2, fields.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `check` holds, or fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

/** Starts a forking server with `flags` before the file's tests, and stops it and every client opened after them. */
export function forkingServerFor(flags: readonly string[]) {
  let server: RunningServer | undefined;
  const clients: TextClient[] = [];
  beforeAll(async () => {
    server = await startServer('forking', [...flags]);
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server?.stop('SIGTERM', 10_000);
    await killAllServers();
  });
  const running = (): RunningServer => {
    if (server === undefined) throw new Error('the forking server has not started');
    return server;
  };
  return {
    running,
    async open(): Promise<TextClient> {
      const client = await TextClient.open(running().target);
      clients.push(client);
      return client;
    },
  };
}
