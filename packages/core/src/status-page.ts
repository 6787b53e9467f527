/**
 * `GET /`: what a browser pointed at a server sees first. One small self-contained HTML page
 * (no request beyond itself and the two JSON/text endpoints it links), drawn from INFO and the
 * /metrics text the model already answers, and refreshed in place every two seconds.
 */
import type { ServerInfo } from './server-view.js';

/** The counters the page shows, as Prometheus names and the words a person reads. */
const COUNTERS: readonly (readonly [string, string])[] = [
  ['echoplex_connections_accepted_total', 'connections accepted'],
  ['echoplex_requests_total', 'requests'],
  ['echoplex_errors_total', 'errors sent'],
  ['echoplex_pushed_messages_total', 'messages pushed to rooms'],
  ['echoplex_bytes_received_total', 'bytes received'],
  ['echoplex_bytes_sent_total', 'bytes sent'],
];

/** The sum of every series of one metric in Prometheus text (`name{labels} value` or `name value`). */
export function sumMetric(metricsText: string, name: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);

/** `3 h 02 min`, `4 min 05 s`, `12 s`. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s >= 86_400) return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${s} s`;
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The INFO fields the page names itself; the model's own fields are listed after them. */
const SHOWN_FIELDS = new Set([
  'model',
  'pid',
  'threads',
  'processes',
  'connections',
  'rooms',
  'uptimeSeconds',
  'protocol',
  'servedBy',
  'connectionId',
  'nick',
  'room',
]);

function row(label: string, value: string, id?: string): string {
  return `<tr><th>${escapeHtml(label)}</th><td${id === undefined ? '' : ` id="${id}"`}>${escapeHtml(value)}</td></tr>`;
}

/** The page for one moment of the server: `info` as INFO answers it, `metricsText` as /metrics does. */
export function renderStatusPage(info: ServerInfo, metricsText: string): string {
  const rooms = typeof info.rooms === 'number' ? count(info.rooms) : 'not reported by this model';
  const summary = [
    row('model', info.model, 'model'),
    row('uptime', formatUptime(info.uptimeSeconds), 'uptime'),
    row('connections now', count(info.connections), 'connections'),
    row('rooms with members', rooms, 'rooms'),
    row('threads, processes', `${info.threads}, ${info.processes}`, 'threads'),
    row('pid', String(info.pid)),
    row('protocol', String(info.protocol)),
  ];
  const counters = COUNTERS.map(([name, label]) => row(label, count(sumMetric(metricsText, name)), name));
  const own = Object.entries(info)
    .filter(([key]) => !SHOWN_FIELDS.has(key))
    .map(([key, value]) => row(key, typeof value === 'string' ? value : JSON.stringify(value)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Echoplex ${escapeHtml(info.model)}</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 44rem; padding: 0 1rem; color: #1d232a; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  h2 { font-size: 1.05rem; margin: 1.6rem 0 0.4rem; }
  p.lead { margin-top: 0; color: #55606b; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 0.25rem 0.6rem; border-bottom: 1px solid #e3e7eb; }
  th { font-weight: 500; color: #55606b; width: 45%; }
  td { font-variant-numeric: tabular-nums; }
  code { background: #f1f3f5; padding: 0 0.25rem; border-radius: 3px; }
</style>
</head>
<body>
<main id="status">
<h1>Echoplex <span data-field="model">${escapeHtml(info.model)}</span></h1>
<p class="lead">One echo/chat protocol on one port: binary frames, text lines (<code>nc</code>, then <code>HELP</code>) and HTTP.</p>
<h2>Server</h2>
<table id="server">${summary.join('')}</table>
<h2>Counters since start</h2>
<table id="counters">${counters.join('')}</table>
${own.length === 0 ? '' : `<h2>${escapeHtml(info.model)} details</h2>\n<table id="details">${own.join('')}</table>`}
<p>Raw: <a href="/info">/info</a> (JSON) · <a href="/metrics">/metrics</a> (Prometheus) · <a href="/ping">/ping</a></p>
</main>
<script>
  // Live: every 2 s the page fetches itself and swaps in the new figures; a failed fetch leaves the last ones.
  setInterval(async () => {
    try {
      const response = await fetch('/', { cache: 'no-store' });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('status');
      if (next) document.getElementById('status').replaceWith(next);
    } catch {}
  }, 2000);
</script>
</body>
</html>
`;
}
