import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestBuildError, buildGuest } from '../src/index.js';

const guestSource = new URL('../../../guest/python/guest.py', import.meta.url).pathname;

describe('a Python guest with modules of its own', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'python-includes-'));
    await writeFile(join(dir, 'helper.py'), 'def answer():\n    return 42\n');
    await mkdir(join(dir, 'tools'));
    await writeFile(join(dir, 'tools', '__init__.py'), 'NAME = "tools"\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('ships the source as guest.py and each include beside it, mounted read-only at /app', async () => {
    const outDir = join(dir, 'artifact');
    const { manifest } = await buildGuest({
      source: guestSource,
      language: 'python',
      backend: 'cpython-wasi',
      include: [join(dir, 'helper.py'), join(dir, 'tools')],
      outDir,
    });
    expect(manifest.readOnlyTrees.map((t) => t.guestPath)).toEqual(['/python', '/app']);
    const app = join(outDir, manifest.readOnlyTrees[1]!.dir);
    expect(await readFile(join(app, 'helper.py'), 'utf8')).toContain('return 42');
    expect(await readFile(join(app, 'tools', '__init__.py'), 'utf8')).toContain('tools');
    expect(await readFile(join(app, 'guest.py'), 'utf8')).toBe(await readFile(guestSource, 'utf8'));
  }, 120_000);

  it('refuses includes that would shadow the guest, clash, or are not Python', async () => {
    await writeFile(join(dir, 'notes.txt'), 'x');
    await mkdir(join(dir, 'other'));
    await writeFile(join(dir, 'other', 'helper.py'), '');
    const cases: Array<[string[], string]> = [
      [[guestSource], 'reserved'],
      [[join(dir, 'helper.py'), join(dir, 'other', 'helper.py')], 'same name'],
      [[join(dir, 'notes.txt')], 'Python module'],
      [[join(dir, 'missing.py')], 'no such file'],
    ];
    for (const [include, message] of cases) {
      const error = await buildGuest({
        source: guestSource,
        language: 'python',
        backend: 'cpython-wasi',
        include,
        outDir: join(dir, 'refused'),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GuestBuildError);
      expect((error as Error).message).toContain(message);
    }
  });

  it('refuses includes for a JavaScript guest', async () => {
    const error = await buildGuest({
      source: guestSource,
      language: 'javascript',
      include: [join(dir, 'helper.py')],
      outDir: join(dir, 'js'),
    }).catch((e: unknown) => e);
    expect((error as GuestBuildError).code).toBe('INVALID_INPUT');
  });
});
