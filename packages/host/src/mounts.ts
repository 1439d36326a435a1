/**
 * Read-only host directories a caller mounts into a sandbox (`mounts`, `packages`), checked once
 * when the sandbox's guest is prepared. They are reachable only through the guest's virtual
 * root, with the same rules as the guest's own trees: nothing is writable, and no path or
 * symlink leads outside the directory.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PYTHON_PACKAGES_GUEST_PATH, SCRATCH_GUEST_PATH } from '@component-sandbox/wit';
import { InvalidOptionsError } from './errors.js';
import type { LoadedGuest } from './guest.js';
import type { ReadOnlyMount } from './wasi/index.js';

export interface Mount {
  /** A directory on the host. */
  hostPath: string;
  /** Where the guest sees it: an absolute path such as `/data`. */
  guestPath: string;
}

/** More than this many mounts is refused: each one is checked on every path the guest opens. */
export const MAX_MOUNTS = 32;

export interface MountOptions {
  mounts?: readonly Mount[] | undefined;
  packages?: string | undefined;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

function overlaps(a: string, b: string): boolean {
  const [x, y] = [segmentsOf(a), segmentsOf(b)];
  const shorter = x.length <= y.length ? x : y;
  const longer = shorter === x ? y : x;
  return shorter.every((part, i) => longer[i] === part);
}

function checkGuestPath(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
    throw new InvalidOptionsError(`a mount's guestPath must be an absolute path, got ${JSON.stringify(path)}`);
  }
  const segments = segmentsOf(path);
  if (segments.length === 0) throw new InvalidOptionsError('a mount cannot replace / itself');
  if (segments.some((part) => part === '.' || part === '..') || path.endsWith('/') || path.includes('//')) {
    throw new InvalidOptionsError(`a mount's guestPath must be written plainly (no ., .., // or trailing /): ${path}`);
  }
  return path;
}

function checkHostDir(hostPath: unknown, what: string): string {
  if (typeof hostPath !== 'string' || hostPath === '') {
    throw new InvalidOptionsError(`${what} must be a directory path, got ${JSON.stringify(hostPath)}`);
  }
  const absolute = resolve(hostPath);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    throw new InvalidOptionsError(`${what} ${absolute} does not exist`);
  }
  if (!isDirectory) throw new InvalidOptionsError(`${what} ${absolute} is not a directory`);
  return absolute;
}

/** The mounts for a sandbox of `guest`, checked: real directories, distinct places, none over the guest's own. */
export function resolveMounts(options: MountOptions, guest: LoadedGuest): ReadOnlyMount[] {
  const requested: ReadOnlyMount[] = [];
  if (options.packages !== undefined) {
    if (guest.manifest.language !== 'python') {
      throw new InvalidOptionsError(`packages are for Python guests; this guest is ${guest.manifest.language}`);
    }
    requested.push({ guestPath: PYTHON_PACKAGES_GUEST_PATH, hostDir: checkHostDir(options.packages, 'packages') });
  }
  if (options.mounts !== undefined && !Array.isArray(options.mounts)) {
    throw new InvalidOptionsError('mounts must be an array of { hostPath, guestPath }');
  }
  for (const mount of options.mounts ?? []) {
    const guestPath = checkGuestPath((mount as Partial<Mount> | undefined)?.guestPath);
    requested.push({ guestPath, hostDir: checkHostDir(mount.hostPath, `the mount at ${guestPath}: hostPath`) });
  }
  if (requested.length === 0) return [];
  if (!guest.virtualRoot) {
    throw new InvalidOptionsError(
      `this ${guest.manifest.language} guest was built without a virtual root, so it cannot take mounts or packages ` +
        '(rebuild it with this version of component-sandbox-build)',
    );
  }
  if (requested.length > MAX_MOUNTS)
    throw new InvalidOptionsError(`at most ${MAX_MOUNTS} mounts, got ${requested.length}`);
  const taken = [...guest.mounts, ...guest.routedMounts].map((m) => m.guestPath).concat(SCRATCH_GUEST_PATH);
  for (const mount of requested) {
    const clash = taken.find((path) => overlaps(path, mount.guestPath));
    if (clash !== undefined) {
      throw new InvalidOptionsError(`the mount at ${mount.guestPath} overlaps ${clash}, which is already mounted`);
    }
    taken.push(mount.guestPath);
  }
  return requested;
}
