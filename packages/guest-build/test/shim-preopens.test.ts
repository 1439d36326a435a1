import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findShimFilesystemModules } from '../src/shim-preopens.js';

const SHIM = '@bytecodealliance/preview2-shim';

/** A package directory with a package.json; the shim gets a `node` export like the real one. */
async function writePackage(dir: string, name: string, dependencies: Record<string, string> = {}) {
  await mkdir(dir, { recursive: true });
  const manifest: Record<string, unknown> = { name, version: '1.0.0', type: 'module', dependencies };
  if (name === SHIM) {
    manifest.exports = { './*': { node: './dist/nodejs/*.js', default: './dist/browser/*.js' } };
    await mkdir(join(dir, 'dist', 'nodejs'), { recursive: true });
    await writeFile(join(dir, 'dist', 'nodejs', 'filesystem.js'), 'export function _setPreopens() {}\n');
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
}

describe('finding every copy of preview2-shim', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'shim-tree-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('finds the nested and hoisted copies an npm tree holds, each where its dependents resolve it', async () => {
    // The shape npm produced for guest-build's tarball: a hoisted 0.25 (a peer range of jco's
    // dependencies) and 0.26 nested under each package that asked for it.
    const modules = join(root, 'project', 'node_modules');
    const at = (...parts: string[]) => join(modules, ...parts);
    await writePackage(at('@component-sandbox', 'guest-build'), '@component-sandbox/guest-build', {
      '@bytecodealliance/jco-transpile': '^0.15.0',
      '@bytecodealliance/componentize-js': '^0.23.0',
      [SHIM]: '^0.26.1',
    });
    await writePackage(at('@component-sandbox', 'guest-build', 'node_modules', SHIM), SHIM);
    await writePackage(at('@bytecodealliance', 'jco-transpile'), '@bytecodealliance/jco-transpile', {
      [SHIM]: '^0.26.1',
      '@bytecodealliance/preview3-shim': '^0.7.0',
    });
    await writePackage(at('@bytecodealliance', 'jco-transpile', 'node_modules', SHIM), SHIM);
    await writePackage(at('@bytecodealliance', 'preview3-shim'), '@bytecodealliance/preview3-shim', {
      [SHIM]: '^0.26.1',
    });
    await writePackage(at('@bytecodealliance', 'preview3-shim', 'node_modules', SHIM), SHIM);
    // componentize-js has no copy of its own: it resolves the hoisted one.
    await writePackage(at('@bytecodealliance', 'componentize-js'), '@bytecodealliance/componentize-js', {
      [SHIM]: '^0.25.0',
    });
    await writePackage(at(SHIM), SHIM);

    const found = findShimFilesystemModules(at('@component-sandbox', 'guest-build', 'package.json'));
    const fs = join('dist', 'nodejs', 'filesystem.js');
    expect(found.sort()).toEqual(
      [
        at('@component-sandbox', 'guest-build', 'node_modules', SHIM, fs),
        at('@bytecodealliance', 'jco-transpile', 'node_modules', SHIM, fs),
        at('@bytecodealliance', 'preview3-shim', 'node_modules', SHIM, fs),
        at(SHIM, fs),
      ].sort(),
    );
  });

  it('finds the copies of this workspace, and each one exports _setPreopens', async () => {
    const found = findShimFilesystemModules();
    expect(found.length).toBeGreaterThan(0);
    for (const file of found) {
      const shim = (await import(file)) as { _setPreopens?: unknown };
      expect(typeof shim._setPreopens).toBe('function');
    }
  });
});
