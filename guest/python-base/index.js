import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_FORMAT, BASE_MANIFEST } from './layout.js';

/** Directory of the built base (base.json, the CPython module, the stdlib tree). */
export const baseDir = fileURLToPath(new URL('./artifact', import.meta.url));

/** The base's description with absolute paths; throws when the base is not built. */
export function readPythonBase() {
  const manifestPath = join(baseDir, BASE_MANIFEST);
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new Error(
      `the Python base is not built (${manifestPath}: ${error.code ?? error.message}); ` +
        'run `pnpm --filter @component-sandbox/python-base build`',
    );
  }
  if (manifest.format !== BASE_FORMAT) {
    throw new Error(`${manifestPath} has format ${manifest.format}; this package reads format ${BASE_FORMAT}`);
  }
  return {
    ...manifest,
    modulePath: join(baseDir, manifest.module),
    stdlibPath: join(baseDir, manifest.stdlibDir),
  };
}
