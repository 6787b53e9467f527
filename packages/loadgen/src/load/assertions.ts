/** Thresholds such as `p99<5ms` or `errors==0`, checked against a result so CI can fail a slow run. */
import type { LoadResult } from './load-result.js';
import { formatCount, formatMicros } from './result-text.js';

const LATENCY_METRICS = ['p50', 'p90', 'p99', 'p999', 'p9999', 'max', 'mean'] as const;
const COUNT_METRICS = ['errors', 'messagesPerSecond', 'lateSends', 'connectionFailures', 'messages'] as const;
type LatencyMetric = (typeof LATENCY_METRICS)[number];
type CountMetric = (typeof COUNT_METRICS)[number];
const OPERATORS = ['<=', '>=', '==', '!=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

export interface Assertion {
  readonly text: string;
  readonly metric: LatencyMetric | CountMetric;
  readonly operator: Operator;
  /** Latency thresholds are held in microseconds. */
  readonly value: number;
}

export interface AssertionOutcome {
  readonly assertion: string;
  /** Latency metrics in microseconds, counts as they are. */
  readonly actual: number;
  /** `actual` as a person reads it, with its unit: `522µs`, `4.10ms`, `1,000`. */
  readonly actualText: string;
  readonly passed: boolean;
}

const UNIT_MICROS: Readonly<Record<string, number>> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

const isLatency = (metric: string): metric is LatencyMetric => (LATENCY_METRICS as readonly string[]).includes(metric);
const isCount = (metric: string): metric is CountMetric => (COUNT_METRICS as readonly string[]).includes(metric);

/** Parses one `--assert`; a string describing the problem if it is not one. */
export function parseAssertion(text: string): Assertion | string {
  const match = /^\s*([A-Za-z0-9]+)\s*(<=|>=|==|!=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zµ]*)\s*$/.exec(text);
  if (!match) return `cannot read assertion '${text}': expected METRIC OP VALUE, like p99<5ms or errors==0`;
  const [, metric = '', operator = '', number = '', unit = ''] = match;
  if (isLatency(metric)) {
    const scale = unit === '' ? 1 : UNIT_MICROS[unit];
    if (scale === undefined) return `unknown unit '${unit}' in '${text}': use us, ms or s`;
    return { text, metric, operator: operator as Operator, value: Number(number) * scale };
  }
  if (isCount(metric)) {
    if (unit !== '') return `'${metric}' takes a plain number, not '${unit}', in '${text}'`;
    return { text, metric, operator: operator as Operator, value: Number(number) };
  }
  return `unknown metric '${metric}' in '${text}': use one of ${[...LATENCY_METRICS, ...COUNT_METRICS].join(', ')}`;
}

function actualValue(result: LoadResult, metric: Assertion['metric']): number {
  return isLatency(metric) ? result.latencyMicros[metric] : result[metric];
}

function holds(actual: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

export function checkAssertions(result: LoadResult, assertions: readonly Assertion[]): AssertionOutcome[] {
  return assertions.map((assertion) => {
    const actual = actualValue(result, assertion.metric);
    const actualText = isLatency(assertion.metric) ? formatMicros(actual) : formatCount(actual);
    return { assertion: assertion.text, actual, actualText, passed: holds(actual, assertion.operator, assertion.value) };
  });
}
