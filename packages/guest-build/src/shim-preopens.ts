/**
 * jco's WIT and component tools and componentize-js run as WASI components inside Node through
 * @bytecodealliance/preview2-shim, which (since 0.26) starts with no filesystem preopens: the
 * tools can then neither read the WIT nor write anything.
 *
 * Granting the host filesystem on "the" shim is not enough: the tools declare the shim with
 * different ranges (some as a peer), so npm commonly installs several copies side by side, and
 * each copy holds its own preopen table. So every copy that any package in our tools'
 * dependency tree resolves is found, the way Node resolves it, and granted the filesystem.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ownPackageJson, resolvePackageJson } from './package-dirs.js';

const SHIM = '@bytecodealliance/preview2-shim';

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The shim's filesystem module of every copy reachable from this package's dependency tree,
 * each as the file a dependent package's `import` of it would load.
 */
export function findShimFilesystemModules(rootPackageJson: string = ownPackageJson()): string[] {
  const modules = new Set<string>();
  const seen = new Set<string>();
  const queue = [rootPackageJson];
  while (queue.length > 0) {
    const packageJson = queue.pop()!;
    if (seen.has(packageJson)) continue;
    seen.add(packageJson);
    const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as PackageJson;
    const names = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    if (names.has(SHIM)) {
      try {
        // require.resolve applies the same `node` export condition an import does.
        modules.add(createRequire(packageJson).resolve(`${SHIM}/filesystem`));
      } catch {
        // an optional peer that is not installed: nothing of that package can use it
      }
    }
    for (const name of names) {
      const dependency = resolvePackageJson(name, dirname(packageJson));
      if (dependency && !seen.has(dependency)) queue.push(dependency);
    }
  }
  return [...modules];
}

type SetPreopens = (preopens: Record<string, string>) => void;

let granted: Promise<void> | undefined;

/** Gives every copy of the shim a preopen of the host's `/` (once per process). */
export function grantHostFilesystem(): Promise<void> {
  granted ??= (async () => {
    for (const file of findShimFilesystemModules()) {
      const shim = (await import(pathToFileURL(file).href)) as { _setPreopens?: SetPreopens };
      shim._setPreopens?.({ '/': '/' });
    }
  })();
  return granted;
}
