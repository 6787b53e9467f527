/**
 * Small chart renderers that return inline SVG, so report.html needs no script and no network:
 * a line chart (optionally log-scaled) and a grouped bar chart.
 */

export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** The series' colour: the model's own, the same in every chart. */
  readonly colour?: string;
}

export interface LineChartSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Names for x positions, for a categorical axis (x = 0, 1, 2 …). */
  readonly xCategories?: readonly string[];
  /** Tick positions and their labels, for an axis whose values are not what a reader reads (percentiles as 1/(1-p)). */
  readonly xTicks?: ReadonlyArray<readonly [number, string]>;
  readonly formatY?: (value: number) => string;
  readonly formatX?: (value: number) => string;
}

export interface BarChartSpec {
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  /** Bars: `colours` per category (the model's colour), or one `colour` for the whole series. */
  readonly series: ReadonlyArray<{
    readonly name: string;
    readonly values: readonly number[];
    readonly colour?: string;
    readonly colours?: readonly string[];
    readonly outline?: boolean;
  }>;
  readonly formatY?: (value: number) => string;
  /** Log y when the largest bar is over this many times the smallest (default 100). */
  readonly logRatio?: number;
}

const WIDTH = 640;
const HEIGHT = 340;
const MARGIN = { left: 88, right: 150, top: 36, bottom: 48 };
/** Model colours; grey is kept for what is not a model (the load generator). */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#bcbd22'];
export const NEUTRAL = '#8a8a8a';

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const colourOf = (index: number): string => PALETTE[index % PALETTE.length] as string;

const compact = (value: number): string => {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(abs < 10 ? 2 : 0)}`;
};

interface Scale {
  (value: number): number;
  readonly ticks: readonly number[];
}

function linearOrLog(min: number, max: number, from: number, to: number, log: boolean): Scale {
  if (log) {
    const lo = Math.log10(Math.max(min, 1e-9));
    const hi = Math.log10(Math.max(max, min * 10));
    const low = Math.floor(lo);
    const high = Math.ceil(hi === lo ? lo + 1 : hi);
    const scale = ((value: number) => from + ((Math.log10(Math.max(value, 1e-9)) - low) / (high - low)) * (to - from)) as Scale;
    const ticks: number[] = [];
    for (let exponent = low; exponent <= high && ticks.length < 12; exponent++) ticks.push(10 ** exponent);
    return Object.assign(scale, { ticks });
  }
  const low = Math.min(0, min);
  const high = max === low ? low + 1 : max * 1.08;
  const scale = ((value: number) => from + ((value - low) / (high - low)) * (to - from)) as Scale;
  const step = niceStep((high - low) / 5);
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high && ticks.length < 12; tick += step) ticks.push(tick);
  return Object.assign(scale, { ticks });
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function frame(id: string, title: string, body: string): string {
  return (
    `<svg class="chart" data-chart="${escapeXml(id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(title)}">` +
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>${body}</svg>`
  );
}

function legend(entries: ReadonlyArray<{ readonly name: string; readonly colour: string; readonly outline?: boolean }>): string {
  return entries
    .map(({ name, colour, outline }, index) => {
      const y = MARGIN.top + 10 + index * 18;
      const x = WIDTH - MARGIN.right + 14;
      const paint = outline === true ? `fill="#fff" stroke="${colour}" stroke-width="2"` : `fill="${colour}"`;
      return `<rect class="legend" x="${x}" y="${y - 9}" width="12" height="12" ${paint}/><text x="${x + 18}" y="${y + 1}" font-size="12">${escapeXml(name)}</text>`;
    })
    .join('');
}

function axes(xLabel: string, yLabel: string): string {
  const bottom = HEIGHT - MARGIN.bottom;
  return (
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${WIDTH - MARGIN.right}" y2="${bottom}" stroke="#333"/>` +
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#333"/>` +
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>` +
    // The y title sits left of the widest tick label (about 7 characters at 11 px from MARGIN.left - 6).
    `<text transform="translate(14 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(yLabel)}</text>`
  );
}

