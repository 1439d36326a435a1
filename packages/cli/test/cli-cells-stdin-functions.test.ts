/**
 * The CLI's --cell, --stdin/--stdin-file and --functions, run as users do (a real process,
 * real guests).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runWithInput } from './run-bin.js';

const tools = fileURLToPath(new URL('./fixtures/tools.mjs', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-cells-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--cell', () => {
  it('runs each argument as a cell and prints the last cell’s value', () => {
    const { stdout, status } = run('--cell', 'import math\nr = 2', 'print("area")\nround(math.pi * r * r, 2)');
    expect(stdout).toBe('area\nresult: 12.57\n');
    expect(status).toBe(0);
  });

  it('prints no result line when the last cell has no value', () => {
    for (const cell of ['x = 1', 'print("only output")', '1 + 1;']) {
      const { stdout, status } = run('--cell', cell);
      expect(stdout).not.toContain('result:');
      expect(status).toBe(0);
    }
    expect(run('--cell', 'print("only output")').stdout).toBe('only output\n');
  });

  it('runs JavaScript cells, whose value is the completion value', () => {
    expect(run('--cell', '--lang', 'javascript', 'var x = 20;\nx * 2 + 2;').stdout).toBe('result: 42\n');
  });

  it('reports a failing cell as an exec error, with --json naming the cell', () => {
    const text = run('--cell', 'y = 1', '1 / 0');
    expect(text.stdout).toBe('exec error: ZeroDivisionError: division by zero\n');
    expect(text.status).toBe(1);
    const json = JSON.parse(run('--cell', '--json', 'y = 1', '1 / 0').stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ status: 'exec_error', failedStatement: 1 });
    const value = JSON.parse(run('--cell', '--json', 'y = 5', 'y * 2').stdout) as Record<string, unknown>;
    expect(value).toMatchObject({ status: 'ok', value: 10 });
  });

  it('runs --exec-file contents as cells too', async () => {
    const file = join(dir, 'cell.py');
    await writeFile(file, 'import statistics\nstatistics.mean([1, 2, 3, 4])\n');
    expect(run('--cell', '--exec-file', file).stdout).toBe('result: 2.5\n');
  });
});

describe('--stdin and --stdin-file', () => {
  it('give the guest text that input() reads', () => {
    expect(run('--stdin', 'Ada\n', 'f"hello {input()}"').stdout).toBe('result: "hello Ada"\n');
  });

  it('reads the guest’s stdin from a file, or from the process (-)', async () => {
    const file = join(dir, 'input.txt');
    await writeFile(file, '3\n4\n');
    expect(run('--stdin-file', file, 'sum(int(line) for line in __import__("sys").stdin)').stdout).toBe('result: 7\n');
    expect(runWithInput('piped\n', '--stdin-file', '-', 'input()').stdout).toBe('result: "piped"\n');
  });

  it('is end of file without them', () => {
    const { stdout, status } = run('input()');
    expect(stdout).toBe('eval error: EOFError: EOF when reading a line\n');
    expect(status).toBe(1);
  });

  it('refuses ambiguous or missing input as usage errors', () => {
    const both = run('--stdin', 'a', '--stdin-file', '/dev/null', '1');
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('not both');
    const twice = runWithInput('x', '--stdin-file', '-', '-');
    expect(twice.status).toBe(2);
    const missing = run('--stdin-file', join(dir, 'absent.txt'), '1');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read stdin');
  });
});

describe('--functions', () => {
  it('offers a module’s functions to Python and JavaScript', () => {
    expect(run('--functions', tools, 'lookup("ada")').stdout).toBe('result: {"name": "ada", "letters": 3}\n');
    expect(run('--functions', tools, 'import host', 'host.slowDouble(21)').stdout).toBe('result: 42\n');
    expect(run('--functions', tools, '--lang', 'javascript', 'slowDouble(lookup("abc").letters)').stdout).toBe(
      'result: 6\n',
    );
  });

  it('turns a function’s failure into a HostError in the guest', () => {
    const { stdout, status } = run('--functions', tools, 'refuse()');
    expect(stdout).toBe('eval error: HostError: refused by the host\n');
    expect(status).toBe(1);
  });

  it('refuses a module that cannot be loaded as a usage error', () => {
    const { stderr, status } = run('--functions', join(dir, 'missing.mjs'), '1');
    expect(status).toBe(2);
    expect(stderr).toContain('functionsModule');
  });
});
