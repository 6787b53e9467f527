/** /metrics: the protocol's metric names over a summed snapshot, and model gauges whose labels are named up front. */
import { describe, expect, it } from 'vitest';
import { ServerStats, sumSnapshots } from '../src/index.js';
import { MetricsExporter } from '../src/server.js';

describe('MetricsExporter', () => {
  it('renders the names PROTOCOL.md requires, summed over snapshots', async () => {
    const a = new ServerStats();
    const b = new ServerStats();
    a.countRequest('binary', 'ECHO');
    b.countRequest('binary', 'ECHO');
    b.countError('TOO_LARGE');
    b.bytesReceived = 10;
    const text = await new MetricsExporter('test').render({ connections: 3, stats: sumSnapshots([a.snapshot(), b.snapshot()]) });
    for (const name of [
      'echoplex_connections',
      'echoplex_connections_accepted_total',
      'echoplex_requests_total',
      'echoplex_errors_total',
      'echoplex_bytes_received_total',
      'echoplex_bytes_sent_total',
      'echoplex_pushed_messages_total',
      'process_cpu_seconds_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}`, 'm'));
    }
    expect(text).toContain('echoplex_requests_total{dialect="binary",command="ECHO",model="test"} 2');
    expect(text).toContain('echoplex_errors_total{code="TOO_LARGE",model="test"} 1');
    expect(text).toContain('echoplex_connections{model="test"} 3');
    expect(text).toContain('echoplex_bytes_received_total{model="test"} 10');
  });

  it("lists echoplex's own series, model gauges included, before prom-client's", async () => {
    const text = await new MetricsExporter('test').render({
      connections: 1,
      stats: new ServerStats().snapshot(),
      gauges: { echoplex_workers: { help: 'workers', values: [{ value: 4 }] } },
    });
    const names = text
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2] as string);
    const firstProcess = names.findIndex((name) => !name.startsWith('echoplex_'));
    expect(names[0]).toBe('echoplex_connections');
    expect(names.slice(firstProcess).filter((name) => name.startsWith('echoplex_'))).toEqual([]);
    expect(names).toContain('echoplex_workers');
  });

  it('keeps a model gauge first rendered without values usable once values come', async () => {
    const exporter = new MetricsExporter('test');
    const gauge = (values: { labels: { pid: string }; value: number }[]) => ({
      connections: 0,
      stats: new ServerStats().snapshot(),
      gauges: { echoplex_child_connections: { help: 'per child', labelNames: ['pid'], values } },
    });
    await exporter.render(gauge([]));
    const text = await exporter.render(gauge([{ labels: { pid: '42' }, value: 5 }]));
    expect(text).toContain('echoplex_child_connections{pid="42",model="test"} 5');
  });
});
