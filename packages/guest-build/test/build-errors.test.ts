import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestBuildError, buildGuest } from '../src/index.js';

describe('guest build errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'guest-build-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestBuildError);
    return (error as GuestBuildError).code;
  }

  it('names a missing source file', async () => {
    const missing = join(dir, 'missing.js');
    const error = await buildGuest({ source: missing, language: 'javascript', outDir: join(dir, 'out') }).catch(
      (e) => e,
    );
    expect(error.code).toBe('SOURCE_NOT_FOUND');
    expect(error.message).toContain(missing);
  });

  it('refuses a WIT directory without world sandbox', async () => {
    const wit = join(dir, 'wit');
    await mkdir(wit);
    await writeFile(join(wit, 'other.wit'), 'package test:other;\nworld other { export run: func(); }\n');
    const source = join(dir, 'guest.js');
    await writeFile(source, 'export function run() {}\n');
    expect(await codeOf(buildGuest({ source, language: 'javascript', outDir: join(dir, 'out'), witDir: wit }))).toBe(
      'WORLD_NOT_FOUND',
    );
  });

  it('refuses a WIT that does not parse', async () => {
    const wit = join(dir, 'broken-wit');
    await mkdir(wit);
    await writeFile(join(wit, 'broken.wit'), 'world sandbox { this is not wit }\n');
    const source = join(dir, 'guest.js');
    expect(await codeOf(buildGuest({ source, language: 'javascript', outDir: join(dir, 'out'), witDir: wit }))).toBe(
      'WIT_INVALID',
    );
  });

  it('reports a guest that fails to componentize, and writes no artifact', async () => {
    const source = join(dir, 'broken.js');
    await writeFile(source, 'export function exec( {\n');
    const outDir = join(dir, 'never');
    const error = await buildGuest({ source, language: 'javascript', outDir }).catch((e) => e);
    expect(error).toBeInstanceOf(GuestBuildError);
    expect(error.code).toBe('COMPONENTIZE_FAILED');
    expect(error.message).toContain(source);
    await expect(import('node:fs/promises').then((fs) => fs.stat(outDir))).rejects.toThrow();
  });

  it('refuses an unknown backend', async () => {
    const source = join(dir, 'guest.js');
    expect(await codeOf(buildGuest({ source, language: 'javascript', outDir: join(dir, 'out'), backend: 'gcc' }))).toBe(
      'UNKNOWN_BACKEND',
    );
  });
});
