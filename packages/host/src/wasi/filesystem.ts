/**
 * wasi:filesystem for one sandbox: read-only directory trees and nothing else.
 *
 * Every path the guest names is resolved relative to a descriptor it already holds; paths that
 * climb out of their tree, absolute paths, and symlinks that lead outside the tree's real root
 * are refused, so no other host path is ever reachable. Anything that would write is refused
 * with `read-only`, which the guest's libc reports as EROFS (an OSError in Python).
 */
import {
  closeSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  realpathSync,
  statSync,
  type BigIntStats,
} from 'node:fs';
import { join, sep } from 'node:path';
import { InputStream, IoError, type ByteSource } from './io.js';
import { MAX_READ_BYTES, toSafeCount, toSafeOffset } from './numbers.js';
import { DirectoryEntryStream } from './directory-entries.js';
import type { DescriptorFlags, OpenFlags, PathFlags } from './filesystem-types.js';
import type { ByteSourceState, TreeDescriptorState } from './state.js';

export { DirectoryEntryStream } from './directory-entries.js';

export interface ReadOnlyMount {
  /** Where the guest sees the tree, e.g. `/python`. */
  guestPath: string;
  /** The directory on the host that holds it. */
  hostDir: string;
}

type ErrorCode =
  | 'access'
  | 'bad-descriptor'
  | 'invalid'
  | 'io'
  | 'is-directory'
  | 'loop'
  | 'name-too-long'
  | 'no-entry'
  | 'not-directory'
  | 'not-permitted'
  | 'overflow'
  | 'read-only'
  | 'unsupported';

type DescriptorType = 'directory' | 'regular-file' | 'symbolic-link' | 'unknown';

function fail(code: ErrorCode): never {
  // The generated glue turns a thrown error-code string into the `err` case of the result.
  throw code;
}

function errorCodeOf(error: unknown): ErrorCode {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
      return 'no-entry';
    case 'ENOTDIR':
      return 'not-directory';
    case 'EISDIR':
      return 'is-directory';
    case 'EACCES':
    case 'EPERM':
      return 'access';
    case 'ELOOP':
      return 'loop';
    case 'ENAMETOOLONG':
      return 'name-too-long';
    // Node refuses some paths before any system call (a NUL byte in a name): EINVAL to POSIX.
    case 'ERR_INVALID_ARG_VALUE':
    case 'ERR_INVALID_ARG_TYPE':
      return 'invalid';
    default:
      return 'io';
  }
}

function typeOf(stats: BigIntStats): DescriptorType {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'regular-file';
  if (stats.isSymbolicLink()) return 'symbolic-link';
  return 'unknown';
}

const U64_MASK = (1n << 64n) - 1n;

/** WASI datetimes are unsigned: a file dated before 1970 reads as the epoch, not a trap. */
function datetimeOf(nanos: bigint) {
  const clamped = nanos < 0n ? 0n : nanos;
  return { seconds: clamped / 1_000_000_000n, nanoseconds: Number(clamped % 1_000_000_000n) };
}

function descriptorStat(stats: BigIntStats) {
  return {
    type: typeOf(stats),
    linkCount: stats.nlink,
    size: stats.size,
    dataAccessTimestamp: datetimeOf(stats.atimeNs),
    dataModificationTimestamp: datetimeOf(stats.mtimeNs),
    statusChangeTimestamp: datetimeOf(stats.ctimeNs),
  };
}

function metadataHashOf(stats: BigIntStats) {
  return { lower: stats.ino & U64_MASK, upper: (stats.dev ^ stats.mtimeNs) & U64_MASK };
}

/** A system call's result, or the WASI error code of its failure: never a host exception. */
function attempt<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    fail(errorCodeOf(error));
  }
}

const statOf = (hostPath: string) => attempt(() => statSync(hostPath, { bigint: true }));
const lstatOf = (hostPath: string) => attempt(() => lstatSync(hostPath, { bigint: true }));

/**
 * Reads up to `length` bytes at `position` of a file in a mounted tree. The file is opened for
 * this read only: a descriptor the guest holds never pins a host file descriptor, so a guest
 * cannot exhaust the host process's descriptors, and a host descriptor number closed and reused
 * elsewhere in the process can never be read through a stale guest handle.
 */
