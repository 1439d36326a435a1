/**
 * A sandbox's writable scratch directory (`/tmp`): files, directories and symbolic links in
 * memory, under a byte quota.
 *
 * File contents live in 4 KiB blocks of a growable SharedArrayBuffer that the host creates with
 * the sandbox, so whichever executor thread runs a call (and the host's own thread, for its file
 * API) reads and writes the same bytes without copying them. Everything else (names, sizes,
 * which blocks a file holds) is a small JSON-safe `ScratchMeta` that travels with the sandbox's
 * state after each call, like its globals. The quota is the buffer's maximum length, so no
 * guest action can make the host hold more than it.
 */

import { SCRATCH_GUEST_PATH } from '@component-sandbox/wit';

export const SCRATCH_BLOCK_BYTES = 4096;
/** Longest name of one directory entry, as on Linux. */
const MAX_NAME_BYTES = 255;
const GROW_STEP_LIMIT = 1024 * 1024;
/** Longest symlink target, as Linux's PATH_MAX; the target lives in the metadata, not in blocks. */
const MAX_SYMLINK_TARGET_BYTES = 4096;
/** Symlinks one path may pass through before it is a loop (ELOOP), as Linux's MAXSYMLINKS. */
const MAX_SYMLINK_HOPS = 40;
/** The scratch root's inode. */
export const SCRATCH_ROOT_INO = 1;

/** WASI filesystem error codes this store reports (thrown as strings, as the binding expects). */
export type ScratchErrorCode =
  | 'bad-descriptor'
  | 'exist'
  | 'file-too-large'
  | 'insufficient-space'
  | 'invalid'
  | 'is-directory'
  | 'loop'
  | 'name-too-long'
  | 'no-entry'
  | 'not-directory'
  | 'not-empty'
  | 'not-permitted';

function fail(code: ScratchErrorCode): never {
  throw code;
}

interface NodeTimes {
  /** Milliseconds since the epoch. */
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface ScratchFile extends NodeTimes {
  type: 'file';
  size: number;
  /** Block indices in file order; a file's last block may be partly used. */
  blocks: number[];
  /** Directory entries naming it; 0 once unlinked (kept while something still has it open). */
  links: number;
  /** Descriptors and streams the guest holds on it. */
  opens: number;
}

export interface ScratchDirectory extends NodeTimes {
  type: 'directory';
  /** Name -> inode. */
  entries: Record<string, number>;
  parent: number;
  links: number;
  opens: number;
}

/**
 * A symbolic link. Its target is resolved within this store only: a relative target from the
 * link's directory, an absolute one only below the store's own mount point (`/tmp/...`); a
 * target that would lead out of the store (an absolute path elsewhere, `..` above the root) is
 * refused when it is made or when it is followed, so a link never reaches another tree.
 */
export interface ScratchSymlink extends NodeTimes {
  type: 'symlink';
  target: string;
  links: number;
  opens: number;
}

export type ScratchNode = ScratchFile | ScratchDirectory | ScratchSymlink;

/** Everything about a scratch directory except the file bytes. Structured-clone and JSON safe. */
export interface ScratchMeta {
  nextIno: number;
  /** Blocks handed out so far from the buffer's start (freed ones are in `free`). */
  usedBlocks: number;
  free: number[];
  nodes: Record<number, ScratchNode>;
}

export function emptyScratchMeta(now = Date.now()): ScratchMeta {
  return {
    nextIno: SCRATCH_ROOT_INO + 1,
    usedBlocks: 0,
    free: [],
    nodes: {
      [SCRATCH_ROOT_INO]: {
        type: 'directory',
        entries: {},
        parent: SCRATCH_ROOT_INO,
        links: 1,
        opens: 0,
        atimeMs: now,
        mtimeMs: now,
        ctimeMs: now,
      },
    },
  };
}

/** The buffer for a quota: it reserves address space up to the quota and grows on demand. */
export function createScratchBuffer(quotaBytes: number): SharedArrayBuffer {
  const maxByteLength = Math.floor(quotaBytes / SCRATCH_BLOCK_BYTES) * SCRATCH_BLOCK_BYTES;
  return new SharedArrayBuffer(0, { maxByteLength });
}

/** How the bytes of a scratch directory are laid out: what a snapshot or fork must copy. */
export function usedScratchBytes(meta: ScratchMeta): number {
  return meta.usedBlocks * SCRATCH_BLOCK_BYTES;
}

/** Most inodes a quota allows: every file and directory counts, so empty files cannot pile up. */
function maxNodes(quotaBlocks: number): number {
  return Math.max(64, quotaBlocks);
}

export class ScratchStore {
  private readonly bytes: Uint8Array;
  private readonly quotaBlocks: number;
  /** Bumped by every change; the executor sends `meta` back only when it moved. */
  changes = 0;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly meta: ScratchMeta,
  ) {
    // A length-tracking view: it sees the buffer grow, whichever thread grew it.
    this.bytes = new Uint8Array(buffer);
    this.quotaBlocks = Math.floor(buffer.maxByteLength / SCRATCH_BLOCK_BYTES);
  }

