/** Number formatting shared by the console and Markdown tables. */
import type { Unit } from './types.js';

function sig(value: number, digits = 3): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

export function formatValue(value: number | null, unit: Unit): string {
  if (value === null || !Number.isFinite(value)) return '-';
  switch (unit) {
    case 'ms':
      return value >= 10_000
        ? `${sig(value / 1000)} s`
        : value < 0.1 && value > -0.1
          ? `${sig(value * 1000)} us`
          : `${sig(value)} ms`;
    case 'us':
      return Math.abs(value) >= 10_000 ? `${sig(value / 1000)} ms` : `${sig(value)} us`;
    case 'MB':
      return `${sig(value)} MB`;
    case 'KB':
      return `${sig(value)} KB`;
    case 'count':
      return Math.round(value).toLocaleString('en-US');
    case 'req/s':
      return `${Math.round(value).toLocaleString('en-US')} req/s`;
  }
}

/** ours ÷ peer, e.g. `0.042x`, `3.1x`, `250x`. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '-';
  if (ratio >= 10) return `${Math.round(ratio)}x`;
  return `${ratio.toPrecision(2)}x`;
}
