#!/usr/bin/env node
/**
 * Servers of one model on one Redis, as one bench row (`chat-cluster`): starts `redis-server` on a
 * free port (no persistence, loopback), then N servers of the model with `--hub` on it, and
 * announces them all on one listening line (`targets`, `redisPid`). Everything it starts inherits
 * its CPU affinity, so the harness pins Redis as it pins the models, and samples the whole tree.
 * `node benchmarks/dist/cluster-server.js --app apps/event-loop/dist/main.js --servers 2 [-- model flags]`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { freePort, redisAnswersPing } from './redis-probe.js';

/** How long a server gets to print its listening line (blocking's --prestart threads load first). */
const START_TIMEOUT_MS = 60_000;
/** How long the servers get to exit after SIGTERM before they are killed. */
const STOP_GRACE_MS = 8000;

export const REDIS_INSTALL_HINT = 'apt-get install redis-server';

const dashes = process.argv.indexOf('--', 2);
const ownArgs = process.argv.slice(2, dashes === -1 ? undefined : dashes);
const modelArgs = dashes === -1 ? [] : process.argv.slice(dashes + 1);
const { values } = parseArgs({
  args: ownArgs,
  options: {
    app: { type: 'string' },
    servers: { type: 'string', default: '2' },
    host: { type: 'string', default: '127.0.0.1' },
    // The harness passes `--port 0` to every server it starts: each server here takes a free port anyway.
    port: { type: 'string', default: '0' },
  },
  strict: true,
});
const host = values.host;
const serverCount = Number(values.servers);

const log = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...fields })}\n`);
};

const fail = (message: string): never => {
  process.stderr.write(`cluster-server: ${message}\n`);
  stopAll('SIGKILL');
  process.exit(1);
};

let stopping = false;
let redis: ChildProcess | undefined;
const servers: ChildProcess[] = [];

function stopAll(signal: NodeJS.Signals): void {
  for (const server of servers) if (server.exitCode === null && server.signalCode === null) server.kill(signal);
  if (redis !== undefined && redis.exitCode === null && redis.signalCode === null) redis.kill(signal);
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

/** SIGTERM: the servers drain and exit, then Redis; exit 0 only if every server exited 0 by itself. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const server of servers) server.kill('SIGTERM');
  const timer = setTimeout(() => stopAll('SIGKILL'), STOP_GRACE_MS);
  const codes = await Promise.all(servers.map(exitOf));
  clearTimeout(timer);
  if (redis !== undefined) {
    redis.kill('SIGTERM');
    await exitOf(redis);
  }
  process.exit(codes.every((code) => code === 0) ? 0 : 1);
}

async function startRedis(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort(host);
  const child = spawn(
    'redis-server',
    ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  redis = child;
  child.once('error', (error) => fail(`redis-server could not start (${REDIS_INSTALL_HINT}): ${error.message}`));
  child.once('exit', (code, signal) => {
    if (!stopping) fail(`redis-server exited (${code ?? signal}) while the servers ran`);
  });
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswersPing(host, port))) {
    if (Date.now() > deadline) fail(`redis-server did not answer PING on ${host}:${port} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, port };
}

/** One server of the model on the hub; resolves with the address its listening line names. */
function startModelServer(app: string, hubUrl: string, index: number): Promise<string> {
  const child = spawn(process.execPath, [app, '--host', host, '--port', '0', '--hub', hubUrl, ...modelArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => fail(`server ${index + 1} printed no listening line within ${START_TIMEOUT_MS / 1000} s`),
      START_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!stopping) fail(`server ${index + 1} (${app}) exited (${code ?? signal})`);
    });
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let listening = false;
    lines.on('line', (line) => {
      if (listening) return;
      let parsed: { msg?: unknown; address?: unknown };
      try {
        parsed = JSON.parse(line) as { msg?: unknown; address?: unknown };
      } catch {
        return;
      }
      if (parsed.msg !== 'listening' || typeof parsed.address !== 'string') return;
      listening = true;
      clearTimeout(timer);
      resolve(parsed.address);
    });
  });
}

process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

if (values.app === undefined) fail('--app PATH (a model main.js) is required');
if (!Number.isInteger(serverCount) || serverCount < 1 || serverCount > 8) fail(`--servers takes 1..8, got '${values.servers}'`);
const app = values.app as string;
const { child: redisChild, port: redisPort } = await startRedis();
const hubUrl = `redis://${host}:${redisPort}`;
// One at a time: each server's start (and blocking's prestarted threads) gets the core to itself.
const addresses: string[] = [];
for (let index = 0; index < serverCount; index++) addresses.push(await startModelServer(app, hubUrl, index));
log({
  msg: 'listening',
  model: `cluster of ${serverCount}`,
  address: addresses[0],
  targets: addresses.map((address) => `tcp://${address}`),
  hub: hubUrl,
  redisPid: redisChild.pid,
  serverPids: servers.map((server) => server.pid),
});
