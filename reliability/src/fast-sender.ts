/**
 * The fast sender: a member alone in a room sends SAYs as fast as its socket takes them.
 * Every relay on the way (a worker's or child's link to its parent, the hub) must push
 * back on it rather than queue: the server's memory may grow by less than 64 MiB.
 */
import type { RunningServer } from '@echoplex/conformance';
import { type CheckResult, round } from './check.js';
import { RssSampler } from './probed-server.js';
import { RawConnection } from './wire.js';

export interface FastSenderOptions {
  readonly messages: number;
  readonly messageBytes: number;
  readonly growthBoundMiB: number;
}

export async function checkFastSender(server: RunningServer, options: FastSenderOptions): Promise<CheckResult> {
  const sender = await RawConnection.open(server.target);
  await sender.write('JOIN fastroom\n');
  const joined = await sender.nextLine(3_000);
  if (joined !== 'OK JOIN fastroom') return { pass: false, cell: `JOIN got ${joined}`, details: {} };
  const rss = new RssSampler(server.pid, 100);
  const startedAt = performance.now();
  const line = Buffer.from(`SAY ${'a'.repeat(options.messageBytes)}\n`);
  let written = 0;
  for (; written < options.messages; written++) if (!(await sender.write(line))) break;
  // SAY is answered with nothing: a PING behind them says they were all taken.
  await sender.write('PING done\n');
  const done = await sender.nextLine(120_000);
  const seconds = (performance.now() - startedAt) / 1_000;
  rss.stop();
  sender.destroy();
  const growthMiB = rss.peakMiB - rss.firstMiB;
  const pass = done === 'PONG done' && written === options.messages && growthMiB < options.growthBoundMiB;
  const totalMiB = (options.messages * options.messageBytes) / (1024 * 1024);
  return {
    pass,
    cell: `+${round(growthMiB)} MiB (${Math.round(rss.firstMiB)} → peak ${Math.round(rss.peakMiB)}); ${Math.round(totalMiB)} MiB in ${round(seconds)} s`,
    details: {
      messages: options.messages,
      messageBytes: options.messageBytes,
      written,
      completed: done === 'PONG done',
      seconds: round(seconds),
      baseRssMiB: round(rss.firstMiB),
      peakRssMiB: round(rss.peakMiB),
      afterRssMiB: round(rss.lastMiB),
      growthMiB: round(growthMiB),
    },
  };
}
