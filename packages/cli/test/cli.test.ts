import { describe, expect, it } from 'vitest';
import { run } from './run-bin.js';

describe('component-sandbox --lang javascript', () => {
  it('prints the result line', () => {
    const { stdout, status } = run('--lang', 'javascript', '2 + 2');
    expect(stdout).toBe('result: 4\n');
    expect(status).toBe(0);
  });

  it('runs statements before the expression, with globals kept', () => {
    const { stdout } = run('-l', 'javascript', 'var foo = function () { return 42 }', 'foo()');
    expect(stdout).toBe('result: 42\n');
  });

  it('shows what the guest printed, then the result', () => {
    const { stdout, stderr } = run('-l', 'javascript', 'console.log("hi"); console.error("oops")', '1');
    expect(stdout).toBe('hi\nresult: 1\n');
    expect(stderr).toBe('oops\n');
  });

  it('reports exec and eval errors as the demo does', () => {
    const exec = run('-l', 'javascript', 'throw new TypeError("bad")', '1');
    expect(exec.stdout).toBe('exec error: TypeError: bad\n');
    expect(exec.status).toBe(1);
    const evaluation = run('-l', 'javascript', 'nope');
    expect(evaluation.stdout).toBe('eval error: ReferenceError: nope is not defined\n');
    expect(evaluation.status).toBe(1);
  });

  it('prints timeout! and exits 3 when a call runs past --timeout', () => {
    const { stdout, status, elapsedMs } = run('-l', 'javascript', '--timeout', '1s', 'while (true) {}', '1');
    expect(stdout).toBe('timeout!\n');
    expect(status).toBe(3);
    expect(elapsedMs).toBeGreaterThanOrEqual(1000);
  });

  it('prints one JSON object with --json', () => {
    const { stdout, status } = run('-l', 'javascript', '--json', 'console.log("x")', '[1, 2]');
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'ok', value: [1, 2], json: '[1,2]', stdout: 'x\n' });
  });

  it('refuses a memory limit below the guest initial memory, exit 2', () => {
    const { stderr, status } = run('-l', 'javascript', '--memory', '1MiB', '1');
    expect(status).toBe(2);
    expect(stderr).toMatch(/below the javascript guest's initial memory/);
  });
});

describe('command line errors', () => {
  it('needs an expression', () => {
    const { status, stderr } = run();
    expect(status).toBe(2);
    expect(stderr).toMatch(/missing required argument/);
  });

  it('refuses bad limits and languages', () => {
    expect(run('--timeout', 'soon', '1').status).toBe(2);
    expect(run('--memory', 'lots', '1').status).toBe(2);
    expect(run('--lang', 'cobol', '1').status).toBe(2);
  });

  it('documents usage and exit codes in --help', () => {
    const { stdout, status } = run('--help');
    expect(status).toBe(0);
    expect(stdout).toMatch(/\[STATEMENT\.\.\.\] EXPRESSION/);
    expect(stdout).toMatch(/Exit codes:/);
    expect(stdout).toMatch(/--lang <language>/);
  });
});
