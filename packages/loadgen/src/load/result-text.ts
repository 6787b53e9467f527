/** A load result as the few lines a person reads at the end of a run. */
import type { AssertionOutcome } from './assertions.js';
import type { LatencyMicros, LoadResult } from './load-result.js';

export function formatMicros(micros: number): string {
  if (micros >= 1_000_000) return `${(micros / 1_000_000).toFixed(2)}s`;
  if (micros >= 1000) return `${(micros / 1000).toFixed(micros >= 100_000 ? 0 : 2)}ms`;
  return `${Math.round(micros)}µs`;
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

const latencyLine = (label: string, latency: LatencyMicros): string =>
  `${label.padEnd(12)} p50 ${formatMicros(latency.p50)}  p90 ${formatMicros(latency.p90)}  p99 ${formatMicros(latency.p99)}  ` +
  `p99.9 ${formatMicros(latency.p999)}  p99.99 ${formatMicros(latency.p9999)}  max ${formatMicros(latency.max)}`;

export function formatResult(result: LoadResult, outcomes: readonly AssertionOutcome[]): string {
  const lines: string[] = [];
  const model =
    result.loadModel === 'open' ? `open model, ${formatCount(result.rate ?? 0)}/s` : `closed model, pipeline ${result.pipeline}`;
  lines.push(
    `${result.scenario} against ${result.target}: ${result.connections} connections on ${result.threads} thread(s), ${model}, ` +
      `${result.size} B, ${result.durationSeconds}s after ${result.warmupSeconds}s warmup`,
  );
  const unit =
    result.scenario === 'chat'
      ? 'deliveries'
      : result.scenario === 'churn'
        ? 'connections'
        : result.scenario === 'get'
          ? 'downloads'
          : 'messages';
  lines.push(
    `${formatCount(result.messagesPerSecond)} ${unit}/s (${formatCount(result.messages)} in all), ` +
      `${(result.bytesPerSecond / 1_048_576).toFixed(2)} MiB/s payload, errors ${result.errors}` +
      (result.loadModel === 'open' ? `, late sends ${result.lateSends}` : ''),
  );
  if (result.scenario === 'chat' && result.sent !== undefined) lines.push(`${formatCount(result.sent)} SAYs sent in the measured window`);
  if (result.loadModel === 'open') {
    lines.push(latencyLine('corrected', result.latencyMicros));
    lines.push(latencyLine('uncorrected', result.uncorrectedLatencyMicros));
  } else {
    lines.push(latencyLine('latency', result.latencyMicros));
  }
  const measured = result.timeline.filter((second) => second.phase === 'measure');
  if (measured.length > 0) {
    lines.push(`per second: ${measured.map((second) => formatCount(second.messages)).join(' ')}`);
  }
  if (result.connectionFailures > 0) lines.push(`connections that failed to open: ${result.connectionFailures}`);
  for (const sample of result.errorSamples) lines.push(`error: ${sample}`);
  for (const outcome of outcomes) {
    lines.push(`${outcome.passed ? 'PASS' : 'FAIL'} ${outcome.assertion} (actual ${outcome.actualText})`);
  }
  return lines.join('\n');
}
