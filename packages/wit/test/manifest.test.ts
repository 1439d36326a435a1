import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTRACT_VERSION, manifestSchema, witDir } from '../src/index.js';

const valid = {
  schemaVersion: 1,
  language: 'python',
  world: 'sandbox',
  contractVersion: '0.1.0',
  backend: 'cpython-wasi',
  glue: 'sandbox.js',
  coreModules: [{ file: 'sandbox.core.wasm', sha256: 'a'.repeat(64), definedMemoryInitialPages: 160 }],
  initialMemoryPages: 160,
  imports: ['wasi:cli/stdout'],
  readOnlyTrees: [{ guestPath: '/python', dir: 'tree0' }],
  toolchain: {},
};

describe('the guest manifest schema', () => {
  it('accepts a complete manifest', () => {
    expect(manifestSchema.parse(valid)).toEqual(valid);
  });

  it('refuses paths that leave the artifact', () => {
    expect(manifestSchema.safeParse({ ...valid, glue: '../evil.js' }).success).toBe(false);
    const outside = { ...valid, readOnlyTrees: [{ guestPath: '/python', dir: '/etc' }] };
    expect(manifestSchema.safeParse(outside).success).toBe(false);
  });

  it('refuses unknown fields and other worlds', () => {
    expect(manifestSchema.safeParse({ ...valid, extra: 1 }).success).toBe(false);
    expect(manifestSchema.safeParse({ ...valid, world: 'other' }).success).toBe(false);
  });
});

describe('the contract package', () => {
  it('ships the WIT and reads its version from it', () => {
    expect(existsSync(`${witDir}/sandbox.wit`)).toBe(true);
    expect(CONTRACT_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
