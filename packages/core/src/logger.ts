/** pino JSON logs on stdout, and the one `listening` line that tools wait for whatever the log level. */
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

const destination = pino.destination({ dest: 1, sync: true });

export function createLogger(model: string, level: LogLevel): Logger {
  return pino({ level, base: { model, pid: process.pid } }, destination);
}

/** Written at info level even when `--log-level` hides info: tools wait for this line. */
export function logListening(model: string, address: string, extra: Readonly<Record<string, unknown>> = {}): void {
  pino({ level: 'info', base: { model, pid: process.pid } }, destination).info({ ...extra, address }, 'listening');
}
