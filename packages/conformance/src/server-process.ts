/** Runs a built app as a child process and waits for its "listening" line, so tests talk to a real server and never leak one. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RedisProcess } from './redis-process.js';

/** The monorepo root, from `packages/conformance/{src,dist}/server-process.*`. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where a test client connects: TCP host and port, or a Unix socket path. */
export type ConnectTarget = { readonly host: string; readonly port: number } | { readonly path: string };

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningServer {
  readonly model: string;
  readonly pid: number;
  /** As the listening line says it: `127.0.0.1:43567` or a socket path. */
  readonly address: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly socketPath: string | undefined;
  readonly target: ConnectTarget;
  /** stdout lines so far (pino JSON). */
  readonly logs: readonly string[];
  /** stderr so far. */
  readonly stderr: () => string;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<ExitStatus>;
  readonly isAlive: () => boolean;
  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
  /** SIGKILL, without waiting. */
  kill(): void;
}

export interface StartOptions {
  /** How long to wait for the listening line. */
  readonly readyTimeoutMs?: number;
}

/** Every child this module spawned and that has not exited yet. */
const liveChildren = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** SIGKILLs every server still running: for afterAll hooks, whatever the tests did. */
export async function killAllServers(): Promise<void> {
  const exits = [...liveChildren].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(exits);
}

export const appDirectory = (model: string): string => path.join(REPO_ROOT, 'apps', model);
export const appEntryPoint = (model: string): string => path.join(appDirectory(model), 'dist', 'main.js');

interface ListeningLine {
  readonly msg: 'listening';
  readonly address: string;
  readonly model?: unknown;
}

function parseListeningLine(line: string): ListeningLine | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (record.msg !== 'listening' || typeof record.address !== 'string') return undefined;
  return { msg: 'listening', address: record.address, model: record.model };
}

/** The parsed listening line of a server: the whole JSON object. */
export function listeningRecord(server: RunningServer): Record<string, unknown> | undefined {
  for (const line of server.logs) {
    if (parseListeningLine(line) !== undefined) return JSON.parse(line) as Record<string, unknown>;
  }
  return undefined;
}

/**
 * `ECHOPLEX_TEST_HUB=1` starts every server with `--hub` on one redis-server this process starts
 * (`ECHOPLEX_TEST_HUB=redis://HOST:PORT`: on that one), unless its flags name a hub already: the
 * whole suite then checks that a hub across servers changes nothing one server does.
 */
export const TEST_HUB_ENV = 'ECHOPLEX_TEST_HUB';

let testHub: Promise<string> | undefined;

/** The hub URL every server gets, or undefined when `ECHOPLEX_TEST_HUB` is unset (or 0). */
export function testHubUrl(): Promise<string> | undefined {
  const setting = process.env[TEST_HUB_ENV];
  if (setting === undefined || setting === '' || setting === '0') return undefined;
  if (setting.startsWith('redis://')) return Promise.resolve(setting);
  if (setting !== '1') return Promise.reject(new Error(`${TEST_HUB_ENV} takes 1 or a redis:// URL, got '${setting}'`));
  testHub ??= RedisProcess.start().then((redis) => redis.url);
  return testHub;
}

/** Spawns `node apps/<model>/dist/main.js --port 0 ...flags` (and `--hub`, see TEST_HUB_ENV) and resolves once it listens. */
export async function startServer(model: string, flags: readonly string[] = [], options: StartOptions = {}): Promise<RunningServer> {
  const hub = flags.includes('--hub') ? undefined : testHubUrl();
  return spawnServer(model, hub === undefined ? flags : [...flags, '--hub', await hub], options);
}

function spawnServer(model: string, flags: readonly string[], options: StartOptions): Promise<RunningServer> {
  const entry = appEntryPoint(model);
  if (!existsSync(entry)) {
    return Promise.reject(new Error(`${entry} does not exist: build the app first (npx turbo run build)`));
  }
  const usesSocket = flags.includes('--socket');
  const args = [entry, ...(usesSocket || flags.includes('--port') ? [] : ['--port', '0']), ...flags];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const logs: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  const isAlive = (): boolean => child.exitCode === null && child.signalCode === null;
  const describe = (): string => `${model} ${flags.join(' ')}\n--- stdout ---\n${logs.join('\n')}\n--- stderr ---\n${stderr}`;

  return new Promise<RunningServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening" line within ${options.readyTimeoutMs ?? 10_000} ms from ${describe()}`));
    }, options.readyTimeoutMs ?? 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not spawn ${model}: ${error.message}`));
    });
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${status.code}, signal ${status.signal}) before listening: ${describe()}`));
    });
    const lines = createInterface({ input: child.stdout });
    let ready = false;
    lines.on('line', (line) => {
      logs.push(line);
      if (ready) return;
      const listening = parseListeningLine(line);
      if (listening === undefined) return;
      ready = true;
      clearTimeout(timer);
      const { address } = listening;
      const colon = address.lastIndexOf(':');
      const isTcp = !address.startsWith('/') && colon > 0 && /^\d+$/.test(address.slice(colon + 1));
      const host = isTcp ? address.slice(0, colon).replace(/^\[|\]$/g, '') : undefined;
      const port = isTcp ? Number(address.slice(colon + 1)) : undefined;
      const socketPath = isTcp ? undefined : address;
      const target: ConnectTarget = host !== undefined && port !== undefined ? { host, port } : { path: socketPath ?? address };
      const pid = child.pid ?? -1;
      resolve({
        model,
        pid,
        address,
        host,
        port,
        socketPath,
        target,
        logs,
        stderr: () => stderr,
        exited,
        isAlive,
        stop: async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000) => {
          if (!isAlive()) return exited;
          child.kill(signal);
          const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          const status = await exited;
          clearTimeout(killer);
          return status;
        },
        kill: () => {
          if (isAlive()) child.kill('SIGKILL');
        },
      });
    });
  });
}

/** Resident memory of a process and all its descendants (Linux /proc), so forked children count too. */
export function processTreeRssBytes(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields resume after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(fields[1]);
      const siblings = children.get(parent) ?? [];
      siblings.push(Number(entry));
      children.set(parent, siblings);
    } catch {
      // The process exited while we looked.
    }
  }
  let total = 0;
  const pending = [rootPid];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0) * 1024;
    } catch {
      // Gone already.
    }
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}
