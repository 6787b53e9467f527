/**
 * Prints a metric value the way a person reads it: µs as ms past 1000, bytes as KiB or MiB, and a
 * figure below what its tool can resolve (autocannon's 1 ms) as `<1 ms`, never as 0.
 */
import { METRICS, type MetricName, resolutionOf } from './metrics.js';

export function formatMetric(name: MetricName, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  const unit = METRICS[name].unit;
  const resolution = resolutionOf(name);
  if (resolution > 0 && value < resolution) return '<1 ms';
  if (unit === 's') return `${value < 10 ? value.toFixed(2) : value.toFixed(1)}s`;
  if (unit === 'µs') {
    if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(2)}s`;
    if (value >= 10_000) return `${(value / 1000).toFixed(1)}ms`;
    if (value >= 1000) return `${(value / 1000).toFixed(2)}ms`;
    return `${value < 10 ? value.toFixed(1) : Math.round(value)}µs`;
  }
  if (unit === 'B') {
    if (value >= 1_048_576) return `${(value / 1_048_576).toFixed(1)}MiB`;
    if (value >= 1024) return `${(value / 1024).toFixed(1)}KiB`;
    return `${Math.round(value)}B`;
  }
  if (unit === 'cores') return value.toFixed(2);
  // A share stored as a fraction: 0.0123 is 1.23%.
  if (unit === '%') return `${(value * 100).toFixed(2)}%`;
  if (unit === 'MiB/s') return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}
