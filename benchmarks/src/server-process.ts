/** Starts a model as a child process, waits for its `listening` line, and stops it with SIGTERM. */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import type { CpuProfile } from './cpu-profile.js';
import type { ModelEntry } from './models.js';

export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Exited by itself with status 0 after SIGTERM, within the grace period. */
  readonly clean: boolean;
  readonly stopMillis: number;
}

export interface RunningServer {
  readonly pid: number;
  /** `tcp://127.0.0.1:PORT` or `unix:/path`: what the load generator's `--target` takes. */
  readonly target: string;
  readonly model: string;
  /** The flags it was started with beyond `--port 0`. */
  readonly args: readonly string[];
  /** `HOST:PORT` of its datagram socket, when started with `--udp` (the listening line's `udpAddress`). */
  readonly udpTarget?: string;
  /** Every server's target when this is several on one hub (cluster-server.js); `target` is the first. */
  readonly targets?: readonly string[];
  /** The hub's own process (cluster-server.js's redis-server), sampled beside the servers. */
  readonly hubPid?: number;
  /** Still running (a crash mid-run shows here, and the next scenario gets a fresh server). */
  alive(): boolean;
  stop(): Promise<ServerExit>;
}

/** Blocking's --prestart threads load before its listening line: 128 of them take ~12 s on a quiet core. */
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

interface ListeningLine {
  readonly msg?: unknown;
  readonly address?: unknown;
  readonly model?: unknown;
  readonly udpAddress?: unknown;
  readonly targets?: unknown;
  readonly redisPid?: unknown;
}

export function startServer(model: ModelEntry, profile: CpuProfile, extraArgs: readonly string[] = []): Promise<RunningServer> {
  const [command, ...prefixArgs] = [...profile.serverPrefix, process.execPath];
  const child = spawn(command as string, [...prefixArgs, model.script, '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 50) stderr.push(chunk.toString('utf8'));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${model.name}: no 'listening' line within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    const exitedEarly = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`${model.name} exited (${code ?? signal}) before listening: ${stderr.join('').slice(0, 2000)}`));
    };
    child.once('exit', exitedEarly);
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let listening = false;
    lines.on('line', (line) => {
      if (listening) return;
      let parsed: ListeningLine;
      try {
        parsed = JSON.parse(line) as ListeningLine;
      } catch {
        return;
      }
      if (parsed.msg !== 'listening' || typeof parsed.address !== 'string') return;
      listening = true;
      clearTimeout(timer);
      child.removeListener('exit', exitedEarly);
      const address = parsed.address;
      const { udpAddress, targets, redisPid } = parsed;
      resolve({
        ...(typeof udpAddress === 'string' && { udpTarget: udpAddress }),
        ...(Array.isArray(targets) && { targets: targets.filter((entry): entry is string => typeof entry === 'string') }),
        ...(typeof redisPid === 'number' && { hubPid: redisPid }),
        pid: child.pid as number,
        target: address.startsWith('/') ? `unix:${address}` : `tcp://${address}`,
        model: typeof parsed.model === 'string' ? parsed.model : model.name,
        args: extraArgs,
        alive: () => child.exitCode === null && child.signalCode === null,
        stop: () => stopServer(child, exited),
      });
    });
  });
}

async function stopServer(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<ServerExit> {
  const started = performance.now();
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode, clean: false, stopMillis: 0 };
  }
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    const killed = await exited;
    return { ...killed, clean: false, stopMillis: performance.now() - started };
  }
  return { ...outcome, clean: outcome.code === 0, stopMillis: performance.now() - started };
}
