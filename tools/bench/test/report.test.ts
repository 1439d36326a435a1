import { describe, expect, it } from 'vitest';
import { formatRatio, formatValue } from '../src/format.js';
import { replaceSection } from '../src/report.js';
import { ratio } from '../src/rows.js';
import { geomean, median, percentile, summarize } from '../src/stats.js';

describe('stats', () => {
  it('takes medians and interpolated percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 0.99)).toBeCloseTo(4.96);
    expect(percentile([], 0.5)).toBeNaN();
    expect(summarize([5, 1, 3])).toMatchObject({ n: 3, median: 3, min: 1, max: 5 });
  });

  it('takes geometric means of positive values only', () => {
    expect(geomean([1, 4])).toBe(2);
    expect(geomean([2, -1, Number.NaN])).toBe(2);
    expect(geomean([])).toBeNaN();
  });
});

describe('format', () => {
  it('formats figures and ratios', () => {
    expect(formatValue(1.2345, 'ms')).toBe('1.23 ms');
    expect(formatValue(0.0123, 'ms')).toBe('12.3 us');
    expect(formatValue(12_345, 'ms')).toBe('12.3 s');
    expect(formatValue(42, 'us')).toBe('42 us');
    expect(formatValue(null, 'MB')).toBe('-');
    expect(formatValue(5123.4, 'req/s')).toBe('5,123 req/s');
    expect(formatValue(118.4, 'KB')).toBe('118 KB');
    expect(formatValue(10_000, 'count')).toBe('10,000');
    expect(formatRatio(0.04234)).toBe('0.042x');
    expect(formatRatio(1234.5)).toBe('1235x');
    expect(formatRatio(1.004)).toBe('1.0x');
    expect(formatRatio(13.4)).toBe('13x');
    expect(formatRatio(null)).toBe('-');
  });

  it('prefers a stated ratio over the ratio of the values', () => {
    const ours = { subject: 'ours', unit: 'ms' as const, value: 2, status: 'ok' as const };
    expect(ratio(ours, { ...ours, subject: 'peer', value: 4 })).toBe(0.5);
    expect(ratio(ours, { ...ours, subject: 'peer', value: 4, ratio: 3 })).toBe(3);
    expect(ratio(ours, { ...ours, subject: 'peer', value: null })).toBeNull();
  });
});

describe('README section', () => {
  it('replaces the text between the markers and keeps the rest', () => {
    const doc = 'intro\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\nafter\n';
    const next = replaceSection(doc, 'results', 'new table');
    expect(next).toContain('intro\n<!-- bench:results:start -->');
    expect(next).toContain('new table');
    expect(next).not.toContain('old');
    expect(next).toMatch(/<!-- bench:results:end -->\nafter\n$/);
    expect(replaceSection(next, 'results', 'newer')).not.toContain('new table');
  });

  it('appends the section when the markers are missing', () => {
    expect(replaceSection('intro\n', 'sessions', 'body')).toMatch(
      /^intro\n\n<!-- bench:sessions:start -->[\s\S]*body[\s\S]*<!-- bench:sessions:end -->\n$/,
    );
  });
});