function readAt(hostPath: string, length: number, position: number): Buffer {
  if (length === 0) return Buffer.alloc(0);
  let fd: number | undefined;
  try {
    fd = openSync(hostPath, 'r');
    const buffer = Buffer.allocUnsafe(length);
    const count = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, count);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The real root of a mounted tree plus the check that keeps every access inside it. */
export class Tree {
  readonly realRoot: string;

  constructor(
    hostDir: string,
    /** Where the guest sees the tree; names the tree in serialised descriptors. */
    readonly guestPath: string,
  ) {
    this.realRoot = realpathSync.native(hostDir);
  }

  /** The inverse of resolve for a path it returned: '/'-separated, '' for the root. */
  relative(hostPath: string): string {
    return hostPath === this.realRoot
      ? ''
      : hostPath
          .slice(this.realRoot.length + 1)
          .split(sep)
          .join('/');
  }

  /** Maps a path relative to `base` (a host path inside the tree) to a checked host path. */
  resolve(base: string, relative: string): string {
    if (relative.startsWith('/')) fail('not-permitted');
    const baseSegments = base === this.realRoot ? [] : base.slice(this.realRoot.length + 1).split(sep);
    const segments = [...baseSegments];
    for (const part of relative.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (segments.length === 0) fail('not-permitted');
        segments.pop();
      } else {
        segments.push(part);
      }
    }
    const hostPath = join(this.realRoot, ...segments);
    this.assertInside(hostPath);
    return hostPath;
  }

  /** Symlinks may exist inside the tree; where they lead must stay inside it too. */
  private assertInside(hostPath: string): void {
    let real: string;
    try {
      real = realpathSync.native(hostPath);
    } catch (error) {
      fail(errorCodeOf(error));
    }
    if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) fail('not-permitted');
  }
}

class FileSource implements ByteSource {
  constructor(
    /** The descriptor the stream was opened from, which names the file when serialised. */
    private readonly descriptor: Descriptor,
    private readonly hostPath: string,
    /** Undefined once the position is past any offset a file can have: end of file. */
    private position: number | undefined,
  ) {}

  read(length: number): Uint8Array {
    if (this.position === undefined) return new Uint8Array(0);
    let bytes: Buffer;
    try {
      bytes = readAt(this.hostPath, length, this.position);
    } catch (error) {
      // A stream reports failures as `last-operation-failed`, which libc turns into EIO.
      throw { tag: 'last-operation-failed', val: new IoError(`read failed (${errorCodeOf(error)})`) };
    }
    this.position += bytes.length;
    return bytes;
  }

  describe(): ByteSourceState {
    return { kind: 'file', descriptor: this.descriptor.describe(), offset: this.position ?? null };
  }
}

export class Descriptor {
  constructor(
    private readonly tree: Tree,
    private readonly hostPath: string,
    private readonly type: DescriptorType,
    /** How the guest opened it (recorded for serialisation; everything is read-only anyway). */
    private readonly opened: Pick<TreeDescriptorState, 'openFlags' | 'flags'> = {
      openFlags: {},
      flags: { read: true },
    },
  ) {}

  /** Serialisation hook: the mount, the path inside it and how it was opened. */
  describe(): TreeDescriptorState {
    return { kind: 'descriptor', mount: this.tree.guestPath, path: this.tree.relative(this.hostPath), ...this.opened };
  }

  /**
   * The descriptor `state` describes, opened again below the root of the same mount with the
   * same checks as the guest's own open-at (the tree may have changed since, or be another
   * host's copy). Throws an Error naming the path if it cannot be opened.
   */
  static restore(state: TreeDescriptorState, trees: readonly Tree[]): Descriptor {
    const tree = trees.find((t) => t.guestPath === state.mount);
    if (!tree) throw new Error(`cannot restore a descriptor of ${state.mount}: this host does not mount it`);
    const root = Descriptor.root(tree);
    if (state.path === '') return root;
    try {
      return root.openAt({}, state.path, state.openFlags, state.flags);
    } catch (code) {
      throw new Error(`cannot restore the descriptor of ${state.mount}/${state.path}: ${String(code)}`);
    }
  }

