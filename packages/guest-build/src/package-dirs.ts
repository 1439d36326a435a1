/**
 * Where installed packages are, found as Node's resolution finds them (the nearest
 * `node_modules/<name>` walking up from a directory), without loading them and whatever their
 * `exports` maps hide.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real path of `name`'s package.json as Node would resolve it from `fromDir`. */
export function resolvePackageJson(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** guest-build's own package.json. */
export function ownPackageJson(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error('guest-build cannot find its own package.json');
  }
}

/** The directory of a package guest-build depends on; throws when it is not installed. */
export function dependencyDir(name: string): string {
  const found = resolvePackageJson(name, dirname(ownPackageJson()));
  if (!found) throw new Error(`${name} is not installed`);
  return dirname(found);
}