  get quotaBytes(): number {
    return this.quotaBlocks * SCRATCH_BLOCK_BYTES;
  }

  /** Bytes of file blocks in use, the figure the quota bounds. */
  get usedBytes(): number {
    return (this.meta.usedBlocks - this.meta.free.length) * SCRATCH_BLOCK_BYTES;
  }

  node(ino: number): ScratchNode {
    const node = this.meta.nodes[ino];
    if (!node) fail('bad-descriptor');
    return node;
  }

  directory(ino: number): ScratchDirectory {
    const node = this.node(ino);
    if (node.type !== 'directory') fail('not-directory');
    return node;
  }

  file(ino: number): ScratchFile {
    const node = this.node(ino);
    if (node.type === 'directory') fail('is-directory');
    // Descriptors are never opened on a link itself (openAt follows it or refuses), so only the
    // host's own file API can get here with one.
    if (node.type !== 'file') fail('invalid');
    return node;
  }

  symlink(ino: number): ScratchSymlink {
    const node = this.node(ino);
    if (node.type !== 'symlink') fail('invalid');
    return node;
  }

  /**
   * Walks `relative` from directory `from`. Returns the parent directory, the last name and
   * the inode it names (undefined if absent). Symlinks on the way are followed (within the store,
   * see ScratchSymlink), the last name's only with `followLast` (so removing or renaming a link
   * acts on the link); more than MAX_SYMLINK_HOPS of them is a loop. `..` at the scratch root is refused: the
   * root's parent is not part of this store (the virtual root resolves such paths of the guest's
   * before they get here).
   */
  walk(from: number, relative: string, followLast = false): { parent: number; name: string; ino: number | undefined } {
    if (relative.startsWith('/')) fail('not-permitted');
    // Parts still to walk, the next one last: a followed link pushes its target's parts.
    const pending = partsOf(relative).reverse();
    let dir = from;
    let hops = 0;
    this.directory(dir);
    while (pending.length > 0) {
      const part = pending.pop()!;
      const last = pending.length === 0;
      if (part === '..') {
        if (dir === SCRATCH_ROOT_INO) fail('not-permitted');
        dir = this.directory(dir).parent;
        continue;
      }
      checkName(part);
      const ino = this.directory(dir).entries[part];
      const node = ino === undefined ? undefined : this.node(ino);
      if (last && (node?.type !== 'symlink' || !followLast)) return { parent: dir, name: part, ino };
      if (ino === undefined || node === undefined) fail('no-entry');
      if (node.type === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) fail('loop');
        const target = withinStore(node.target);
        if (target.absolute) dir = SCRATCH_ROOT_INO;
        pending.push(...partsOf(target.relative).reverse());
        continue;
      }
      if (node.type !== 'directory') fail('not-directory');
      dir = ino;
    }
    return { parent: this.directory(dir).parent, name: '.', ino: dir };
  }

  /** The inode `relative` names (its last symlink followed unless `followLast` is false), or `no-entry`. */
  lookup(from: number, relative: string, followLast = true): number {
    const { ino } = this.walk(from, relative, followLast);
    if (ino === undefined) fail('no-entry');
    return ino;
  }

  private newIno(): number {
    if (Object.keys(this.meta.nodes).length >= maxNodes(this.quotaBlocks)) fail('insufficient-space');
    return this.meta.nextIno++;
  }

  createFile(parent: number, name: string): number {
    checkName(name);
    const now = Date.now();
    const ino = this.newIno();
    this.meta.nodes[ino] = { type: 'file', size: 0, blocks: [], links: 1, opens: 0, ...times(now) };
    this.link(parent, name, ino, now);
    return ino;
  }

  /** A new symlink `name` in `parent` to `target`; see ScratchSymlink for what a target may be. */
  createSymlink(parent: number, name: string, target: string): number {
    checkName(name);
    // Linux refuses an empty target (ENOENT) and one longer than PATH_MAX.
    if (target === '') fail('no-entry');
    if (target.includes('\0')) fail('invalid');
    if (Buffer.byteLength(target, 'utf8') > MAX_SYMLINK_TARGET_BYTES) fail('name-too-long');
    withinStore(target);
    const now = Date.now();
    const ino = this.newIno();
    this.meta.nodes[ino] = { type: 'symlink', target, links: 1, opens: 0, ...times(now) };
    this.link(parent, name, ino, now);
    return ino;
  }

  createDirectory(parent: number, name: string): number {
    checkName(name);
    const now = Date.now();
    const ino = this.newIno();
    this.meta.nodes[ino] = { type: 'directory', entries: {}, parent, links: 1, opens: 0, ...times(now) };
    this.link(parent, name, ino, now);
    return ino;
  }

  private link(parent: number, name: string, ino: number, now: number): void {
    const dir = this.directory(parent);
    dir.entries[name] = ino;
    dir.mtimeMs = dir.ctimeMs = now;
    this.changes++;
  }

  unlink(parent: number, name: string): void {
    const dir = this.directory(parent);
    const ino = dir.entries[name];
    if (ino === undefined) fail('no-entry');
    const node = this.node(ino);
    if (node.type === 'directory') fail('is-directory');
    delete dir.entries[name];
    dir.mtimeMs = dir.ctimeMs = Date.now();
    node.links -= 1;
    this.release(ino);
  }

  removeDirectory(parent: number, name: string): void {
    const dir = this.directory(parent);
    const ino = dir.entries[name];
    if (ino === undefined) fail('no-entry');
    const node = this.directory(ino);
    if (Object.keys(node.entries).length > 0) fail('not-empty');
    delete dir.entries[name];
    dir.mtimeMs = dir.ctimeMs = Date.now();
    node.links = 0;
    this.release(ino);
  }

  /** POSIX rename within the store: replaces a file, or an empty directory, at the target. */
  rename(fromParent: number, fromName: string, toParent: number, toName: string): void {
    const source = this.directory(fromParent).entries[fromName];
    if (source === undefined) fail('no-entry');
    const node = this.node(source);
    if (node.type === 'directory' && this.isWithin(toParent, source)) fail('invalid');
    const target = this.directory(toParent).entries[toName];
    if (target === source) return;
    if (target !== undefined) {
      const existing = this.node(target);
      if (node.type === 'directory' && existing.type !== 'directory') fail('not-directory');
      if (node.type !== 'directory' && existing.type === 'directory') fail('is-directory');
      if (existing.type === 'directory') this.removeDirectory(toParent, toName);
      else this.unlink(toParent, toName);
    }
    const now = Date.now();
    delete this.directory(fromParent).entries[fromName];
    this.directory(fromParent).mtimeMs = now;
    if (node.type === 'directory') node.parent = toParent;
    node.ctimeMs = now;
    this.link(toParent, toName, source, now);
  }

  /** Whether directory `ino` is `ancestor` or below it. */
  private isWithin(ino: number, ancestor: number): boolean {
    for (let at = ino; ; at = this.directory(at).parent) {
      if (at === ancestor) return true;
      if (at === SCRATCH_ROOT_INO) return false;
    }
  }

  open(ino: number): void {
    this.node(ino).opens += 1;
    this.changes++;
  }

  /** The guest dropped a descriptor or stream on `ino`: an unlinked file it held is freed. */
  close(ino: number): void {
    const node = this.meta.nodes[ino];
    if (!node) return;
    node.opens = Math.max(0, node.opens - 1);
    this.release(ino);
  }

  private release(ino: number): void {
    const node = this.meta.nodes[ino];
    this.changes++;
    if (!node || node.links > 0 || node.opens > 0) return;
    if (node.type === 'file') this.freeBlocks(node.blocks);
    delete this.meta.nodes[ino];
  }

  /** Frees blocks; those at the end of the used range shrink it, so snapshots leave them out. */
  private freeBlocks(blocks: readonly number[]): void {
    if (blocks.length === 0) return;
    // No spread: a file may hold more blocks than a call can take arguments.
    const free = this.meta.free.concat(blocks).sort((a, b) => a - b);
    this.meta.free = free;
    while (free.length > 0 && free[free.length - 1] === this.meta.usedBlocks - 1) {
      free.pop();
      this.meta.usedBlocks -= 1;
    }
  }

  read(ino: number, offset: number, length: number): Uint8Array {
    const file = this.file(ino);
    const end = Math.min(file.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    for (let at = offset; at < end;) {
      const block = file.blocks[Math.floor(at / SCRATCH_BLOCK_BYTES)]!;
      const within = at % SCRATCH_BLOCK_BYTES;
      const count = Math.min(SCRATCH_BLOCK_BYTES - within, end - at);
      const start = block * SCRATCH_BLOCK_BYTES + within;
      out.set(this.bytes.subarray(start, start + count), at - offset);
      at += count;
    }
    file.atimeMs = Date.now();
    return out;
  }

  /** Writes `data` at `offset`, growing the file (a gap reads as zeroes). */
  write(ino: number, offset: number, data: Uint8Array): void {
    const file = this.file(ino);
    const end = offset + data.length;
    if (!Number.isSafeInteger(end)) fail('file-too-large');
    if (end > file.size) this.resize(file, end);
    for (let at = offset; at < end;) {
      const block = file.blocks[Math.floor(at / SCRATCH_BLOCK_BYTES)]!;
      const within = at % SCRATCH_BLOCK_BYTES;
      const count = Math.min(SCRATCH_BLOCK_BYTES - within, end - at);
      this.bytes.set(data.subarray(at - offset, at - offset + count), block * SCRATCH_BLOCK_BYTES + within);
      at += count;
    }
    file.mtimeMs = file.ctimeMs = Date.now();
    this.changes++;
  }

  setSize(ino: number, size: number): void {
    const file = this.file(ino);
    if (!Number.isSafeInteger(size)) fail('file-too-large');
    this.resize(file, size);
    file.mtimeMs = file.ctimeMs = Date.now();
    this.changes++;
  }

  /** Replaces a file's contents (the host's writeFile); checks the space first, so a refusal changes nothing. */
  replace(ino: number, data: Uint8Array): void {
    const file = this.file(ino);
    const more = Math.ceil(data.length / SCRATCH_BLOCK_BYTES) - file.blocks.length;
    if (more > this.quotaBlocks - this.meta.usedBlocks + this.meta.free.length) fail('insufficient-space');
    this.setSize(ino, 0);
    this.write(ino, 0, data);
  }

  /** Whether one more node fits (each file and directory counts against the quota). */
  canAddNodes(count: number): boolean {
    return Object.keys(this.meta.nodes).length + count <= maxNodes(this.quotaBlocks);
  }

  private resize(file: ScratchFile, size: number): void {
    const wanted = Math.ceil(size / SCRATCH_BLOCK_BYTES);
    if (wanted > file.blocks.length) {
      const more = wanted - file.blocks.length;
      const fromFree = Math.min(more, this.meta.free.length);
      const fresh = more - fromFree;
      if (this.meta.usedBlocks + fresh > this.quotaBlocks) fail('insufficient-space');
      this.growBuffer(this.meta.usedBlocks + fresh);
      // The lowest free blocks first: the used range stays short.
      const added = this.meta.free.splice(0, fromFree);
      for (let i = 0; i < fresh; i++) added.push(this.meta.usedBlocks++);
      // A reused block holds an old file's bytes; the new file must read zeroes.
      for (const block of added) this.bytes.fill(0, block * SCRATCH_BLOCK_BYTES, (block + 1) * SCRATCH_BLOCK_BYTES);
      for (const block of added) file.blocks.push(block);
    } else if (wanted < file.blocks.length) {
      this.freeBlocks(file.blocks.splice(wanted));
    }
    // Shrinking within the last block: what lies past the new end must read as zeroes later.
    if (size < file.size && size % SCRATCH_BLOCK_BYTES !== 0 && wanted > 0) {
      const last = file.blocks[wanted - 1]!;
      this.bytes.fill(0, last * SCRATCH_BLOCK_BYTES + (size % SCRATCH_BLOCK_BYTES), (last + 1) * SCRATCH_BLOCK_BYTES);
    }
    file.size = size;
  }

  /** Grows the shared buffer to hold `blocks`, in steps, so small files do not grow it often. */
  private growBuffer(blocks: number): void {
    const needed = blocks * SCRATCH_BLOCK_BYTES;
    if (needed <= this.buffer.byteLength) return;
    // Doubling, by at most 1 MiB at a time: few grows, and little reserved beyond what is used.
    const target = Math.max(needed, Math.min(this.buffer.byteLength * 2, needed + GROW_STEP_LIMIT));
    this.buffer.grow(Math.min(this.buffer.maxByteLength, target));
  }

  list(ino: number): { name: string; type: 'directory' | 'regular-file' | 'symbolic-link' }[] {
    return Object.entries(this.directory(ino).entries).map(([name, child]) => ({
      name,
      type: entryType(this.node(child)),
    }));
  }

  touch(ino: number, atimeMs: number | undefined, mtimeMs: number | undefined): void {
    const node = this.node(ino);
    if (atimeMs !== undefined) node.atimeMs = atimeMs;
    if (mtimeMs !== undefined) node.mtimeMs = mtimeMs;
    node.ctimeMs = Date.now();
    this.changes++;
  }
}

