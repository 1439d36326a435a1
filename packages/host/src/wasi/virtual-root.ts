/**
 * The guest's `/`: one preopen whose paths the host routes. The guest's preopen table is frozen
 * when its build pre-initialises it, so directories decided later (the writable `/tmp`, a
 * caller's read-only mounts, a package directory) cannot be preopens of their own; the build
 * preopens `/` once and every absolute path outside the other preopens arrives here.
 *
 * Paths are normalised lexically (`..` never climbs above `/`), then the longest mount prefix
 * takes the rest of the path with its own checks (a read-only Tree, or the scratch store).
 * A directory that only leads to mounts (`/` itself) is read-only and lists the mounts.
 */
import { DirectoryEntryStream } from './directory-entries.js';
import type { DescriptorFlags, NewTimestamp, OpenFlags, PathFlags } from './filesystem-types.js';
import { Descriptor, Tree } from './filesystem.js';
import { ScratchDescriptor } from './scratch-files.js';
import type { ScratchStore } from './scratch-store.js';
import { SCRATCH_ROOT_INO } from './scratch-store.js';
import type { VirtualDirectoryState } from './state.js';

type Target = Descriptor | ScratchDescriptor;

interface Mount {
  segments: readonly string[];
  /** A fresh descriptor of the mount's root. */
  open(): Target;
}

type Resolved =
  { kind: 'mount'; root: Target; rest: string; atMountPoint: boolean } | { kind: 'virtual'; segments: string[] };

