/** Shows a run's progress: a redrawn bar on a terminal, one plain line per second anywhere else. */
import type { TimelineSecond } from './load-result.js';
import { formatCount, formatMicros } from './result-text.js';

export interface ProgressOutput {
  write(text: string): boolean;
  readonly isTTY?: boolean;
}

const BAR_WIDTH = 30;

export function createProgress(
  out: ProgressOutput,
  warmupSeconds: number,
  durationSeconds: number,
): {
  readonly onSecond: (second: TimelineSecond) => void;
  readonly done: () => void;
} {
  const total = Math.ceil(warmupSeconds) + Math.ceil(durationSeconds);
  let seen = 0;
  const describe = (second: TimelineSecond): string =>
    `${second.phase === 'warmup' ? 'warmup ' : ''}${formatCount(second.messages)}/s errors ${second.errors}` +
    (second.lateSends > 0 ? ` late ${second.lateSends}` : '') +
    ` mean ${formatMicros(second.meanMicros)} max ${formatMicros(second.maxMicros)}`;
  return {
    onSecond: (second) => {
      seen++;
      if (out.isTTY === true) {
        const filled = Math.min(BAR_WIDTH, Math.round((seen / Math.max(1, total)) * BAR_WIDTH));
        out.write(`\r\x1b[K[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${seen}/${total}s ${describe(second)}`);
      } else {
        out.write(`t=${second.second}s ${describe(second)}\n`);
      }
    },
    done: () => {
      if (out.isTTY === true && seen > 0) out.write('\r\x1b[K');
    },
  };
}
