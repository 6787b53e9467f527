/** Every figure a bench step records, with its unit and which direction is better: one list for all reports. */

export const METRICS = {
  messagesPerSecond: { label: 'msg/s', unit: '/s', better: 'higher', about: 'replies (chat: deliveries; churn: connections) per second' },
  mbPerSecond: { label: 'MiB/s', unit: 'MiB/s', better: 'higher', about: 'payload received per second' },
  workPerSecond: { label: 'WORK/s', unit: '/s', better: 'higher', about: 'cpu-mix: WORK replies per second beside the PINGs' },
  errors: { label: 'errors', unit: '', better: 'lower', about: 'wrong replies, ERR frames, lost connections' },
  p50Micros: { label: 'p50', unit: 'µs', better: 'lower', about: 'median latency (open model: from intended send time)' },
  p90Micros: { label: 'p90', unit: 'µs', better: 'lower', about: '90th percentile latency' },
  p99Micros: { label: 'p99', unit: 'µs', better: 'lower', about: '99th percentile latency' },
  p999Micros: { label: 'p99.9', unit: 'µs', better: 'lower', about: '99.9th percentile latency' },
  p9999Micros: { label: 'p99.99', unit: 'µs', better: 'lower', about: '99.99th percentile latency' },
  maxMicros: { label: 'max', unit: 'µs', better: 'lower', about: 'largest latency' },
  uncorrectedP99Micros: { label: 'p99 uncorr.', unit: 'µs', better: 'lower', about: 'p99 timed from the actual send (open model)' },
  lateSends: { label: 'late sends', unit: '', better: 'lower', about: 'open model: sends that fell behind their timetable' },
  serverCpuCores: { label: 'server CPU', unit: 'cores', better: 'lower', about: 'server tree CPU seconds per wall second' },
  serverCpuMicrosPerMessage: { label: 'server µs/msg', unit: 'µs', better: 'lower', about: 'server tree CPU time per message' },
  serverCpuMicrosPerMiB: { label: 'server µs/MiB', unit: 'µs', better: 'lower', about: 'server tree CPU time per MiB delivered' },
  serverRssBytes: { label: 'server RSS', unit: 'B', better: 'lower', about: 'peak RSS summed over the server tree' },
  serverThreads: { label: 'threads', unit: '', better: 'lower', about: 'peak threads over the server tree' },
  serverProcesses: { label: 'processes', unit: '', better: 'lower', about: 'peak processes in the server tree' },
  memoryPerConnectionBytes: { label: 'B/conn', unit: 'B', better: 'lower', about: 'RSS growth over the idle baseline per connection' },
  connectionsOpened: { label: 'conns held', unit: '', better: 'higher', about: 'connections the model accepted and kept' },
  lossRate: { label: 'loss', unit: '%', better: 'lower', about: 'udp: share of requests without a reply within the timeout' },
  hubCpuCores: { label: 'Redis CPU', unit: 'cores', better: 'lower', about: "chat-cluster: Redis's own CPU, inside server CPU" },
  loadCpuCores: { label: 'load CPU', unit: 'cores', better: 'lower', about: 'load generator CPU seconds per wall second' },
  loadCpuMicrosPerMessage: { label: 'load µs/msg', unit: 'µs', better: 'lower', about: 'load generator CPU time per message' },
  readySeconds: {
    label: 'ready',
    unit: 's',
    better: 'lower',
    about: 'time until every connection of the step got its first reply (thread or child start-up)',
  },
  crossCheckPerSecond: {
    label: 'autocannon/s',
    unit: '/s',
    better: 'higher',
    about: 'http: requests per second measured by autocannon, the cross-check',
  },
  crossCheckP99Micros: {
    label: 'autocannon p99',
    unit: 'µs',
    better: 'lower',
    about: 'http: p99 by autocannon (1 ms resolution)',
    resolutionMicros: 1000,
  },
} as const satisfies Record<string, { label: string; unit: string; better: 'higher' | 'lower'; about: string; resolutionMicros?: number }>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export type Metrics = Partial<Record<MetricName, number>>;

/** The smallest value a metric's tool can tell from zero, in its unit (autocannon's histogram: 1 ms). */
export function resolutionOf(name: MetricName): number {
  const entry = METRICS[name];
  return 'resolutionMicros' in entry ? entry.resolutionMicros : 0;
}

/** Latency metrics: a row without replies has none, whatever its histogram printed. */
export const LATENCY_METRICS: ReadonlySet<MetricName> = new Set<MetricName>([
  'p50Micros',
  'p90Micros',
  'p99Micros',
  'p999Micros',
  'p9999Micros',
  'maxMicros',
  'uncorrectedP99Micros',
  'crossCheckP99Micros',
]);