  static root(tree: Tree): Descriptor {
    return new Descriptor(tree, tree.realRoot, 'directory');
  }

  private filePath(): string {
    if (this.type !== 'regular-file') fail(this.type === 'directory' ? 'is-directory' : 'bad-descriptor');
    return this.hostPath;
  }

  private directoryPath(): string {
    if (this.type !== 'directory') fail('not-directory');
    return this.hostPath;
  }

  readViaStream(offset: bigint): InputStream {
    // Any offset is valid (POSIX lets a reader seek past the end); past the end reads nothing.
    return new InputStream(new FileSource(this, this.filePath(), toSafeOffset(offset)));
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const hostPath = this.filePath();
    const size = statOf(hostPath).size;
    if (offset >= size) return [new Uint8Array(0), true];
    // A short read is allowed; it keeps one call's host buffer bounded whatever `length` says.
    const wanted = toSafeCount(length < size - offset ? length : size - offset, MAX_READ_BYTES);
    const bytes = attempt(() => readAt(hostPath, wanted, Number(offset)));
    return [bytes, offset + BigInt(bytes.length) >= size];
  }

  readDirectory(): DirectoryEntryStream {
    const dir = this.directoryPath();
    try {
      const entries = readdirSync(dir, { withFileTypes: true }).map((entry) => ({
        name: entry.name,
        type: entry.isDirectory()
          ? ('directory' as const)
          : entry.isFile()
            ? ('regular-file' as const)
            : entry.isSymbolicLink()
              ? ('symbolic-link' as const)
              : ('unknown' as const),
      }));
      return new DirectoryEntryStream(entries, this);
    } catch (error) {
      fail(errorCodeOf(error));
    }
  }

  openAt(_pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    if (openFlags.create || openFlags.truncate || openFlags.exclusive) fail('read-only');
    if (flags.write || flags.mutateDirectory) fail('read-only');
    const hostPath = this.tree.resolve(this.directoryPath(), path);
    const type = typeOf(statOf(hostPath));
    if (openFlags.directory && type !== 'directory') fail('not-directory');
    if (type !== 'directory' && type !== 'regular-file') fail('not-permitted');
    return new Descriptor(this.tree, hostPath, type, {
      openFlags: openFlags.directory ? { directory: true } : {},
      flags: { read: Boolean(flags.read) },
    });
  }

  stat() {
    return descriptorStat(statOf(this.hostPath));
  }

  statAt(pathFlags: PathFlags, path: string) {
    const hostPath = this.tree.resolve(this.directoryPath(), path);
    return descriptorStat(pathFlags.symlinkFollow ? statOf(hostPath) : lstatOf(hostPath));
  }

  metadataHash() {
    return metadataHashOf(statOf(this.hostPath));
  }

  metadataHashAt(pathFlags: PathFlags, path: string) {
    const hostPath = this.tree.resolve(this.directoryPath(), path);
    return metadataHashOf(pathFlags.symlinkFollow ? statOf(hostPath) : lstatOf(hostPath));
  }

  isSameObject(other: Descriptor): boolean {
    return other instanceof Descriptor && other.hostPath === this.hostPath;
  }

  getType(): DescriptorType {
    return this.type;
  }

  getFlags(): DescriptorFlags {
    return { read: true };
  }

  readlinkAt(): never {
    fail('invalid');
  }

  advise(): void {}
  syncData(): void {}
  sync(): void {}

  writeViaStream(): never {
    fail('read-only');
  }
  appendViaStream(): never {
    fail('read-only');
  }
  write(): never {
    fail('read-only');
  }
  setSize(): never {
    fail('read-only');
  }
  setTimes(): never {
    fail('read-only');
  }
  setTimesAt(): never {
    fail('read-only');
  }
  createDirectoryAt(): never {
    fail('read-only');
  }
  linkAt(): never {
    fail('read-only');
  }
  removeDirectoryAt(): never {
    fail('read-only');
  }
  renameAt(): never {
    fail('read-only');
  }
  symlinkAt(): never {
    fail('read-only');
  }
  unlinkFileAt(): never {
    fail('read-only');
  }

  /** Nothing to release: no host descriptor outlives a single read (see readAt). */
  [Symbol.dispose](): void {}
}
