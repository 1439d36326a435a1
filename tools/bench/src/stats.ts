/** Order statistics over samples. Percentiles interpolate linearly between the closest ranks. */

export interface Summary {
  n: number;
  median: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

function sorted(samples: readonly number[]): number[] {
  return [...samples].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
}

/** The q-quantile (0 <= q <= 1) of the samples; NaN for none. */
export function percentile(samples: readonly number[], q: number): number {
  const xs = sorted(samples);
  if (xs.length === 0) return Number.NaN;
  const rank = Math.min(Math.max(q, 0), 1) * (xs.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return xs[low]! + (xs[high]! - xs[low]!) * (rank - low);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

export function mean(samples: readonly number[]): number {
  const xs = sorted(samples);
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Geometric mean of positive values (ratios); NaN when there are none. */
export function geomean(values: readonly number[]): number {
  const xs = values.filter((x) => Number.isFinite(x) && x > 0);
  if (xs.length === 0) return Number.NaN;
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

export function summarize(samples: readonly number[]): Summary {
  const xs = sorted(samples);
  return {
    n: xs.length,
    median: median(xs),
    p50: median(xs),
    p99: percentile(xs, 0.99),
    min: xs[0] ?? Number.NaN,
    max: xs[xs.length - 1] ?? Number.NaN,
    mean: mean(xs),
  };
}
