#!/usr/bin/env node
/**
 * The `http` scenario's measured load process: a closed loop of HTTP/1.1 keep-alive requests
 * over N connections, each response parsed (status, Content-Length, body checked) and timed
 * with `performance.now()`, so latencies have microsecond resolution (autocannon's histogram
 * has 1 ms; it stays as the cross-check). Prints the load generator's JSON shape. Bounded:
 * every connection stops at the end of the window, and the process exits on a timer.
 */
import net from 'node:net';
import type { HttpLoadSpec } from './http-load.js';

/** Latencies kept for exact percentiles; past this many only counts go on. */
const MAX_SAMPLES = 4_000_000;
const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

interface Window {
  phase: 'warmup' | 'measure' | 'done';
  readonly latencies: Float64Array;
  count: number;
  errors: number;
  readonly errorSamples: string[];
  /** Responses per second of the run, warmup included, for the CPU-per-message figure. */
  readonly perSecond: number[];
  /** Their latencies' sum and largest, per second, in µs: the timeline's mean and max. */
  readonly perSecondSumMicros: number[];
  readonly perSecondMaxMicros: number[];
  readonly startedAt: number;
}

function requestBytes(spec: HttpLoadSpec, url: URL): Buffer {
  const body = spec.body ?? '';
  const head =
    `${spec.method} ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    (spec.method === 'POST' ? `Content-Type: application/octet-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : '') +
    '\r\n';
  return Buffer.from(head + body);
}

function recordError(window: Window, message: string): void {
  window.errors++;
  if (window.errorSamples.length < 5) window.errorSamples.push(message);
}

/** One keep-alive connection: send, read one whole response, check it, time it, send again. */
function drive(index: number, url: URL, request: Buffer, expectedBody: Buffer, window: Window): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    let connected = false;
    const send = (): void => {
      sentAt = performance.now();
      socket.write(request);
    };
    socket.once('connect', () => {
      connected = true;
      resolve(true);
      send();
    });
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const headerEnd = pending.indexOf(HEADER_END);
      if (headerEnd === -1) return;
      const head = pending.toString('latin1', 0, headerEnd);
      const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
      const total = headerEnd + HEADER_END.length + length;
      if (pending.length < total) return;
      const now = performance.now();
      const body = pending.subarray(headerEnd + HEADER_END.length, total);
      if (!head.startsWith('HTTP/1.1 200')) recordError(window, `connection ${index}: ${head.split('\r\n')[0]}`);
      else if (!body.equals(expectedBody))
        recordError(window, `connection ${index}: body ${JSON.stringify(body.toString('latin1').slice(0, 40))}`);
      else if (window.phase !== 'done') {
        const second = Math.floor((now - window.startedAt) / 1000);
        const micros = (now - sentAt) * 1000;
        window.perSecond[second] = (window.perSecond[second] ?? 0) + 1;
        window.perSecondSumMicros[second] = (window.perSecondSumMicros[second] ?? 0) + micros;
        window.perSecondMaxMicros[second] = Math.max(window.perSecondMaxMicros[second] ?? 0, micros);
        if (window.phase === 'measure') {
          if (window.count < MAX_SAMPLES) window.latencies[window.count] = micros;
          window.count++;
        }
      }
      pending = pending.subarray(total);
      if (pending.length > 0) recordError(window, `connection ${index}: ${pending.length} bytes nobody asked for`);
      pending = Buffer.alloc(0);
      if (window.phase !== 'done') send();
    });
    socket.on('error', (error) => {
      if (window.phase !== 'done') recordError(window, `connection ${index}: ${error.message}`);
      if (!connected) resolve(false);
    });
    socket.on('close', () => {
      if (window.phase !== 'done') recordError(window, `connection ${index}: closed by the server`);
    });
    sockets.push(socket);
  });
}

const sockets: net.Socket[] = [];

