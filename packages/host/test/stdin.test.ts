/**
 * stdin per call (the `stdin` run option) with the real Python guest: `input()` and `sys.stdin`
 * read it; a call without it reads end of file; nothing one call leaves unread reaches the next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { InvalidInputError, createSandbox, type Sandbox } from '../dist/index.js';

let box: Sandbox;
beforeAll(async () => {
  box = await createSandbox({ guest: pythonGuest, maxCodeBytes: 64 * 1024 });
});
afterAll(async () => {
  await box?.close();
});

describe('stdin', () => {
  it('reaches input()', async () => {
    const { value } = await box.eval('[input(), input("prompt> ")]', { stdin: 'Ada\nLovelace\n' });
    expect(value).toEqual(['Ada', 'Lovelace']);
  });

  it('reaches sys.stdin, whole or line by line, in any call kind', async () => {
    expect((await box.eval('__import__("sys").stdin.read()', { stdin: 'one\ntwo' })).value).toBe('one\ntwo');
    await box.exec('import sys\nlines = [line.rstrip() for line in sys.stdin]', { stdin: 'a\nb\nc\n' });
    expect((await box.eval('lines')).value).toEqual(['a', 'b', 'c']);
    expect((await box.run('int(input()) * 2', { stdin: '21\n' })).value).toBe(42);
    expect((await box.eval('"naïve ☃"  == input()', { stdin: 'naïve ☃\n' })).value).toBe(true);
  });

  it('starts afresh with every call: what one call did not read is gone', async () => {
    expect((await box.eval('input()', { stdin: 'first\nleft over\n' })).value).toBe('first');
    expect((await box.eval('input()', { stdin: 'second\n' })).value).toBe('second');
    const empty = await box.run('eval', 'input()');
    expect(empty.status).toBe('eval_error');
    expect(empty.error?.message).toBe('EOFError: EOF when reading a line');
  });

  it('is end of file without the option', async () => {
    expect((await box.eval('__import__("sys").stdin.read()')).value).toBe('');
  });

  it('refuses what is not text, or longer than maxCodeBytes', async () => {
    await expect(box.eval('1', { stdin: 42 as unknown as string })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(box.eval('1', { stdin: 'x'.repeat(64 * 1024 + 1) })).rejects.toThrow(/stdin is 65537 bytes/);
    expect((await box.eval('len(input())', { stdin: 'x'.repeat(60 * 1024) })).value).toBe(60 * 1024);
  });
});
