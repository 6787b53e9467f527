#!/usr/bin/env node
/**
 * The `http` scenario's cross-check: autocannon's programmatic API against one HTTP route,
 * printed as the same JSON shape the load generator prints, so the harness treats both alike.
 * Its latency histogram has 1 ms resolution, so its percentiles are kept only as a check of the
 * measured client (http-keepalive-load.ts). Run as its own process, pinned like the load.
 */
import autocannon from 'autocannon';

export interface HttpLoadSpec {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
}

const micros = (millis: number): number => Math.round(millis * 1000);

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as HttpLoadSpec;
  const result = await autocannon({
    url: spec.url,
    method: spec.method,
    ...(spec.body !== undefined && { body: spec.body }),
    connections: spec.connections,
    duration: spec.durationSeconds,
    ...(spec.warmupSeconds > 0 && { warmup: { connections: spec.connections, duration: spec.warmupSeconds } }),
  });
  const latency = {
    p50: micros(result.latency.p50),
    p90: micros(result.latency.p90),
    p99: micros(result.latency.p99),
    p999: micros(result.latency.p99_9),
    p9999: micros(result.latency.p99_99),
    max: micros(result.latency.max),
    mean: micros(result.latency.mean),
    count: result.requests.total,
  };
  const errors = result.errors + result.timeouts + result.non2xx;
  const out = {
    messagesPerSecond: result.requests.total / spec.durationSeconds,
    bytesPerSecond: result.throughput.average,
    errors,
    errorSamples: errors > 0 ? [`${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`] : [],
    lateSends: 0,
    latencyMicros: latency,
    uncorrectedLatencyMicros: latency,
    connectionsOpened: spec.connections,
    connectionFailures: 0,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`http-load: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 3;
});
