import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(run.stdout).toMatch(/FAIL p50<0us/);
    expect(run.stdout).toMatch(/PASS errors==0/);
  });

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const run = await load(['--target', target, '--connections', '1', '--duration', '1.2', '--warmup', '0']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^t=1s [0-9,]+\/s errors 0/m);
  });
});
