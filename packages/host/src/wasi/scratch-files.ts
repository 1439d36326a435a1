/**
 * wasi:filesystem descriptors and streams over a ScratchStore: the guest's writable `/tmp`.
 * Same method names as the read-only tree's Descriptor (the binding calls methods by name).
 * Every descriptor and stream counts as an open of its inode, so an unlinked file the guest
 * still holds (Python's TemporaryFile) keeps its blocks until the last handle is dropped.
 */
import { DirectoryEntryStream } from './directory-entries.js';
import type { DescriptorFlags, NewTimestamp, OpenFlags, PathFlags } from './filesystem-types.js';
import { InputStream, IoError, OutputStream, type ByteSink, type ByteSource } from './io.js';
import { MAX_READ_BYTES, toSafeCount, toSafeOffset } from './numbers.js';
import {
  SCRATCH_BLOCK_BYTES,
  entryType,
  type ScratchErrorCode,
  type ScratchNode,
  type ScratchStore,
} from './scratch-store.js';
import type { ResourceState, ScratchDescriptorState } from './state.js';

function fail(code: ScratchErrorCode | 'read-only' | 'cross-device'): never {
  throw code;
}

/** A failed stream write carries its filesystem code, so libc reports ENOSPC, not EIO. */
export class FilesystemIoError extends IoError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function asStreamError(error: unknown): never {
  const code = typeof error === 'string' ? error : 'io';
  throw { tag: 'last-operation-failed', val: new FilesystemIoError(`write failed (${code})`, code) };
}

const NANOS_PER_MS = 1_000_000n;

function datetime(ms: number) {
  const nanos = BigInt(Math.max(0, Math.round(ms))) * NANOS_PER_MS;
  return { seconds: nanos / 1_000_000_000n, nanoseconds: Number(nanos % 1_000_000_000n) };
}

function timestampMs(value: NewTimestamp): number | undefined {
  if (value.tag === 'no-change') return undefined;
  if (value.tag === 'now') return Date.now();
  return Number(value.val.seconds) * 1000 + value.val.nanoseconds / 1e6;
}

/** A distinct device number, so metadata hashes never collide with host files'. */
const SCRATCH_DEVICE = 0x5c7a7c4n;

function statOf(node: ScratchNode) {
  return {
    type: entryType(node),
    linkCount: BigInt(Math.max(node.links, 0)),
    size: BigInt(sizeOf(node)),
    dataAccessTimestamp: datetime(node.atimeMs),
    dataModificationTimestamp: datetime(node.mtimeMs),
    statusChangeTimestamp: datetime(node.ctimeMs),
  };
}

/** A file's length, a link's target length (as lstat reports it), a directory's one block. */
function sizeOf(node: ScratchNode): number {
  if (node.type === 'file') return node.size;
  if (node.type === 'symlink') return Buffer.byteLength(node.target, 'utf8');
  return SCRATCH_BLOCK_BYTES;
}

class ScratchSource implements ByteSource {
  constructor(
    private readonly store: ScratchStore,
    readonly ino: number,
    private position: number | undefined,
    countOpen: boolean,
  ) {
    if (countOpen) store.open(ino);
  }

  read(length: number): Uint8Array {
    if (this.position === undefined) return new Uint8Array(0);
    const bytes = this.store.read(this.ino, this.position, length);
    this.position += bytes.length;
    return bytes;
  }

  close(): void {
    this.store.close(this.ino);
  }

  describe() {
    return { kind: 'scratch-file' as const, ino: this.ino, offset: this.position ?? null };
  }
}

class ScratchSink implements ByteSink {
  constructor(
    private readonly store: ScratchStore,
    readonly ino: number,
    /** Undefined: append at the end of the file. */
    private position: number | undefined,
    countOpen: boolean,
  ) {
    if (countOpen) store.open(ino);
  }

  write(bytes: Uint8Array): void {
    const at = this.position ?? this.store.file(this.ino).size;
    try {
      this.store.write(this.ino, at, bytes);
    } catch (error) {
      asStreamError(error);
    }
    if (this.position !== undefined) this.position += bytes.length;
  }

  close(): void {
    this.store.close(this.ino);
  }

  describe(): ResourceState {
    return { kind: 'output-stream', sink: { kind: 'scratch-file', ino: this.ino, offset: this.position ?? null } };
  }
}

/** `restored`: recreated from saved state, where its open is already counted. */
export function scratchInputStream(store: ScratchStore, ino: number, offset: number | null, restored = false) {
  store.file(ino);
  return new InputStream(new ScratchSource(store, ino, offset ?? undefined, !restored));
}

export function scratchOutputStream(store: ScratchStore, ino: number, offset: number | null, restored = false) {
  store.file(ino);
  return new OutputStream(new ScratchSink(store, ino, offset ?? undefined, !restored));
}

export class ScratchDescriptor {
  constructor(
    readonly store: ScratchStore,
    readonly ino: number,
    private readonly flags: DescriptorFlags,
    /** False when recreated from saved state: the open is already counted there. */
    countOpen = true,
  ) {
    if (countOpen) store.open(ino);
  }

  describe(): ScratchDescriptorState {
    return {
      kind: 'scratch-descriptor',
      ino: this.ino,
      flags: { read: Boolean(this.flags.read), write: Boolean(this.flags.write) },
    };
  }

  static restore(store: ScratchStore, state: ScratchDescriptorState): ScratchDescriptor {
    store.node(state.ino);
    return new ScratchDescriptor(store, state.ino, state.flags, false);
  }

  private node(): ScratchNode {
    return this.store.node(this.ino);
  }

  private writableFile(): number {
    this.store.file(this.ino);
    if (!this.flags.write) fail('bad-descriptor');
    return this.ino;
  }

