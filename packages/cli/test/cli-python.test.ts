import { describe, expect, it } from 'vitest';
import { run } from './run-bin.js';

describe('component-sandbox (Python, the default)', () => {
  it('2 + 2 -> result: 4', () => {
    const { stdout, status } = run('2 + 2');
    expect(stdout).toBe('result: 4\n');
    expect(status).toBe(0);
  });

  it('a global function defined by exec, called by eval -> result: 42', () => {
    expect(run('global foo\ndef foo(): return 42', 'foo()').stdout).toBe('result: 42\n');
  });

  it('while True: pass -> timeout! after about 5 s, non-zero exit', () => {
    const { stdout, status, elapsedMs } = run('while True: pass', '1');
    expect(stdout).toBe('timeout!\n');
    expect(status).not.toBe(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(5000);
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('100 MiB under the 20 MiB limit -> exec error: MemoryError', () => {
    const { stdout, status } = run('global foo\nfoo = bytes(100 * 1024 * 1024)', 'foo[42]');
    expect(stdout).toBe('exec error: MemoryError\n');
    expect(status).toBe(1);
  });

  it('print("hi") shows hi, then result: 1', () => {
    expect(run('print("hi")', '1').stdout).toBe('hi\nresult: 1\n');
  });

  it('eval errors read ExcType: message', () => {
    expect(run('x').stdout).toBe("eval error: NameError: name 'x' is not defined\n");
  });

  it('a bigger --memory holds the same allocation', () => {
    expect(run('--memory', '160MiB', 'global foo\nfoo = bytes(100 * 1024 * 1024)', 'foo[42]').stdout).toBe(
      'result: 0\n',
    );
  });
});