/** A node's type as wasi:filesystem names it. */
export function entryType(node: ScratchNode): 'directory' | 'regular-file' | 'symbolic-link' {
  if (node.type === 'directory') return 'directory';
  return node.type === 'symlink' ? 'symbolic-link' : 'regular-file';
}

function partsOf(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Where a symlink target leads, as a path from the store's root (absolute) or from the link's
 * directory. An absolute target must lie below the store's own mount point; anything else would
 * be another tree of the guest's, which a link in the store may not reach.
 */
function withinStore(target: string): { absolute: boolean; relative: string } {
  if (!target.startsWith('/')) return { absolute: false, relative: target };
  const parts = partsOf(target);
  const mount = partsOf(SCRATCH_GUEST_PATH);
  // Lexically, as the virtual root routes the guest's own absolute paths: `/tmp/../x` is `/x`.
  const normal: string[] = [];
  for (const part of parts) {
    if (part === '..') normal.pop();
    else normal.push(part);
  }
  if (!mount.every((part, i) => normal[i] === part)) fail('not-permitted');
  return { absolute: true, relative: normal.slice(mount.length).join('/') };
}

function times(now: number): NodeTimes {
  return { atimeMs: now, mtimeMs: now, ctimeMs: now };
}

function checkName(name: string): void {
  if (name.includes('\0')) fail('invalid');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) fail('name-too-long');
}
