// The content-addressed cache: one directory per toolchain key, written atomically.
//
// The key covers everything that changes the output: this package's own build code, the
// Debian source version, and the compiler and libc versions. A directory only exists under its
// final name once it is complete (it is built under a temporary name and renamed), so an
// existing directory with a manifest is always a valid hit.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MANIFEST_NAME = 'toolchain.json';
const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * `$COMPONENT_SANDBOX_CACHE/python-wasi` when set (the variable names the project-wide cache
 * root), else `${XDG_CACHE_HOME:-~/.cache}/component-sandbox/python-wasi`.
 */
export function defaultCacheRoot(env = process.env) {
  if (env.COMPONENT_SANDBOX_CACHE) return join(env.COMPONENT_SANDBOX_CACHE, 'python-wasi');
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'component-sandbox', 'python-wasi');
}

/**
 * @param {{ debianSourceVersion: string, clangVersion: string, wasiLibcVersion: string }} inputs
 * @returns {string} 16 hex digits
 */
export function cacheKey(inputs) {
  const hash = createHash('sha256');
  for (const file of buildCodeFiles()) {
    hash
      .update(`file ${file}\n`)
      .update(readFileSync(join(PACKAGE_DIR, file)))
      .update('\n');
  }
  for (const [name, value] of Object.entries(inputs).sort()) hash.update(`${name}=${value}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** The package's own build code: src/*.mjs (declarations and the bin wrapper change nothing). */
function buildCodeFiles() {
  return readdirSync(join(PACKAGE_DIR, 'src'))
    .filter((name) => name.endsWith('.mjs'))
    .sort()
    .map((name) => `src/${name}`);
}

/** The manifest of a complete cache entry, or undefined. */
export function readCachedManifest(entryDir) {
  const manifestPath = join(entryDir, MANIFEST_NAME);
  if (!existsSync(manifestPath)) return undefined;
  return JSON.parse(readFileSync(manifestPath, 'utf8'));
}

/**
 * Moves a finished build into place. If another process won the race, its identical entry is
 * kept and ours is dropped.
 */
export function publishEntry(builtDir, entryDir) {
  try {
    renameSync(builtDir, entryDir);
  } catch (error) {
    if (!['EEXIST', 'ENOTEMPTY'].includes(error.code) || !readCachedManifest(entryDir)) throw error;
    rmSync(builtDir, { recursive: true, force: true });
  }
}