export function lineChart(spec: LineChartSpec): string {
  const points = spec.series.flatMap((series) => series.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (points.length === 0) return '';
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const categorical = spec.xCategories !== undefined;
  const xScale = categorical
    ? Object.assign(
        (x: number) =>
          MARGIN.left + 30 + (x / Math.max(1, (spec.xCategories?.length ?? 1) - 1)) * (WIDTH - MARGIN.left - MARGIN.right - 60),
        { ticks: spec.xCategories?.map((_, index) => index) ?? [] },
      )
    : linearOrLog(Math.min(...xs), Math.max(...xs), MARGIN.left + 20, WIDTH - MARGIN.right - 20, spec.logX === true && Math.min(...xs) > 0);
  const logY = spec.logY === true && Math.min(...ys) > 0;
  const yScale = linearOrLog(Math.min(...ys), Math.max(...ys), HEIGHT - MARGIN.bottom, MARGIN.top + 10, logY);
  const formatY = spec.formatY ?? compact;
  const bottom = HEIGHT - MARGIN.bottom;
  let body = axes(spec.xLabel, spec.yLabel);
  for (const tick of yScale.ticks) {
    const y = yScale(tick);
    body += `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/><text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeXml(formatY(tick))}</text>`;
  }
  const xTicks: ReadonlyArray<readonly [number, string]> =
    spec.xTicks ??
    xScale.ticks.map((tick) => [tick, categorical ? (spec.xCategories?.[tick] ?? '') : (spec.formatX ?? compact)(tick)] as const);
  for (const [tick, label] of xTicks) {
    const x = xScale(tick);
    body += `<text x="${x.toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(label)}</text>`;
  }
  const drawn: Array<{ name: string; colour: string }> = [];
  spec.series.forEach((series, index) => {
    const valid = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (valid.length === 0) return;
    const colour = series.colour ?? colourOf(index);
    drawn.push({ name: series.name, colour });
    // One point is a point: a line through it would claim a trend nobody measured.
    if (valid.length > 1) {
      const d = valid.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${xScale(x).toFixed(1)},${yScale(y).toFixed(1)}`).join(' ');
      body += `<path class="series" data-series="${escapeXml(series.name)}" d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`;
    }
    for (const [x, y] of valid) {
      body += `<circle class="point" data-series="${escapeXml(series.name)}" cx="${xScale(x).toFixed(1)}" cy="${yScale(y).toFixed(1)}" r="${valid.length > 1 ? 3.5 : 5}" fill="${colour}"><title>${escapeXml(`${series.name}: ${formatY(y)}`)}</title></circle>`;
    }
  });
  body += legend(drawn);
  return frame(spec.id, spec.title, body);
}

export function barChart(spec: BarChartSpec): string {
  const values = spec.series.flatMap((series) => series.values).filter((value) => Number.isFinite(value));
  if (values.length === 0 || spec.categories.length === 0) return '';
  const positive = values.filter((value) => value > 0);
  // One bar a thousand times another leaves the others invisible on a linear axis.
  const logY = positive.length > 1 && Math.max(...positive) / Math.min(...positive) > (spec.logRatio ?? 100);
  const yScale = logY
    ? linearOrLog(Math.min(...positive), Math.max(...positive), HEIGHT - MARGIN.bottom, MARGIN.top + 10, true)
    : linearOrLog(0, Math.max(...values), HEIGHT - MARGIN.bottom, MARGIN.top + 10, false);
  const formatY = spec.formatY ?? compact;
  const bottom = HEIGHT - MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const groupWidth = plotWidth / spec.categories.length;
  const barWidth = (groupWidth * 0.8) / Math.max(1, spec.series.length);
  let body = axes('', spec.yLabel);
  for (const tick of yScale.ticks) {
    const y = yScale(tick);
    body += `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/><text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeXml(tick === 0 ? '0' : formatY(tick))}</text>`;
  }
  spec.categories.forEach((category, c) => {
    const groupX = MARGIN.left + c * groupWidth + groupWidth * 0.1;
    body += `<text x="${(MARGIN.left + (c + 0.5) * groupWidth).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(category)}</text>`;
    spec.series.forEach((series, s) => {
      const value = series.values[c];
      if (value === undefined || !Number.isFinite(value) || (logY && value <= 0)) return;
      const y = yScale(value);
      const colour = series.colours?.[c] ?? series.colour ?? colourOf(s);
      const paint = series.outline === true ? `fill="#fff" stroke="${colour}" stroke-width="2"` : `fill="${colour}"`;
      body += `<rect class="bar" data-series="${escapeXml(series.name)}" x="${(groupX + s * barWidth).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, barWidth - 2).toFixed(1)}" height="${Math.max(1, bottom - y).toFixed(1)}" ${paint}><title>${escapeXml(`${category} ${series.name}: ${formatY(value)}`)}</title></rect>`;
    });
  });
  // Bars coloured per model need no legend (the category names them); a series of one colour does.
  body += legend(
    spec.series
      .filter((series) => series.colours === undefined)
      .map((series, s) => ({ name: series.name, colour: series.colour ?? colourOf(s), outline: series.outline === true })),
  );
  if (logY) body += `<text x="${MARGIN.left + 4}" y="${MARGIN.top + 4}" font-size="10" fill="#555">log scale</text>`;
  return frame(spec.id, spec.title, body);
}