  readViaStream(offset: bigint): InputStream {
    this.store.file(this.ino);
    return scratchInputStream(this.store, this.ino, toSafeOffset(offset) ?? null);
  }

  writeViaStream(offset: bigint): OutputStream {
    const position = toSafeOffset(offset);
    if (position === undefined) fail('file-too-large');
    return scratchOutputStream(this.store, this.writableFile(), position);
  }

  appendViaStream(): OutputStream {
    return scratchOutputStream(this.store, this.writableFile(), null);
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const file = this.store.file(this.ino);
    const position = toSafeOffset(offset);
    if (position === undefined || position >= file.size) return [new Uint8Array(0), true];
    const bytes = this.store.read(this.ino, position, toSafeCount(length, MAX_READ_BYTES));
    return [bytes, position + bytes.length >= file.size];
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    const position = toSafeOffset(offset);
    if (position === undefined) fail('file-too-large');
    this.store.write(this.writableFile(), position, buffer);
    return BigInt(buffer.length);
  }

  setSize(size: bigint): void {
    const length = toSafeOffset(size);
    if (length === undefined) fail('file-too-large');
    this.store.setSize(this.writableFile(), length);
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    this.store.touch(this.ino, timestampMs(atime), timestampMs(mtime));
  }

  readDirectory(): DirectoryEntryStream {
    return new DirectoryEntryStream(this.store.list(this.ino), this);
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): ScratchDescriptor {
    // With create and exclusive a final symlink is not followed: the name exists (EEXIST).
    const follow = Boolean(pathFlags.symlinkFollow) && !(openFlags.create && openFlags.exclusive);
    const found = this.store.walk(this.ino, path, follow);
    let ino = found.ino;
    if (ino === undefined) {
      if (!openFlags.create) fail('no-entry');
      if (openFlags.directory) fail('invalid');
      ino = this.store.createFile(found.parent, found.name);
    } else if (openFlags.create && openFlags.exclusive) {
      fail('exist');
    }
    const node = this.store.node(ino);
    // O_NOFOLLOW on a link: ELOOP, as on Linux (nothing opens a link itself).
    if (node.type === 'symlink') fail('loop');
    if (openFlags.directory && node.type !== 'directory') fail('not-directory');
    if (node.type === 'directory' && (flags.write || openFlags.truncate)) fail('is-directory');
    if (openFlags.truncate) {
      if (!flags.write) fail('invalid');
      this.store.setSize(ino, 0);
    }
    return new ScratchDescriptor(this.store, ino, flags);
  }

  createDirectoryAt(path: string): void {
    const found = this.store.walk(this.ino, path);
    if (found.ino !== undefined) fail('exist');
    this.store.createDirectory(found.parent, found.name);
  }

  removeDirectoryAt(path: string): void {
    const found = this.store.walk(this.ino, path);
    if (found.name === '.') fail(found.ino === this.ino ? 'invalid' : 'not-permitted');
    this.store.removeDirectory(found.parent, found.name);
  }

  unlinkFileAt(path: string): void {
    const found = this.store.walk(this.ino, path);
    if (found.name === '.') fail('is-directory');
    this.store.unlink(found.parent, found.name);
  }

  renameAt(oldPath: string, newDescriptor: unknown, newPath: string): void {
    if (!(newDescriptor instanceof ScratchDescriptor) || newDescriptor.store !== this.store) fail('cross-device');
    const from = this.store.walk(this.ino, oldPath);
    const to = this.store.walk(newDescriptor.ino, newPath);
    if (from.name === '.' || to.name === '.') fail('invalid');
    this.store.rename(from.parent, from.name, to.parent, to.name);
  }

  stat() {
    return statOf(this.node());
  }

  statAt(pathFlags: PathFlags, path: string) {
    return statOf(this.store.node(this.store.lookup(this.ino, path, Boolean(pathFlags.symlinkFollow))));
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    const ino = this.store.lookup(this.ino, path, Boolean(pathFlags.symlinkFollow));
    this.store.touch(ino, timestampMs(atime), timestampMs(mtime));
  }

  /** The inode number is the lower half: libc's st_ino, which SQLite keys its locks by. */
  metadataHash() {
    return { lower: BigInt(this.ino), upper: SCRATCH_DEVICE };
  }

  metadataHashAt(pathFlags: PathFlags, path: string) {
    const ino = this.store.lookup(this.ino, path, Boolean(pathFlags.symlinkFollow));
    return { lower: BigInt(ino), upper: SCRATCH_DEVICE };
  }

  isSameObject(other: unknown): boolean {
    return other instanceof ScratchDescriptor && other.store === this.store && other.ino === this.ino;
  }

  getType() {
    return statOf(this.node()).type;
  }

  getFlags(): DescriptorFlags {
    return { read: Boolean(this.flags.read), write: Boolean(this.flags.write) };
  }

  /** The target of the symlink `path` names (the link itself, not followed); EINVAL for anything else. */
  readlinkAt(path: string): string {
    return this.store.symlink(this.store.lookup(this.ino, path, false)).target;
  }

  /** A symlink at `newPath` to `target`, which must stay within the store (see ScratchSymlink). */
  symlinkAt(target: string, newPath: string): void {
    const found = this.store.walk(this.ino, newPath);
    if (found.ino !== undefined) fail('exist');
    this.store.createSymlink(found.parent, found.name, target);
  }

  /** No hard links in scratch: a file has one name (links counts 0 or 1). */
  linkAt(): never {
    fail('not-permitted');
  }

  advise(): void {}
  syncData(): void {}
  sync(): void {}

  [Symbol.dispose](): void {
    this.store.close(this.ino);
  }
}
