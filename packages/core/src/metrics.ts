/** /metrics in Prometheus text format: the protocol's metric names over summed snapshots, plus the model's own gauges and prom-client's process metrics. */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { StatsSnapshot } from './stats.js';

/** What a model knows at scrape time: the whole server's connections and counters, and its own gauges. */
export interface MetricsSample {
  readonly connections: number;
  readonly stats: StatsSnapshot;
  /** The model's own gauges, e.g. `{ echoplex_workers: { help, values: [{ labels: {}, value: 4 }] } }`. */
  readonly gauges?: Readonly<Record<string, ModelGauge>>;
  /** The hub across servers (`--hub`), if the server has one. */
  readonly hub?: HubCounters | undefined;
}

/** A hub across servers as /metrics shows it: Redis calls answered, calls failed or timed out, and whether it answers now. */
export interface HubCounters {
  readonly roundTrips: number;
  readonly failures: number;
  readonly available: boolean;
}

export interface ModelGauge {
  readonly help: string;
  /** The gauge's label names; fixed at its first render, so name them even while there are no values yet. */
  readonly labelNames?: readonly string[];
  readonly values: readonly { readonly labels?: Readonly<Record<string, string>>; readonly value: number }[];
}

/**
 * Renders samples as Prometheus text. The registry holds collectors that read the
 * latest sample, so each scrape shows the whole server as the model summed it.
 * Echoplex's own series come first, then prom-client's process metrics, from a registry
 * of their own: a person reading `curl /metrics` sees the server before the runtime.
 */
/** How often the event-loop lag histogram samples (prom-client's `eventLoopMonitoringPrecision`). */
const EVENT_LOOP_SAMPLE_MS = 100;

export class MetricsExporter {
  private readonly registry = new Registry();
  private readonly processRegistry = new Registry();
  private sample: MetricsSample | undefined;
  private readonly modelGauges = new Map<string, Gauge>();

  constructor(model: string) {
    this.registry.setDefaultLabels({ model });
    this.processRegistry.setDefaultLabels({ model });
    // The event-loop lag histogram samples on a timer: prom-client's 10 ms default woke an idle
    // server 100 times a second, 1.2 % of a core with no connection at all; at 100 ms it still sees any stall.
    collectDefaultMetrics({ register: this.processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const exporter = this;
    /** A counter read off the latest sample; `undefined` (no sample, no hub) leaves it at 0. */
    const counter = (name: string, help: string, read: (sample: MetricsSample) => number | undefined) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          const value = exporter.sample === undefined ? undefined : read(exporter.sample);
          if (value !== undefined) this.inc(value);
        },
      });
    new Gauge({
      name: 'echoplex_connections',
      help: 'Connections being served now, across the whole server',
      registers: [this.registry],
      collect() {
        this.set(exporter.sample?.connections ?? 0);
      },
    });
    counter('echoplex_connections_accepted_total', 'Connections accepted', ({ stats }) => stats.connectionsAccepted);
    counter('echoplex_bytes_received_total', 'Bytes received from clients', ({ stats }) => stats.bytesReceived);
    counter('echoplex_bytes_sent_total', 'Bytes sent to clients', ({ stats }) => stats.bytesSent);
    counter('echoplex_pushed_messages_total', 'MSG, JOINED and LEFT pushed to room members', ({ stats }) => stats.pushedMessages);
    counter(
      'echoplex_push_encodings_total',
      'Pushes encoded: once per push and dialect, shared by every member it reaches',
      ({ stats }) => stats.pushEncodings,
    );
    counter('echoplex_datagrams_received_total', 'UDP datagrams received (--udp)', ({ stats }) => stats.datagramsReceived);
    counter('echoplex_datagrams_sent_total', 'UDP replies sent', ({ stats }) => stats.datagramsSent);
    counter(
      'echoplex_datagrams_dropped_total',
      'UDP datagrams left unanswered: empty, or the reply could not be sent',
      ({ stats }) => stats.datagramsDropped,
    );
    new Counter({
      name: 'echoplex_requests_total',
      help: 'Requests handled, by dialect and command',
      labelNames: ['dialect', 'command'],
      registers: [this.registry],
      collect() {
        this.reset();
        const stats = exporter.sample?.stats;
        if (stats === undefined) return;
        for (const [dialect, byCommand] of Object.entries(stats.requests)) {
          for (const [command, count] of Object.entries(byCommand)) this.inc({ dialect, command }, count);
        }
      },
    });
    new Counter({
      name: 'echoplex_errors_total',
      help: 'Errors sent to clients, by code',
      labelNames: ['code'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [code, count] of Object.entries(exporter.sample?.stats.errors ?? {})) this.inc({ code }, count);
      },
    });
    counter(
      'echoplex_hub_round_trips_total',
      'Calls to the hub across servers (Redis) answered; 0 without --hub',
      ({ hub }) => hub?.roundTrips,
    );
    counter('echoplex_hub_failures_total', 'Calls to the hub across servers that failed or timed out', ({ hub }) => hub?.failures);
    new Gauge({
      name: 'echoplex_hub_available',
      help: 'Whether the hub answers now: 1, or 0 while Redis is away (always 1 without --hub)',
      registers: [this.registry],
      collect() {
        this.set(exporter.sample?.hub?.available === false ? 0 : 1);
      },
    });
  }

  /** Prometheus text for this sample. */
  async render(sample: MetricsSample): Promise<string> {
    this.sample = sample;
    for (const [name, gauge] of Object.entries(sample.gauges ?? {})) {
      let metric = this.modelGauges.get(name);
      if (metric === undefined) {
        const labelNames = gauge.labelNames ?? [...new Set(gauge.values.flatMap((v) => Object.keys(v.labels ?? {})))];
        metric = new Gauge({ name, help: gauge.help, labelNames, registers: [this.registry] });
        this.modelGauges.set(name, metric);
      }
      metric.reset();
      for (const { labels, value } of gauge.values) metric.set(labels ?? {}, value);
    }
    const [own, process] = await Promise.all([this.registry.metrics(), this.processRegistry.metrics()]);
    return `${own}\n${process}`;
  }
}
