/**
 * SIGTERM under load: clients in a closed loop of PINGs when the signal comes. Every
 * request the server received must be answered (PONG, or ERR SHUTTING_DOWN after the
 * last), the server must exit 0 within --drain-timeout, and no child may outlive it.
 */
import type { RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { descendantPids, isRunning } from './probed-server.js';
import { RawConnection, sleep } from './wire.js';

export interface ShutdownOptions {
  readonly connections: number;
  readonly drainTimeoutS: number;
}

interface LoopStats {
  sent: number;
  answered: number;
  shuttingDown: boolean;
  /** Closed with a request outstanding and no reply. */
  lost: boolean;
}

async function pingLoop(connection: RawConnection, stats: LoopStats, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const token = `t${stats.sent}`;
    if (!(await connection.write(`PING ${token}\n`))) return;
    stats.sent += 1;
    const line = await connection.nextLine(10_000);
    if (line === undefined) {
      stats.lost = true;
      return;
    }
    if (line.startsWith('ERR SHUTTING_DOWN')) {
      stats.shuttingDown = true;
      // The PING it crossed may have been answered first or not received: either way nothing is owed after this.
      return;
    }
    if (line === `PONG ${token}`) stats.answered += 1;
    else {
      stats.lost = true;
      return;
    }
  }
}

export async function checkShutdownUnderLoad(server: RunningServer, options: ShutdownOptions): Promise<CheckResult> {
  const connections = await Promise.all(Array.from({ length: options.connections }, () => RawConnection.open(server.target)));
  const stats = connections.map((): LoopStats => ({ sent: 0, answered: 0, shuttingDown: false, lost: false }));
  let stopping = false;
  const loops = connections.map((connection, index) => pingLoop(connection, stats[index] as LoopStats, () => stopping));
  await sleep(1_000);
  const children = descendantPids(server.pid);
  const signalledAt = performance.now();
  const exited = server.stop('SIGTERM', (options.drainTimeoutS + 5) * 1_000);
  const status = await exited;
  const exitSeconds = (performance.now() - signalledAt) / 1_000;
  await Promise.race([Promise.all(loops), sleep(3_000)]);
  stopping = true;
  for (const connection of connections) connection.destroy();
  await sleep(300);
  const orphans = children.filter(isRunning);
  const lost = stats.filter((loop) => loop.lost).length;
  const told = stats.filter((loop) => loop.shuttingDown).length;
  const answered = stats.reduce((sum, loop) => sum + loop.answered, 0);
  const pass = status.code === 0 && lost === 0 && orphans.length === 0 && exitSeconds <= options.drainTimeoutS + 1;
  return {
    pass,
    cell: `exit ${status.code ?? status.signal} in ${round(exitSeconds)} s; ${lost} lost; ${told}/${options.connections} told SHUTTING_DOWN; ${orphans.length} orphans`,
    details: {
      exitCode: String(status.code),
      exitSignal: String(status.signal),
      exitSeconds: round(exitSeconds),
      connections: options.connections,
      answeredBeforeSignal: answered,
      lostConnections: lost,
      toldShuttingDown: told,
      childrenBefore: children.length,
      orphans: orphans.length,
    },
  };
}
