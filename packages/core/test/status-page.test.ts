/** GET / and /info as a person at a browser meets them: an HTML page of the server's figures, and indented INFO JSON. */
import { describe, expect, it } from 'vitest';
import { formatUptime, renderStatusPage, sumMetric } from '../src/status-page.js';
import { connect } from './session-harness.js';

const METRICS = [
  '# TYPE echoplex_requests_total counter',
  'echoplex_requests_total{dialect="text",command="PING",model="m"} 3',
  'echoplex_requests_total{dialect="http",command="STATUS",model="m"} 1200',
  'echoplex_requests_total_other{model="m"} 99',
  'echoplex_errors_total 2',
].join('\n');

describe('the status page', () => {
  it('sums every series of a metric, and only that metric', () => {
    expect(sumMetric(METRICS, 'echoplex_requests_total')).toBe(1203);
    expect(sumMetric(METRICS, 'echoplex_errors_total')).toBe(2);
    expect(sumMetric(METRICS, 'echoplex_bytes_sent_total')).toBe(0);
  });

  it('shows the model, uptime, connections, rooms, counters and the model own fields, escaped', () => {
    const html = renderStatusPage(
      { model: 'm<b>', pid: 7, threads: 2, processes: 1, connections: 5, rooms: 1, uptimeSeconds: 3725, protocol: 1, workers: 4 },
      METRICS,
    );
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>Echoplex m&lt;b&gt;</title>');
    expect(html).not.toContain('m<b>');
    expect(html).toContain('<td id="uptime">1 h 02 min</td>');
    expect(html).toContain('<td id="connections">5</td>');
    expect(html).toContain('<td id="rooms">1</td>');
    expect(html).toContain('<td id="echoplex_requests_total">1,203</td>');
    expect(html).toContain('<tr><th>workers</th><td>4</td></tr>');
    expect(html).toContain('<a href="/info">');
    expect(html).toContain('<a href="/metrics">');
  });

  it('reads uptime in the largest units that fit', () => {
    expect(formatUptime(12)).toBe('12 s');
    expect(formatUptime(245)).toBe('4 min 05 s');
    expect(formatUptime(90_000)).toBe('1 d 1 h');
  });
});

describe('Session, GET / and GET /info', () => {
  it('answers GET / with 200 text/html and HEAD / with the head alone', () => {
    const { send, transport } = connect();
    send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const page = transport.take();
    expect(page).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: text\/html; charset=utf-8\r\n/);
    expect(page).toContain('<title>Echoplex test</title>');
    send('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(transport.take()).toMatch(/\r\n\r\n$/);
  });

  it('indents /info, and gives HTTP connections no guest nick', () => {
    const { send, transport } = connect();
    send('GET /info HTTP/1.1\r\nHost: x\r\n\r\n');
    const body = transport.take().split('\r\n\r\n')[1] as string;
    expect(body).toMatch(/^\{\n {2}"model": "test",\n/);
    expect(JSON.parse(body)).toMatchObject({ model: 'test', nick: null, room: null });
  });
});
