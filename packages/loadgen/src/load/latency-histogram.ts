/** HDR histograms of latency in microseconds: recorded on the hot path, merged across threads, summarised. */
import * as hdr from 'hdr-histogram-js';
import type { LatencyMicros } from './load-result.js';

export type Histogram = hdr.Histogram;

/** An hour in microseconds: anything slower is clamped, not lost. */
const HIGHEST_MICROS = 3_600_000_000;

export function createHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
}

/**
 * A histogram for one second of a timeline: two significant digits (1 % steps, plenty for a
 * chart's p99) keep it to ~3,300 counters, so resetting and posting it every second costs little.
 */
export function createSecondHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 2,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds (what `performance.now()` differences are). */
export function recordMillis(histogram: Histogram, millis: number): void {
  const micros = Math.round(millis * 1000);
  histogram.recordValue(micros < 1 ? 1 : Math.min(micros, HIGHEST_MICROS));
}

/** A histogram as a string a worker thread can post. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function mergeEncoded(into: Histogram, encoded: string): void {
  const other = hdr.decodeFromCompressedBase64(encoded, 32, false);
  into.add(other);
  other.destroy();
}

export function summarise(histogram: Histogram): LatencyMicros {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0, mean: 0, count: 0 };
  const at = (percentile: number): number => histogram.getValueAtPercentile(percentile);
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max: histogram.maxValue,
    mean: Math.round(histogram.mean * 10) / 10,
    count: histogram.totalCount,
  };
}