function fail(code: 'no-entry' | 'read-only' | 'not-directory' | 'is-directory' | 'cross-device' | 'invalid'): never {
  throw code;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

const startedMs = Date.now();

export class VirtualFilesystem {
  private readonly mounts: Mount[];

  constructor(trees: readonly Tree[], scratch: { guestPath: string; store: ScratchStore } | undefined) {
    this.mounts = trees.map((tree) => ({ segments: segmentsOf(tree.guestPath), open: () => Descriptor.root(tree) }));
    if (scratch) {
      const { store } = scratch;
      this.mounts.push({
        segments: segmentsOf(scratch.guestPath),
        // A routing step, not a handle the guest holds: it must not count as an open.
        open: () => new ScratchDescriptor(store, SCRATCH_ROOT_INO, { read: true, write: true }, false),
      });
    }
    // Longest prefix first, so a mount inside another mount's path wins.
    this.mounts.sort((a, b) => b.segments.length - a.segments.length);
  }

  /** `relative` seen from the virtual directory at `base`. */
  resolve(base: readonly string[], relative: string): Resolved {
    if (relative.startsWith('/')) fail('invalid');
    const segments = [...base];
    for (const part of segmentsOf(relative)) {
      if (part === '..') segments.pop();
      else segments.push(part);
    }
    for (const mount of this.mounts) {
      if (mount.segments.every((part, i) => segments[i] === part)) {
        const rest = segments.slice(mount.segments.length);
        return { kind: 'mount', root: mount.open(), rest: rest.join('/') || '.', atMountPoint: rest.length === 0 };
      }
    }
    if (this.childrenOf(segments).length > 0 || segments.length === 0) return { kind: 'virtual', segments };
    fail('no-entry');
  }

  /** Names directly below a virtual directory: the next segment of every mount below it. */
  childrenOf(segments: readonly string[]): string[] {
    const names = new Set<string>();
    for (const mount of this.mounts) {
      if (mount.segments.length > segments.length && segments.every((part, i) => mount.segments[i] === part)) {
        names.add(mount.segments[segments.length]!);
      }
    }
    return [...names].sort();
  }

  root(): VirtualDirectory {
    return new VirtualDirectory(this, []);
  }

  restore(state: VirtualDirectoryState): VirtualDirectory {
    const segments = segmentsOf(state.path);
    const resolved = this.resolve([], state.path);
    if (resolved.kind !== 'virtual') throw new Error(`/${state.path} is no longer a virtual directory`);
    return new VirtualDirectory(this, segments);
  }
}

function virtualStat() {
  const time = { seconds: BigInt(Math.floor(startedMs / 1000)), nanoseconds: 0 };
  return {
    type: 'directory' as const,
    linkCount: 1n,
    size: 0n,
    dataAccessTimestamp: time,
    dataModificationTimestamp: time,
    statusChangeTimestamp: time,
  };
}

/** A directory of the virtual root that is no mount itself: read-only, it lists what is below. */
export class VirtualDirectory {
  constructor(
    private readonly fs: VirtualFilesystem,
    private readonly segments: readonly string[],
  ) {}

  describe(): VirtualDirectoryState {
    return { kind: 'virtual-directory', path: this.segments.join('/') };
  }

  /** The target of a path that must lead into a mount (anything that changes or reads a file). */
  private inMount(path: string, changes: boolean): { root: Target; rest: string } {
    let resolved: Resolved;
    try {
      resolved = this.fs.resolve(this.segments, path);
    } catch (code) {
      // Making something beside the mounts: the virtual directories themselves are read-only.
      if (code === 'no-entry' && changes) fail('read-only');
      throw code;
    }
    if (resolved.kind === 'virtual') fail(changes ? 'read-only' : 'is-directory');
    // A mount point itself cannot be removed, replaced or renamed.
    if (changes && resolved.atMountPoint) fail('read-only');
    return resolved;
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags) {
    let resolved: Resolved;
    try {
      resolved = this.fs.resolve(this.segments, path);
    } catch (code) {
      // Creating a file beside the mounts: the root itself is not writable.
      if (code === 'no-entry' && openFlags.create) fail('read-only');
      throw code;
    }
    if (resolved.kind === 'virtual') {
      if (openFlags.create && openFlags.exclusive) throw 'exist';
      if (flags.write || openFlags.truncate) fail('read-only');
      return new VirtualDirectory(this.fs, resolved.segments);
    }
    return resolved.root.openAt(pathFlags, resolved.rest, openFlags, flags);
  }

  statAt(pathFlags: PathFlags, path: string) {
    const resolved = this.fs.resolve(this.segments, path);
    if (resolved.kind === 'virtual') return virtualStat();
    return resolved.root.statAt(pathFlags, resolved.rest);
  }

  metadataHashAt(pathFlags: PathFlags, path: string) {
    const resolved = this.fs.resolve(this.segments, path);
    if (resolved.kind === 'virtual') return virtualHash(resolved.segments);
    return resolved.root.metadataHashAt(pathFlags, resolved.rest);
  }

  readlinkAt(path: string): string {
    const { root, rest } = this.inMount(path, false);
    return (root.readlinkAt as (path: string) => string)(rest);
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    const { root, rest } = this.inMount(path, true);
    if (root instanceof Descriptor) fail('read-only');
    root.setTimesAt(pathFlags, rest, atime, mtime);
  }

  createDirectoryAt(path: string): void {
    const { root, rest } = this.inMount(path, true);
    root.createDirectoryAt(rest);
  }

  removeDirectoryAt(path: string): void {
    const { root, rest } = this.inMount(path, true);
    root.removeDirectoryAt(rest);
  }

  unlinkFileAt(path: string): void {
    const { root, rest } = this.inMount(path, true);
    root.unlinkFileAt(rest);
  }

  renameAt(oldPath: string, newDescriptor: unknown, newPath: string): void {
    const from = this.inMount(oldPath, true);
    const to =
      newDescriptor instanceof VirtualDirectory
        ? newDescriptor.inMount(newPath, true)
        : { root: newDescriptor as Target, rest: newPath };
    if (!(from.root instanceof ScratchDescriptor)) fail('read-only');
    from.root.renameAt(from.rest, to.root, to.rest);
  }

  linkAt(): never {
    fail('read-only');
  }

  /** Only in the scratch directory; its store decides which targets are allowed. */
  symlinkAt(target: string, newPath: string): void {
    const { root, rest } = this.inMount(newPath, true);
    if (!(root instanceof ScratchDescriptor)) fail('read-only');
    root.symlinkAt(target, rest);
  }

  readDirectory(): DirectoryEntryStream {
    const entries = this.fs.childrenOf(this.segments).map((name) => ({ name, type: 'directory' as const }));
    return new DirectoryEntryStream(entries, this);
  }

  stat() {
    return virtualStat();
  }

  metadataHash() {
    return virtualHash(this.segments);
  }

  isSameObject(other: unknown): boolean {
    return other instanceof VirtualDirectory && other.segments.join('/') === this.segments.join('/');
  }

  getType() {
    return 'directory' as const;
  }

  getFlags(): DescriptorFlags {
    return { read: true };
  }

  readViaStream(): never {
    fail('is-directory');
  }
  read(): never {
    fail('is-directory');
  }
  writeViaStream(): never {
    fail('is-directory');
  }
  appendViaStream(): never {
    fail('is-directory');
  }
  write(): never {
    fail('is-directory');
  }
  setSize(): never {
    fail('is-directory');
  }
  setTimes(): never {
    fail('read-only');
  }

  advise(): void {}
  syncData(): void {}
  sync(): void {}
  [Symbol.dispose](): void {}
}

/** A stable hash of a virtual path, on a device number no real file uses. */
function virtualHash(segments: readonly string[]) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`/${segments.join('/')}`)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return { lower: hash, upper: 0x7669727475616cn };
}
