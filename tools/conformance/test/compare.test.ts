import { describe, expect, it } from 'vitest';
import { classify, compareModule, fixtureScope, totals } from '../src/compare.js';
import type { ModuleRun } from '../src/runs.js';

const run = (outcomes: ModuleRun['outcomes']): ModuleRun => ({ outcomes, seconds: 1, writableTmp: false });

describe('classify', () => {
  it('names the reason from skip messages and error text', () => {
    expect(classify("FileNotFoundError: [Errno 44] No usable temporary directory found in ['/tmp']")).toBe(
      'needs /tmp',
    );
    expect(classify("RuntimeError: can't start new thread: threads are not available in the sandbox")).toBe('threads');
    expect(classify('requires subprocess support')).toBe('subprocess');
    expect(classify('tzset required')).toBe('time.tzset');
    expect(classify('AssertionError: 3 != 4')).toBe('unexplained');
    expect(classify(undefined)).toBe('unexplained');
  });
});

describe('fixtureScope', () => {
  it('recognises the pseudo ids of failed fixtures and imports, and nothing else', () => {
    expect(fixtureScope('setUpModule (test.test_zoneinfo.test_zoneinfo)')).toBe('test.test_zoneinfo.test_zoneinfo');
    expect(fixtureScope('setUpClass (test.m.Case)')).toBe('test.m.Case');
    expect(fixtureScope('import (test.test_tempfile)')).toBe('test.test_tempfile');
    expect(fixtureScope('unittest.loader._FailedTest.test_tempfile')).toBe('test_tempfile');
    expect(fixtureScope('test.m.Case.test_setUpModule')).toBeUndefined();
  });
});

describe('compareModule', () => {
  it('counts tests a failed fixture kept from running as sandbox failures, with the fixture reason', () => {
    const native = run({
      'test.m.A.test_one': { outcome: 'passed' },
      'test.m.A.test_two': { outcome: 'passed' },
      'test.m.B.test_three': { outcome: 'passed' },
      'test.m.B.test_four': { outcome: 'skipped', detail: 'not here either' },
    });
    const sandbox = run({
      'setUpClass (test.m.A)': { outcome: 'error', detail: 'OSError: [Errno 69] Read-only file system' },
      'test.m.B.test_three': { outcome: 'failed', detail: 'AssertionError: 1 != 2' },
      'test.m.B.test_four': { outcome: 'skipped', detail: 'not here either' },
    });
    const c = compareModule('test.m', native, sandbox);
    expect(c.native).toEqual({ run: 4, passed: 3, failed: 0, skipped: 1 });
    expect(c.sandbox).toEqual({ run: 4, passed: 0, failed: 3, skipped: 1 });
    expect(c.lost).toEqual({
      'needs /tmp': ['test.m.A.test_one', 'test.m.A.test_two'],
      unexplained: ['test.m.B.test_three'],
    });
    expect(c.unexplained).toEqual({ 'test.m.B.test_three': 'AssertionError: 1 != 2' });
  });

  it('computes the ratios over natively passing tests', () => {
    const native = run({
      'test.m.A.a': { outcome: 'passed' },
      'test.m.A.b': { outcome: 'passed' },
      'test.m.A.c': { outcome: 'passed' },
      'test.m.A.d': { outcome: 'passed' },
    });
    const sandbox = run({
      'test.m.A.a': { outcome: 'passed' },
      'test.m.A.b': { outcome: 'skipped', detail: 'requires threading support' },
      'test.m.A.c': { outcome: 'error', detail: 'No usable temporary directory found' },
      'test.m.A.d': { outcome: 'passed' },
    });
    const t = totals([compareModule('test.m', native, sandbox)]);
    expect(t).toMatchObject({ nativePassed: 4, bothPassed: 2, ratio: 0.5, ratioOfRunnable: 1 });
    expect(t.ratioWithoutTmp).toBeCloseTo(2 / 3);
  });
});
