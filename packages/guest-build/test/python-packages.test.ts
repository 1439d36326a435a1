/**
 * `--packages DIR --preload ...`: real pure-Python packages (Debian's, unpacked at test time)
 * baked into a Python guest, the preloaded ones already imported in every sandbox's start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestBuildError, buildGuest } from '../src/index.js';
import { unpackDebianPythonPackages } from '@component-sandbox/python-wasi';
import { instantiateShared } from './support/shared-instance.js';

const guestSource = new URL('../../../guest/python/guest.py', import.meta.url).pathname;

describe('a Python guest with packages baked in', () => {
  let dir: string;
  let packages: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'python-packages-'));
    packages = unpackDebianPythonPackages(['python3-six', 'python3-tabulate']);
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('imports them, and the preloaded ones are imported before the first call', async () => {
    const outDir = join(dir, 'artifact');
    await buildGuest({
      source: guestSource,
      language: 'python',
      backend: 'cpython-wasi',
      packages,
      preload: ['tabulate'],
      outDir,
    });
    const guest = await instantiateShared(outDir);
    expect(JSON.parse(guest.eval("[m in __import__('sys').modules for m in ('tabulate', 'six')]"))).toEqual([
      true,
      false,
    ]);
    guest.exec('import six\nfrom tabulate import tabulate');
    expect(JSON.parse(guest.eval("[tabulate([[1, 2]], tablefmt='plain'), six.PY3]"))).toEqual(['1  2', true]);
  }, 180_000);

  it('refuses a preload that is no module name, a missing directory, and packages for JavaScript', async () => {
    const attempts = [
      { language: 'python' as const, preload: ['not a module'] },
      { language: 'python' as const, packages: join(dir, 'missing') },
      { language: 'javascript' as const, packages },
    ];
    for (const attempt of attempts) {
      const error = await buildGuest({ source: guestSource, outDir: join(dir, 'refused'), ...attempt }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GuestBuildError);
    }
  });
});
