import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dependencyDir } from './package-dirs.js';

/** The installed version of a dependency, for the manifest's toolchain record. */
export function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(dependencyDir(name), 'package.json'), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
