import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../dist/index.js';

describe('limits on the command line', () => {
  it('reads durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1500')).toBe(1500);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    expect(() => parseDuration('0')).toThrow();
  });

  it('reads sizes in binary and decimal units', () => {
    expect(parseSize('20MiB')).toBe(20 * 1024 * 1024);
    expect(parseSize('512KiB')).toBe(512 * 1024);
    expect(parseSize('64MB')).toBe(64_000_000);
    expect(parseSize('1048576')).toBe(1048576);
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });
});
