/**
 * Crash isolation: kill the thread, worker or child serving one connection. Only that
 * unit's connections may go; a witness served elsewhere keeps being answered, and so is
 * a fresh client. One-process models have no such unit: there a crash is the server's.
 */
import type { RunningServer } from '@echoplex/conformance';
import { type CheckResult, notApplicable } from './check.js';
import type { Variant } from './variants.js';
import { freshPing, isAnswered, RawConnection, sleep } from './wire.js';

async function servedBy(connection: RawConnection): Promise<string | undefined> {
  await connection.write('INFO\n');
  const line = await connection.nextLine(3_000);
  if (line === undefined || !line.startsWith('INFO ')) return undefined;
  const info = JSON.parse(line.slice(5)) as { servedBy?: unknown };
  return typeof info.servedBy === 'string' ? info.servedBy : undefined;
}

/** A victim and a witness served by different units (a few tries, since placement is the server's choice). */
async function pairOnDifferentUnits(server: RunningServer): Promise<[RawConnection, RawConnection, string] | undefined> {
  const witness = await RawConnection.open(server.target);
  const witnessUnit = await servedBy(witness);
  for (let attempt = 0; attempt < 8; attempt++) {
    const victim = await RawConnection.open(server.target);
    const unit = await servedBy(victim);
    if (unit !== undefined && unit !== witnessUnit) return [victim, witness, unit];
    victim.destroy();
  }
  witness.destroy();
  return undefined;
}

export async function checkCrashIsolation(server: RunningServer, variant: Variant): Promise<CheckResult> {
  if (variant.crash === 'none') return notApplicable('one process, one thread');
  const pair = await pairOnDifferentUnits(server);
  if (pair === undefined) return { pass: false, cell: 'could not place two connections on different units', details: {} };
  const [victim, witness, unit] = pair;
  if (variant.crash === 'thread') await victim.write('ECHO CRASH-THREAD\n');
  else if (variant.crash === 'worker') await victim.write('ECHO echoplex-fault:crash-worker\n');
  else process.kill(Number(unit.replace(/^pid /, '')), 'SIGKILL');
  const victimClosed = await victim.closed(5_000);
  await sleep(200);
  await witness.write('PING witness\n');
  const witnessLine = await witness.nextLine(2_000);
  const fresh = await freshPing(server.target, 1_000);
  victim.destroy();
  witness.destroy();
  const witnessOk = witnessLine === 'PONG witness';
  const pass = victimClosed && witnessOk && isAnswered(fresh, 1_000) && server.isAlive();
  return {
    pass,
    cell: `killed ${unit}: victim ${victimClosed ? 'closed' : 'OPEN'}, witness ${witnessOk ? 'answered' : 'LOST'}, fresh ${fresh.answer} ${Math.round(fresh.ms)} ms`,
    details: { unit, victimClosed, witnessOk, fresh: fresh.answer, freshMs: Math.round(fresh.ms), alive: server.isAlive() },
  };
}
