import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasiImports } from '../dist/wasi/index.js';

interface DescriptorLike {
  openAt(pathFlags: object, path: string, openFlags: object, flags: object): DescriptorLike;
  statAt(pathFlags: object, path: string): { type: string; size: bigint };
  read(length: bigint, offset: bigint): [Uint8Array, boolean];
  readDirectory(): { readDirectoryEntry(): { name: string; type: string } | undefined };
  readViaStream(offset: bigint): { read(length: bigint): Uint8Array };
  write(): void;
  unlinkFileAt(path: string): void;
}

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return 'no error';
}

describe('the read-only tree a guest sees', () => {
  let base: string;
  let root: DescriptorLike;
  let mountedAt: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'sandbox-fs-'));
    const tree = join(base, 'tree');
    await mkdir(join(tree, 'pkg'), { recursive: true });
    await writeFile(join(tree, 'pkg', 'mod.py'), 'VALUE = 42\n');
    await writeFile(join(base, 'secret.txt'), 'host secret');
    await symlink(join(base, 'secret.txt'), join(tree, 'escape'));
    await symlink(join(tree, 'pkg', 'mod.py'), join(tree, 'inside'));
    const imports = createWasiImports({
      preopens: [{ guestPath: '/lib', hostDir: tree }],
      stdout: { write: () => {} },
      stderr: { write: () => {} },
    });
    const preopens = imports['wasi:filesystem/preopens']!.getDirectories as () => [DescriptorLike, string][];
    [[root, mountedAt]] = preopens() as [[DescriptorLike, string]];
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('is mounted where the manifest says, and nowhere else', () => {
    expect(mountedAt).toBe('/lib');
  });

  it('reads files and lists directories', () => {
    const file = root.openAt({}, 'pkg/mod.py', {}, { read: true });
    const [bytes, end] = file.read(100n, 0n);
    expect(new TextDecoder().decode(bytes)).toBe('VALUE = 42\n');
    expect(end).toBe(true);
    expect(new TextDecoder().decode(file.readViaStream(8n).read(100n))).toBe('42\n');
    const listing = root.openAt({}, 'pkg', { directory: true }, { read: true }).readDirectory();
    expect(listing.readDirectoryEntry()).toEqual({ name: 'mod.py', type: 'regular-file' });
    expect(listing.readDirectoryEntry()).toBeUndefined();
    expect(root.statAt({}, 'pkg/mod.py').size).toBe(11n);
  });

  it('refuses every write', () => {
    expect(caught(() => root.openAt({}, 'new.txt', { create: true }, { write: true }))).toBe('read-only');
    expect(caught(() => root.openAt({}, 'pkg/mod.py', { truncate: true }, { write: true }))).toBe('read-only');
    expect(caught(() => root.openAt({}, 'pkg/mod.py', {}, { write: true }))).toBe('read-only');
    expect(caught(() => root.unlinkFileAt('pkg/mod.py'))).toBe('read-only');
    expect(caught(() => root.openAt({}, 'pkg/mod.py', {}, { read: true }).write())).toBe('read-only');
  });

  it('answers guest-controlled numbers with POSIX results, never a host exception', () => {
    const file = root.openAt({}, 'pkg/mod.py', {}, { read: true });
    const U64_MAX = 2n ** 64n - 1n;
    // Offsets past anything Node can address read as end of file.
    expect(file.read(5n, 2n ** 62n)).toEqual([new Uint8Array(0), true]);
    expect(file.read(U64_MAX, U64_MAX)).toEqual([new Uint8Array(0), true]);
    expect(caught(() => file.readViaStream(2n ** 53n + 1n).read(5n))).toEqual({ tag: 'closed' });
    expect(caught(() => file.readViaStream(U64_MAX).read(U64_MAX))).toEqual({ tag: 'closed' });
    // A huge length is a short read, not a huge host allocation.
    const [bytes, end] = file.read(U64_MAX, 0n);
    expect([bytes.length, end]).toEqual([11, true]);
    expect(file.readViaStream(0n).read(U64_MAX).length).toBe(11);
    // Names Node refuses before any system call (a NUL byte) are EINVAL.
    expect(caught(() => root.openAt({}, 'pkg/mod\0.py', {}, { read: true }))).toBe('invalid');
    expect(caught(() => root.statAt({}, 'pkg/\0'))).toBe('invalid');
  });

  it('pins no host file descriptor: a handle reads its own file after others come and go', () => {
    const file = root.openAt({}, 'pkg/mod.py', {}, { read: true }) as DescriptorLike & { [Symbol.dispose](): void };
    const stream = file.readViaStream(0n);
    file[Symbol.dispose]();
    expect(new TextDecoder().decode(stream.read(100n))).toBe('VALUE = 42\n');
  });

  it('bounds what one call may allocate for the guest', () => {
    const limited = createWasiImports({
      preopens: [],
      stdout: { write: () => {} },
      stderr: { write: () => {} },
      memoryLimitBytes: 1024 * 1024,
    });
    const getRandomBytes = limited['wasi:random/random']!.getRandomBytes as (n: bigint) => Uint8Array;
    expect(getRandomBytes(1024n).length).toBe(1024);
    expect(() => getRandomBytes(2n ** 40n)).toThrow(/asked for 1099511627776 random bytes, more than its memory limit/);
    const stdout = (limited['wasi:cli/stdout']!.getStdout as () => { writeZeroes(n: bigint): void })();
    expect(caught(() => stdout.writeZeroes(2n ** 40n))).toMatchObject({ tag: 'last-operation-failed' });
  });

  it('never leaves the tree: parent paths, absolute paths and outward symlinks', () => {
    expect(caught(() => root.openAt({}, '../secret.txt', {}, { read: true }))).toBe('not-permitted');
    expect(caught(() => root.openAt({}, 'pkg/../../secret.txt', {}, { read: true }))).toBe('not-permitted');
    expect(caught(() => root.openAt({}, '/etc/passwd', {}, { read: true }))).toBe('not-permitted');
    expect(caught(() => root.openAt({}, 'escape', {}, { read: true }))).toBe('not-permitted');
    expect(caught(() => root.statAt({ symlinkFollow: true }, 'escape'))).toBe('not-permitted');
  });

  it('follows symlinks that stay inside the tree', () => {
    const [bytes] = root.openAt({}, 'inside', {}, { read: true }).read(100n, 0n);
    expect(new TextDecoder().decode(bytes)).toBe('VALUE = 42\n');
  });

  it('reports missing files as no-entry', () => {
    expect(caught(() => root.openAt({}, 'pkg/missing.py', {}, { read: true }))).toBe('no-entry');
  });
});

describe('what else the guest gets', () => {
  const imports = createWasiImports({ preopens: [], stdout: { write: () => {} }, stderr: { write: () => {} } });

  it('has no environment, no arguments, no working directory and no preopens', () => {
    const env = imports['wasi:cli/environment']!;
    expect((env.getEnvironment as () => unknown[])()).toEqual([]);
    expect((env.getArguments as () => unknown[])()).toEqual([]);
    expect((env.initialCwd as () => unknown)()).toBeUndefined();
    expect((imports['wasi:filesystem/preopens']!.getDirectories as () => unknown[])()).toEqual([]);
  });

  it('has no sockets or HTTP', () => {
    expect(Object.keys(imports).filter((name) => /sockets|http/.test(name))).toEqual([]);
  });

  it('has working randomness and clocks', () => {
    const random = imports['wasi:random/random']!;
    const a = (random.getRandomBytes as (n: bigint) => Uint8Array)(32n);
    const b = (random.getRandomBytes as (n: bigint) => Uint8Array)(32n);
    expect(a.length).toBe(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const { seconds } = (imports['wasi:clocks/wall-clock']!.now as () => { seconds: bigint })();
    expect(Number(seconds)).toBeCloseTo(Date.now() / 1000, -1);
  });
});
