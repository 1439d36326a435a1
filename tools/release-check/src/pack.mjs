// Packs every public package with pnpm (which rewrites `workspace:` ranges to real versions).
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.mjs';
import { publicPackages } from './workspace.mjs';

/** Tarball budgets, in bytes, per package (issue: the Python guest ships CPython and its stdlib). */
export const SIZE_BUDGETS = {
  '@component-sandbox/guest-python': 15 * 1024 * 1024,
  '@component-sandbox/python-base': 15 * 1024 * 1024,
};
export const DEFAULT_BUDGET = 5 * 1024 * 1024;

export async function packAll(destination = mkdtempSync(join(tmpdir(), 'component-sandbox-packs-'))) {
  mkdirSync(destination, { recursive: true });
  const packs = [];
  for (const { dir, manifest } of publicPackages()) {
    const before = new Set(readdirSync(destination));
    await run('pnpm', ['pack', '--pack-destination', destination], { cwd: dir });
    const file = readdirSync(destination).find((name) => !before.has(name) && name.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack wrote no tarball for ${manifest.name}`);
    const path = join(destination, file);
    packs.push({
      name: manifest.name,
      version: manifest.version,
      dir,
      tarball: path,
      bytes: statSync(path).size,
      budget: SIZE_BUDGETS[manifest.name] ?? DEFAULT_BUDGET,
    });
  }
  return packs;
}
