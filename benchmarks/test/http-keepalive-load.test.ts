import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from '@echoplex/loadgen';
import { afterAll, beforeAll, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../dist/http-keepalive-load.js', import.meta.url));

let server: http.Server;
let url: string;
beforeAll(async () => {
  expect(existsSync(SCRIPT), `${SCRIPT} is missing: run npm run build first`).toBe(true);
  // GET /ping answers pong, as every model does; one in 50 waits 30 ms, so the window has a tail.
  let requests = 0;
  server = http.createServer((request, response) => {
    const reply = () => response.writeHead(200, { 'content-type': 'text/plain', 'content-length': 4 }).end('pong');
    if (request.url === '/ping' && ++requests % 50 === 0) setTimeout(reply, 30);
    else if (request.url === '/ping') reply();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function run(spec: object): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, JSON.stringify(spec)]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) =>
      status === 0 ? resolve(JSON.parse(stdout) as LoadResult) : reject(new Error(`exit ${status}: ${stderr}`)),
    );
  });
}

it('times keep-alive responses to the µs and gives each second of the run its warmup or measure phase, mean and max', async () => {
  const result = await run({ url, method: 'GET', connections: 2, durationSeconds: 1.2, warmupSeconds: 1.2 });
  expect(result.errors).toBe(0);
  expect(result.messagesPerSecond).toBeGreaterThan(0);
  // Sub-millisecond figures resolve: a p50 above zero, never the 0 of a 1 ms histogram.
  expect(result.latencyMicros.p50).toBeGreaterThan(0);
  expect(result.latencyMicros.max).toBeGreaterThanOrEqual(30_000);
  const phases = result.timeline.map((second) => second.phase);
  expect(phases[0]).toBe('warmup');
  expect(phases.at(-1)).toBe('measure');
  expect(result.timeline.filter((second) => second.phase === 'measure')[0]?.second).toBe(1);
  for (const second of result.timeline.filter((s) => s.messages > 0)) {
    expect(second.meanMicros).toBeGreaterThan(0);
    expect(second.maxMicros).toBeGreaterThanOrEqual(second.meanMicros);
  }
}, 20_000);
