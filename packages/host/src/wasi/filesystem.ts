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
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { join, sep } from 'node:path';
import { InputStream, type ByteSource } from './io.js';

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
  | 'read-only'
  | 'unsupported';

type DescriptorType = 'directory' | 'regular-file' | 'symbolic-link' | 'unknown';

interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}
interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  mutateDirectory?: boolean;
  [other: string]: boolean | undefined;
}

function fail(code: ErrorCode): never {
  // The generated glue turns a thrown error-code string into the `err` case of the result.
  throw code;
}

function errorCodeOf(error: unknown): ErrorCode {
  switch ((error as NodeJS.ErrnoException)?.code) {
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
    default:
      return 'io';
  }
}

function typeOf(stats: Stats): DescriptorType {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'regular-file';
  if (stats.isSymbolicLink()) return 'symbolic-link';
  return 'unknown';
}

function datetimeOf(ms: number, ns: bigint | undefined) {
  const nanos = ns ?? BigInt(Math.round(ms * 1e6));
  return { seconds: nanos / 1_000_000_000n, nanoseconds: Number(nanos % 1_000_000_000n) };
}

function descriptorStat(stats: Stats) {
  return {
    type: typeOf(stats),
    linkCount: BigInt(stats.nlink),
    size: BigInt(stats.size),
    dataAccessTimestamp: datetimeOf(stats.atimeMs, undefined),
    dataModificationTimestamp: datetimeOf(stats.mtimeMs, undefined),
    statusChangeTimestamp: datetimeOf(stats.ctimeMs, undefined),
  };
}

function metadataHashOf(stats: Stats) {
  return { lower: BigInt(stats.ino), upper: BigInt(stats.dev) ^ BigInt(Math.round(stats.mtimeMs)) };
}

/** The real root of a mounted tree plus the check that keeps every access inside it. */
class Tree {
  readonly realRoot: string;

  constructor(hostDir: string) {
    this.realRoot = realpathSync.native(hostDir);
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
    private readonly fd: number,
    private position: number,
  ) {}

  read(length: number): Uint8Array {
    const buffer = Buffer.allocUnsafe(length);
    const count = readSync(this.fd, buffer, 0, length, this.position);
    this.position += count;
    return buffer.subarray(0, count);
  }
}

export class DirectoryEntryStream {
  private index = 0;
  constructor(private readonly entries: { name: string; type: DescriptorType }[]) {}

  readDirectoryEntry(): { name: string; type: DescriptorType } | undefined {
    return this.entries[this.index++];
  }
}

export class Descriptor {
  /** Open file descriptor on the host, for regular files only. */
  private fd: number | undefined;

  constructor(
    private readonly tree: Tree,
    private readonly hostPath: string,
    private readonly type: DescriptorType,
  ) {
    if (type === 'regular-file') {
      try {
        this.fd = openSync(hostPath, 'r');
      } catch (error) {
        fail(errorCodeOf(error));
      }
    }
  }

  static root(tree: Tree): Descriptor {
    return new Descriptor(tree, tree.realRoot, 'directory');
  }

  private openFd(): number {
    if (this.fd === undefined) fail(this.type === 'directory' ? 'is-directory' : 'bad-descriptor');
    return this.fd;
  }

  private directoryPath(): string {
    if (this.type !== 'directory') fail('not-directory');
    return this.hostPath;
  }

  readViaStream(offset: bigint): InputStream {
    return new InputStream(new FileSource(this.openFd(), Number(offset)));
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const fd = this.openFd();
    const size = fstatSync(fd).size;
    const start = Number(offset);
    const wanted = Math.max(0, Math.min(Number(length), size - start));
    const buffer = Buffer.allocUnsafe(wanted);
    const count = wanted > 0 ? readSync(fd, buffer, 0, wanted, start) : 0;
    return [buffer.subarray(0, count), start + count >= size];
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
      return new DirectoryEntryStream(entries);
    } catch (error) {
      fail(errorCodeOf(error));
    }
  }

  openAt(_pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    if (openFlags.create || openFlags.truncate || openFlags.exclusive) fail('read-only');
    if (flags.write || flags.mutateDirectory) fail('read-only');
    const hostPath = this.tree.resolve(this.directoryPath(), path);
    let stats: Stats;
    try {
      stats = statSync(hostPath);
    } catch (error) {
      fail(errorCodeOf(error));
    }
    const type = typeOf(stats);
    if (openFlags.directory && type !== 'directory') fail('not-directory');
    if (type !== 'directory' && type !== 'regular-file') fail('not-permitted');
    return new Descriptor(this.tree, hostPath, type);
  }

  stat() {
    return descriptorStat(this.fd === undefined ? statSync(this.hostPath) : fstatSync(this.fd));
  }

  statAt(pathFlags: PathFlags, path: string) {
    const hostPath = this.tree.resolve(this.directoryPath(), path);
    try {
      return descriptorStat(pathFlags.symlinkFollow ? statSync(hostPath) : lstatSync(hostPath));
    } catch (error) {
      fail(errorCodeOf(error));
    }
  }

  metadataHash() {
    return metadataHashOf(statSync(this.hostPath));
  }

  metadataHashAt(_pathFlags: PathFlags, path: string) {
    const hostPath = this.tree.resolve(this.directoryPath(), path);
    try {
      return metadataHashOf(statSync(hostPath));
    } catch (error) {
      fail(errorCodeOf(error));
    }
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

  [Symbol.dispose](): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function createFilesystem(mounts: readonly ReadOnlyMount[]) {
  const preopens = mounts.map((mount) => [Descriptor.root(new Tree(mount.hostDir)), mount.guestPath] as const);
  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      // Our streams never fail with an I/O error that carries a filesystem code.
      filesystemErrorCode: () => undefined,
    },
    'wasi:filesystem/preopens': {
      getDirectories: () => preopens.map(([descriptor, path]) => [descriptor, path]),
    },
  };
}
