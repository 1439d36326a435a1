/**
 * Cells (`sandbox.run(code)`, the `run` export of world sandbox-extended) with the real guests:
 * one string per cell, the value of its last expression as the result, if it has one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { createSandbox, type Sandbox } from '../dist/index.js';

let python: Sandbox;
let javascript: Sandbox;
beforeAll(async () => {
  [python, javascript] = await Promise.all([
    createSandbox({ guest: pythonGuest }),
    createSandbox({ guest: javascriptGuest }),
  ]);
});
afterAll(async () => {
  await Promise.all([python?.close(), javascript?.close()]);
});

describe('Python cells (IPython’s rule)', () => {
  it('return the value of the last expression, after running the statements before it', async () => {
    const result = await python.run('import math\nradius = 2\nprint("computing")\nround(math.pi * radius ** 2, 3)');
    expect(result.status).toBe('ok');
    expect(result.value).toBe(12.566);
    expect(result.json).toBe('12.566');
    expect(result.stdout).toBe('computing\n');
    expect((await python.run('radius + 1')).value).toBe(3);
  });

  it('have no value when they end with a statement, a None, or a semicolon', async () => {
    for (const cell of ['x = 1', 'def f():\n    return 1', 'print("shown")', 'x + 1;', 'x + 1 ;  # quiet', 'None']) {
      const result = await python.run(cell);
      expect(result.status).toBe('ok');
      expect(result).not.toHaveProperty('value');
      expect(result).not.toHaveProperty('json');
    }
    expect((await python.run('x')).value).toBe(1);
  });

  it('count the last line only: an expression earlier in the cell is not the value', async () => {
    const result = await python.run('"not this"\ny = [1, 2]\ny');
    expect(result.value).toEqual([1, 2]);
    expect((await python.run('"é" * 2  # a comment; after it')).value).toBe('éé');
  });

  it('report errors as exec errors, keeping what ran before the error', async () => {
    const result = await python.run('before = "kept"\n1 / 0\nafter = "never"');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('ZeroDivisionError');
    expect((await python.run('[before, "after" in globals()]')).value).toEqual(['kept', false]);
    const syntax = await python.run('def broken(:\n    pass');
    expect(syntax.status).toBe('exec_error');
    expect(syntax.error?.type).toBe('SyntaxError');
    const unserialisable = await python.run('object()');
    expect(unserialisable.status).toBe('exec_error');
    expect(unserialisable.error?.type).toBe('TypeError');
  });
});

describe('Python cells and the guest’s machinery', () => {
  it('take top-level await, in the statements and in the last expression', async () => {
    const result = await python.run(
      'import asyncio\nawait asyncio.sleep(0)\nasync def answer():\n    return 42\nawait answer()',
    );
    expect(result.status).toBe('ok');
    expect(result.value).toBe(42);
  });

  it('show the cell’s own lines in tracebacks, also from functions it defined', async () => {
    await python.run('def fails(n):\n    return 10 // n');
    const result = await python.run('x = 3\nfails(0)');
    expect(result.status).toBe('exec_error');
    expect(result.error?.traceback).toContain('line 2');
    expect(result.error?.traceback).toContain('fails(0)');
    expect(result.error?.traceback).toContain('return 10 // n');
  });
});

describe('JavaScript cells (the completion value)', () => {
  it('return the value of the last expression statement', async () => {
    const result = await javascript.run(
      'var items = [1, 2, 3];\nconsole.log("summing");\nitems.reduce((a, b) => a + b, 0);',
    );
    expect(result.status).toBe('ok');
    expect(result.value).toBe(6);
    expect(result.stdout).toBe('summing\n');
    expect((await javascript.run('items.length')).value).toBe(3);
  });

  it('have no value when the completion value is undefined', async () => {
    for (const cell of ['var z = 1', 'function f() { return 1 }', 'undefined']) {
      const result = await javascript.run(cell);
      expect(result.status).toBe('ok');
      expect(result).not.toHaveProperty('value');
    }
  });

  it('report errors as exec errors', async () => {
    const result = await javascript.run('var before = 1; null.property');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('TypeError');
    expect((await javascript.run('before')).value).toBe(1);
  });
});
