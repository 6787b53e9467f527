#!/usr/bin/env node
/**
 * Redis as a bench row: starts `redis-server` on a free port (no persistence, loopback only),
 * waits until it answers PING, then announces itself like the apps and stops it on SIGTERM. The
 * server inherits this process's CPU affinity, so it is pinned as the models are.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freePort, redisAnswersPing } from './redis-probe.js';

const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } },
  strict: false,
});
const host = String(values.host);

const log = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...fields })}\n`);
};

const port = Number(values.port) > 0 ? Number(values.port) : await freePort(host);
const redis = spawn(
  'redis-server',
  ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
redis.once('error', (error) => {
  process.stderr.write(`redis-server could not start (apt-get install redis-server): ${error.message}\n`);
  process.exit(1);
});
redis.once('exit', (code) => process.exit(stopping ? (code ?? 0) : 1));

let stopping = false;
const stop = (): void => {
  stopping = true;
  redis.kill('SIGTERM');
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const deadline = Date.now() + 10_000;
while (!(await redisAnswersPing(host, port))) {
  if (Date.now() > deadline) {
    process.stderr.write(`redis-server did not answer PING on ${host}:${port} within 10 s\n`);
    redis.kill('SIGKILL');
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
log({ model: 'redis', address: `${host}:${port}`, msg: 'listening' });
