/**
 * The conformance run as a CI check (about 90 s once the tests are fetched and the conformance
 * guest is built, which add about 20 s the first time): every module of the fixed list, in the
 * sandbox and natively.
 */
import { describe, expect, it } from 'vitest';
import { runConformance, type ConformanceReport } from '../src/conformance.js';

describe('CPython conformance', () => {
  let report: ConformanceReport;

  it('runs every module in the sandbox and natively', { timeout: 30 * 60_000 }, async () => {
    report = await runConformance({ moduleTimeoutMs: 300_000 });
    expect(report.comparisons.length).toBeGreaterThan(0);
    for (const c of report.comparisons) expect(c.native.passed, c.module).toBeGreaterThan(0);
  });

  it('passes at least 99% of the natively passing tests that need no /tmp, threads, processes or sockets', () => {
    expect(report.totals.ratioOfRunnable).toBeGreaterThanOrEqual(0.99);
  });

  it('has a named reason for every natively passing test that does not pass in the sandbox', () => {
    const unexplained = Object.assign({}, ...report.comparisons.map((c) => c.unexplained)) as Record<string, string>;
    expect(unexplained).toEqual({});
  });

  it('names the reason of every skip in the sandbox', () => {
    for (const c of report.comparisons) expect(Object.keys(c.sandboxSkips), c.module).not.toContain('');
  });
});
