/** The scratch store's own rules, without a guest: blocks, quota, links and opens. */
import { describe, expect, it } from 'vitest';
import {
  SCRATCH_BLOCK_BYTES,
  SCRATCH_ROOT_INO,
  ScratchStore,
  createScratchBuffer,
  emptyScratchMeta,
  usedScratchBytes,
} from '../src/wasi/scratch-store.js';

function store(quotaBytes = 64 * SCRATCH_BLOCK_BYTES): ScratchStore {
  return new ScratchStore(createScratchBuffer(quotaBytes), emptyScratchMeta());
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (code) {
    return code;
  }
  return undefined;
}

describe('ScratchStore', () => {
  it('reads back what was written, with gaps as zeroes, across blocks', () => {
    const s = store();
    const ino = s.createFile(SCRATCH_ROOT_INO, 'f');
    s.write(ino, 5000, new Uint8Array([1, 2, 3]));
    const bytes = s.read(ino, 0, 10_000);
    expect(bytes.length).toBe(5003);
    expect(bytes.subarray(0, 5000).every((b) => b === 0)).toBe(true);
    expect([...bytes.subarray(5000)]).toEqual([1, 2, 3]);
  });

  it('gives a reused block to a new file as zeroes, and a shrunk tail reads as zeroes when regrown', () => {
    const s = store();
    const a = s.createFile(SCRATCH_ROOT_INO, 'a');
    s.write(a, 0, new Uint8Array(SCRATCH_BLOCK_BYTES * 2).fill(7));
    s.setSize(a, 10);
    s.setSize(a, 100);
    expect(s.read(a, 10, 90).every((b) => b === 0)).toBe(true);
    s.unlink(SCRATCH_ROOT_INO, 'a');
    const b = s.createFile(SCRATCH_ROOT_INO, 'b');
    s.setSize(b, SCRATCH_BLOCK_BYTES);
    expect(s.read(b, 0, SCRATCH_BLOCK_BYTES).every((x) => x === 0)).toBe(true);
  });

  it('refuses a write past the quota without changing the file', () => {
    const s = store(4 * SCRATCH_BLOCK_BYTES);
    const ino = s.createFile(SCRATCH_ROOT_INO, 'f');
    s.write(ino, 0, new Uint8Array(3 * SCRATCH_BLOCK_BYTES));
    expect(thrown(() => s.write(ino, 0, new Uint8Array(5 * SCRATCH_BLOCK_BYTES)))).toBe('insufficient-space');
    expect(s.file(ino).size).toBe(3 * SCRATCH_BLOCK_BYTES);
    expect(s.usedBytes).toBe(3 * SCRATCH_BLOCK_BYTES);
  });

  it('keeps an unlinked file while it is open, and frees it (and the used range) on the last close', () => {
    const s = store();
    const ino = s.createFile(SCRATCH_ROOT_INO, 'f');
    s.write(ino, 0, new Uint8Array(3 * SCRATCH_BLOCK_BYTES));
    s.open(ino);
    s.unlink(SCRATCH_ROOT_INO, 'f');
    expect(s.read(ino, 0, 4).length).toBe(4);
    s.close(ino);
    expect(thrown(() => s.node(ino))).toBe('bad-descriptor');
    expect(usedScratchBytes(s.meta)).toBe(0);
  });

  it('renames like POSIX: replaces a file, refuses a directory into itself, and keeps names unique', () => {
    const s = store();
    const dir = s.createDirectory(SCRATCH_ROOT_INO, 'd');
    const sub = s.createDirectory(dir, 'sub');
    const a = s.createFile(SCRATCH_ROOT_INO, 'a');
    s.createFile(SCRATCH_ROOT_INO, 'b');
    s.rename(SCRATCH_ROOT_INO, 'a', SCRATCH_ROOT_INO, 'b');
    expect(
      s
        .list(SCRATCH_ROOT_INO)
        .map((e) => e.name)
        .sort(),
    ).toEqual(['b', 'd']);
    expect(s.lookup(SCRATCH_ROOT_INO, 'b')).toBe(a);
    expect(thrown(() => s.rename(SCRATCH_ROOT_INO, 'd', sub, 'inside'))).toBe('invalid');
    expect(thrown(() => s.removeDirectory(SCRATCH_ROOT_INO, 'd'))).toBe('not-empty');
  });

  it('refuses `..` above its root, over-long names and NUL bytes', () => {
    const s = store();
    expect(thrown(() => s.walk(SCRATCH_ROOT_INO, '../etc'))).toBe('not-permitted');
    expect(thrown(() => s.walk(SCRATCH_ROOT_INO, 'x'.repeat(256)))).toBe('name-too-long');
    expect(thrown(() => s.walk(SCRATCH_ROOT_INO, 'a\0b'))).toBe('invalid');
  });

  it('follows symlinks within the store: relative, absolute below /tmp, and as the last name only when asked', () => {
    const s = store();
    const dir = s.createDirectory(SCRATCH_ROOT_INO, 'd');
    const file = s.createFile(dir, 'f');
    s.createSymlink(SCRATCH_ROOT_INO, 'rel', 'd/f');
    s.createSymlink(SCRATCH_ROOT_INO, 'abs', '/tmp/d');
    s.createSymlink(dir, 'up', '../d/f');
    expect(s.lookup(SCRATCH_ROOT_INO, 'rel')).toBe(file);
    expect(s.lookup(SCRATCH_ROOT_INO, 'abs/f')).toBe(file);
    expect(s.lookup(SCRATCH_ROOT_INO, 'd/up')).toBe(file);
    // Not following the last name: the link itself, which removing or renaming acts on.
    const link = s.lookup(SCRATCH_ROOT_INO, 'rel', false);
    expect(s.node(link)).toMatchObject({ type: 'symlink', target: 'd/f' });
    s.unlink(SCRATCH_ROOT_INO, 'rel');
    expect(s.node(file).type).toBe('file');
    expect(s.list(SCRATCH_ROOT_INO).find((e) => e.name === 'abs')?.type).toBe('symbolic-link');
    // A dangling link names a place to create, like POSIX open(O_CREAT) through it.
    s.createSymlink(SCRATCH_ROOT_INO, 'dangling', 'd/new');
    expect(s.walk(SCRATCH_ROOT_INO, 'dangling', true)).toEqual({ parent: dir, name: 'new', ino: undefined });
  });

  it('never lets a symlink lead out of the store, and a cycle is a loop', () => {
    const s = store();
    expect(thrown(() => s.createSymlink(SCRATCH_ROOT_INO, 'py', '/python'))).toBe('not-permitted');
    expect(thrown(() => s.createSymlink(SCRATCH_ROOT_INO, 'x', '/tmp/../python'))).toBe('not-permitted');
    expect(thrown(() => s.createSymlink(SCRATCH_ROOT_INO, 'e', ''))).toBe('no-entry');
    // Relative targets are checked when followed: the link's directory may move.
    s.createSymlink(SCRATCH_ROOT_INO, 'out', '../python/os.py');
    expect(thrown(() => s.lookup(SCRATCH_ROOT_INO, 'out'))).toBe('not-permitted');
    s.createSymlink(SCRATCH_ROOT_INO, 'a', 'b');
    s.createSymlink(SCRATCH_ROOT_INO, 'b', 'a');
    expect(thrown(() => s.lookup(SCRATCH_ROOT_INO, 'a'))).toBe('loop');
    s.createSymlink(SCRATCH_ROOT_INO, 'self', 'self/x');
    expect(thrown(() => s.lookup(SCRATCH_ROOT_INO, 'self'))).toBe('loop');
    // A forged target in the metadata is refused the same way when followed.
    const forged = s.createSymlink(SCRATCH_ROOT_INO, 'forged', 'ok');
    s.symlink(forged).target = '/etc';
    expect(thrown(() => s.lookup(SCRATCH_ROOT_INO, 'forged'))).toBe('not-permitted');
  });
});
