/**
 * The host's side of a sandbox's `/tmp`: put files in before a call, take results out after,
 * list what is there. Works on the sandbox's own scratch store between calls; the executors
 * pick the change up because the sandbox's state version moves on.
 */
import { SCRATCH_GUEST_PATH } from '@component-sandbox/wit';
import type { SandboxCore } from './engine/sandbox-core.js';
import { FileError, InvalidInputError, type FileErrorReason } from './errors.js';
import { SCRATCH_ROOT_INO, ScratchStore } from './wasi/scratch-store.js';

import type { FileEntry } from './file-entry.js';

/** `/tmp/a/b`, `a/b` (below /tmp) -> ['a', 'b']. `..` is refused rather than resolved. */
export function scratchSegments(path: string): string[] {
  if (typeof path !== 'string' || path.includes('\0'))
    throw new InvalidInputError('a file path is a string without NUL bytes');
  let relative = path;
  if (path.startsWith('/')) {
    if (path !== SCRATCH_GUEST_PATH && !path.startsWith(`${SCRATCH_GUEST_PATH}/`)) {
      throw new InvalidInputError(`${path} is outside ${SCRATCH_GUEST_PATH}, the only directory the host can write`);
    }
    relative = path.slice(SCRATCH_GUEST_PATH.length);
  }
  const segments = relative.split('/').filter((part) => part !== '' && part !== '.');
  if (segments.includes('..')) throw new InvalidInputError(`${path}: paths may not contain ..`);
  return segments;
}

const REASONS: Record<string, FileErrorReason> = {
  'no-entry': 'NOT_FOUND',
  'insufficient-space': 'NO_SPACE',
  'is-directory': 'IS_DIRECTORY',
  'not-directory': 'NOT_DIRECTORY',
};

function storeOf(core: SandboxCore, path: string): ScratchStore {
  if (!core.scratch) throw new FileError(path, 'NO_SCRATCH');
  return new ScratchStore(core.scratch.buffer, core.scratch.meta);
}

/** Runs a store operation; its WASI error codes become FileErrors, other failures stay bugs. */
function attempt<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (code) {
    if (typeof code === 'string') {
      const reason = REASONS[code];
      if (reason) throw new FileError(path, reason);
      throw new InvalidInputError(`${path}: ${code}`);
    }
    throw code;
  }
}

/** The sandbox's instances were built over the old metadata: make executors rebuild them. */
function changed(core: SandboxCore): void {
  core.version += 1;
}

export function writeScratchFile(core: SandboxCore, path: string, data: Uint8Array): void {
  const segments = scratchSegments(path);
  if (segments.length === 0) throw new InvalidInputError(`${path} names the directory itself, not a file`);
  const store = storeOf(core, path);
  attempt(path, () => {
    // Counted up front, so a refused write leaves no half-made directories behind.
    // Symlinks the guest made are followed, as the guest's own open would (within /tmp only).
    const entry = (dir: number, part: string) =>
      store.directory(dir).entries[part] === undefined ? undefined : store.lookup(dir, part);
    let missing = 0;
    let at: number | undefined = SCRATCH_ROOT_INO;
    for (const part of segments) {
      at = at === undefined ? undefined : entry(at, part);
      if (at === undefined) missing += 1;
    }
    if (!store.canAddNodes(missing)) throw 'insufficient-space';
    let dir = SCRATCH_ROOT_INO;
    for (const part of segments.slice(0, -1)) {
      dir = entry(dir, part) ?? store.createDirectory(dir, part);
      store.directory(dir);
    }
    const name = segments[segments.length - 1]!;
    const existing = entry(dir, name);
    const ino = existing ?? store.createFile(dir, name);
    try {
      store.replace(ino, data);
    } catch (error) {
      if (existing === undefined) store.unlink(dir, name);
      throw error;
    }
  });
  changed(core);
}

export function readScratchFile(core: SandboxCore, path: string): Uint8Array {
  const segments = scratchSegments(path);
  const store = storeOf(core, path);
  return attempt(path, () => {
    const ino = store.lookup(SCRATCH_ROOT_INO, segments.join('/'));
    return store.read(ino, 0, store.file(ino).size);
  });
}

export function listScratchFiles(core: SandboxCore, path: string): FileEntry[] {
  const segments = scratchSegments(path);
  const store = storeOf(core, path);
  return attempt(path, () => {
    const dir = store.directory(store.lookup(SCRATCH_ROOT_INO, segments.join('/')));
    return Object.entries(dir.entries)
      .map(([name, ino]) => {
        const node = store.node(ino);
        if (node.type === 'file') return { name, type: 'file' as const, size: node.size };
        if (node.type === 'symlink') return { name, type: 'symlink' as const, target: node.target };
        return { name, type: 'directory' as const };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });
}
