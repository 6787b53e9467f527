import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTarget } from '../src/target.js';
import { type FrameServer, startFrameServer } from './fixtures/frame-server.js';

const BIN = fileURLToPath(new URL('../dist/bin/load.js', import.meta.url));

/** The bin runs as a child process; the in-test server must keep serving meanwhile, so spawn asynchronously. */
async function load(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('echoplex-load', () => {
  let server: FrameServer;
  let target: string;
  beforeAll(async () => {
    expect(existsSync(BIN), `${BIN} is missing: run npm run build first`).toBe(true);
    server = await startFrameServer();
    target = `tcp://127.0.0.1:${server.target.kind === 'tcp' ? server.target.port : 0}`;
  });
  afterAll(() => server.close());

  it('exits 2 with a clear message on a bad flag', () => {
    const run = spawnSync(process.execPath, [BIN, '--target', 'tcp://127.0.0.1:1', '--pipeline', '0'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/pipeline must be an integer in 1\.\.4096/);
    expect(run.stderr).toMatch(/--help/);
  });

  it('prints one JSON object with the promised fields and exits 0 when assertions hold', async () => {
    const run = await load([
      '--target',
      target,
      '--connections',
      '4',
      '--threads',
      '2',
      '--duration',
      '0.5',
      '--warmup',
      '0',
      '--json',
      '--assert',
      'errors==0',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown> & { latencyMicros: Record<string, number> };
    expect(result.messagesPerSecond).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(Object.keys(result.latencyMicros)).toEqual(expect.arrayContaining(['p50', 'p90', 'p99', 'p999', 'p9999', 'max']));
    expect(result.threads).toBe(2);
    expect(result, 'sent means nothing on an echo run').not.toHaveProperty('sent');
    expect(result.connectionsAtEnd).toBe(4);
  });

  it('exits 3 at once, naming the target, when nothing listens on the port or the socket path', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    for (const [where, reason] of [
      [`tcp://127.0.0.1:${closed}`, /ECONNREFUSED/],
      ['unix:/tmp/echoplex-no-such-dir/none.sock', /ENOENT/],
    ] as const) {
      for (const scenario of ['echo', 'churn', 'chat']) {
        const started = performance.now();
        const run = await load([where, '--scenario', scenario, '-d', '5', '--quiet']);
        expect(run.status, `${where} ${scenario}: ${run.stderr}`).toBe(3);
        expect(run.stderr).toContain(`cannot connect to ${where}`);
        expect(run.stderr).toMatch(reason);
        expect(performance.now() - started, 'it does not wait out the duration').toBeLessThan(4000);
      }
    }
  });

  it('exits 3 when the target vanishes during the run, without waiting out the duration', async () => {
    const doomed = await startFrameServer();
    const where = formatTarget(doomed.target);
    const started = performance.now();
    const running = load([where, '-c', '3', '-d', '10', '--warmup', '0', '--quiet']);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await doomed.close();
    const run = await running;
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/the target vanished: no connection to .* was left at the end of the run/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('exits 1 when an assertion is breached, naming it', async () => {
    const run = await load([
      '--target',
      target,
      '--connections',
      '1',
      '--duration',
      '0.3',
      '--warmup',
      '0',
      '--quiet',
      '--assert',
      'p50<0us',
      '--assert',
      'errors==0',
    ]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL p50<0us \(actual \d+µs\)/);
    expect(run.stdout).toMatch(/PASS errors==0/);
  });

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const run = await load(['--target', target, '--connections', '1', '--duration', '1.2', '--warmup', '0']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^t=1s [0-9,]+\/s errors 0/m);
  });
});
