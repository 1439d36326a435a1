/**
 * A Python guest's own files: the guest source as `guest.py`, and the modules and packages the
 * user ships beside it (`--include`), importable by it. Both Python backends start from this.
 */
import { cp, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BackendInput } from './backend.js';
import { GuestBuildError } from './errors.js';

/** The module name the guest source is imported as; the shim and componentize-py both use it. */
export const GUEST_MODULE = 'guest';
/**
 * Where baked packages and the preload list go in the app tree; python-base's sandbox_site.py
 * reads the same names (`/app/site-packages`, `/app/preload.txt`) when the guest starts.
 */
const BAKED_PACKAGES_DIR = 'site-packages';
const PRELOAD_LIST_FILE = 'preload.txt';
/** Names the guest's files may not take: they would shadow the guest or its bindings. */
const RESERVED = new Set([
  `${GUEST_MODULE}.py`,
  GUEST_MODULE,
  'sandbox',
  'sandbox.py',
  BAKED_PACKAGES_DIR,
  PRELOAD_LIST_FILE,
]);

export async function assembleAppTree(input: BackendInput, dir: string): Promise<void> {
  await cp(input.sourcePath, join(dir, `${GUEST_MODULE}.py`));
  const taken = new Map<string, string>();
  for (const path of input.includes) {
    const name = basename(path);
    if (RESERVED.has(name)) {
      throw new GuestBuildError(
        'INVALID_INPUT',
        `--include ${path}: the name ${name} is reserved for the guest itself`,
      );
    }
    const earlier = taken.get(name);
    if (earlier) throw new GuestBuildError('INVALID_INPUT', `--include ${path} and ${earlier} have the same name`);
    taken.set(name, path);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new GuestBuildError('SOURCE_NOT_FOUND', `--include ${path}: no such file or directory`);
    if (info.isFile() && !name.endsWith('.py')) {
      throw new GuestBuildError('INVALID_INPUT', `--include ${path}: a file must be a Python module (*.py)`);
    }
    // Symbolic links are copied as the files they name: the guest's tree must hold no link.
    await cp(path, join(dir, name), { recursive: true, dereference: true });
  }
  if (input.packagesDir !== undefined) {
    await cp(input.packagesDir, join(dir, BAKED_PACKAGES_DIR), { recursive: true, dereference: true });
  }
  if (input.preload.length > 0) await writeFile(join(dir, PRELOAD_LIST_FILE), `${input.preload.join('\n')}\n`);
}
