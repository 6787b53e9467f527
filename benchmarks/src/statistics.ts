/** Median, spread and Welch's t-test over runs: the only statistics the reports need. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

const variance = (values: readonly number[]): number => {
  const m = mean(values);
  return values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1);
};

/**
 * Two-sided p-value of Welch's t-test between two samples of runs; `undefined` with fewer than
 * two runs on a side. Identical constant samples give 1 (same) or 0 (different).
 */
export function welchPValue(a: readonly number[], b: readonly number[]): number | undefined {
  if (a.length < 2 || b.length < 2) return undefined;
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  const difference = mean(a) - mean(b);
  if (va + vb === 0) return difference === 0 ? 1 : 0;
  const t = difference / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** I_x(a, b) by its continued fraction (Numerical Recipes' betacf), which converges in well under 200 terms here. */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-30;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-12) break;
  }
  return h;
}

function logGamma(z: number): number {
  // Lanczos approximation, g = 7.
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const shifted = z - 1;
  let sum = coefficients[0] as number;
  for (let i = 1; i < 9; i++) sum += (coefficients[i] as number) / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** (max - min) / median: how far apart the runs of a row are, as a share of its figure. */
export function relativeSpread(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const middle = median(values);
  const spread = Math.max(...values) - Math.min(...values);
  if (middle === 0) return spread === 0 ? 0 : Number.POSITIVE_INFINITY;
  return spread / Math.abs(middle);
}

/**
 * The positions of the `keep` values that lie closest together (the narrowest window of the
 * sorted values, relative to its median): after re-runs, the runs that agree, the others being
 * set aside as outliers. Fewer values than `keep`: all of them.
 */
export function agreeingSubset(values: readonly number[], keep: number): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  if (order.length <= keep) return order.map((entry) => entry.index);
  let best = 0;
  let bestSpread = Number.POSITIVE_INFINITY;
  for (let start = 0; start + keep <= order.length; start++) {
    const window = order.slice(start, start + keep).map((entry) => entry.value);
    const spread = relativeSpread(window) ?? 0;
    if (spread < bestSpread) {
      bestSpread = spread;
      best = start;
    }
  }
  return order.slice(best, best + keep).map((entry) => entry.index);
}