function percentile(sorted: Float64Array, count: number, p: number): number {
  if (count === 0) return 0;
  const index = Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1));
  return Math.round((sorted[index] as number) * 10) / 10;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as HttpLoadSpec;
  const url = new URL(spec.url);
  const request = requestBytes(spec, url);
  const expectedBody = Buffer.from(spec.method === 'GET' ? 'pong' : (spec.body ?? ''));
  const window: Window = {
    phase: 'warmup',
    latencies: new Float64Array(Math.min(MAX_SAMPLES, 1 << 20)),
    count: 0,
    errors: 0,
    errorSamples: [],
    perSecond: [],
    perSecondSumMicros: [],
    perSecondMaxMicros: [],
    startedAt: performance.now(),
  };
  // Grows as needed, up to MAX_SAMPLES: a fixed 32 MB array for a 1 s step would be waste.
  let latencies = window.latencies;
  const grow = setInterval(() => {
    if (window.count > latencies.length * 0.8 && latencies.length < MAX_SAMPLES) {
      const bigger = new Float64Array(Math.min(MAX_SAMPLES, latencies.length * 2));
      bigger.set(latencies);
      latencies = bigger;
      (window as { latencies: Float64Array }).latencies = bigger;
    }
  }, 50);
  const opened = await Promise.all(
    Array.from({ length: spec.connections }, (_, index) => drive(index, url, request, expectedBody, window)),
  );
  await new Promise((resolve) => setTimeout(resolve, spec.warmupSeconds * 1000));
  window.phase = 'measure';
  const measureStart = performance.now();
  // Seconds of the run (counted from its start) that began before the measured window: the warmup.
  const warmupSeconds = Math.floor((measureStart - window.startedAt) / 1000);
  await new Promise((resolve) => setTimeout(resolve, spec.durationSeconds * 1000));
  window.phase = 'done';
  const measured = (performance.now() - measureStart) / 1000;
  clearInterval(grow);
  for (const socket of sockets) socket.destroy();
  const kept = Math.min(window.count, window.latencies.length);
  const sorted = window.latencies.subarray(0, kept).sort();
  const at = (p: number): number => percentile(sorted, kept, p);
  let sum = 0;
  for (let i = 0; i < kept; i++) sum += sorted[i] as number;
  const latency = {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max: kept === 0 ? 0 : Math.round((sorted[kept - 1] as number) * 10) / 10,
    mean: kept === 0 ? 0 : Math.round((sum / kept) * 10) / 10,
    count: window.count,
  };
  const messagesPerSecond = window.count / measured;
  const out = {
    messagesPerSecond: Math.round(messagesPerSecond * 10) / 10,
    bytesPerSecond: Math.round(messagesPerSecond * expectedBody.length),
    errors: window.errors,
    errorSamples: window.errorSamples,
    lateSends: 0,
    latencyMicros: latency,
    uncorrectedLatencyMicros: latency,
    connectionsOpened: opened.filter(Boolean).length,
    connectionFailures: opened.filter((ok) => !ok).length,
    // Per-second counts, mean and max (no per-second p99: the latencies are kept for the window's own).
    timeline: Array.from(window.perSecond, (messages, second) => ({
      second: second - warmupSeconds + 1,
      phase: second < warmupSeconds ? ('warmup' as const) : ('measure' as const),
      messages: messages ?? 0,
      errors: 0,
      lateSends: 0,
      meanMicros: messages ? Math.round((window.perSecondSumMicros[second] ?? 0) / messages) : 0,
      maxMicros: Math.round(window.perSecondMaxMicros[second] ?? 0),
    })),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// Whatever happens, the process ends: a server that never answers cannot hold it.
const spec = JSON.parse(process.argv[2] ?? '{}') as Partial<HttpLoadSpec>;
setTimeout(() => process.exit(3), ((spec.warmupSeconds ?? 0) + (spec.durationSeconds ?? 0)) * 1000 + 30_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`http-keepalive-load: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(3);
  },
);
