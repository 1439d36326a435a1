import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsFor } from '../src/index.js';
import { componentizePyInvocation, findOnPath } from '../src/backends/componentize-py.js';

describe('the componentize-py backend', () => {
  it("runs the reference demo's command line", () => {
    const invocation = componentizePyInvocation({ witDir: '/repo/wit', world: 'sandbox', workDir: '/tmp/work' });
    expect(invocation).toEqual({
      command: 'componentize-py',
      args: ['-d', '/repo/wit', '-w', 'sandbox', 'componentize', 'guest', '-o', '/tmp/work/sandbox.wasm'],
      cwd: '/tmp/work',
    });
  });

  describe('finding the tool', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'path-'));
      await writeFile(join(dir, 'componentize-py'), '#!/bin/sh\n');
      await chmod(join(dir, 'componentize-py'), 0o755);
      await writeFile(join(dir, 'not-executable'), '');
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('finds an executable on PATH and nothing else', async () => {
      expect(await findOnPath('componentize-py', `/nonexistent:${dir}`)).toBe(join(dir, 'componentize-py'));
      expect(await findOnPath('not-executable', dir)).toBeUndefined();
      expect(await findOnPath('componentize-py', '/nonexistent')).toBeUndefined();
    });
  });

  it('comes first for Python, before the cpython-wasi fallback', () => {
    expect(backendsFor('python').map((b) => b.name)).toEqual(['componentize-py', 'cpython-wasi']);
    expect(backendsFor('javascript').map((b) => b.name)).toEqual(['componentize-js']);
  });
});

const hasComponentizePy = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'componentize-py')));

describe.skipIf(!hasComponentizePy)(
  'componentize-py integration (runs only where componentize-py is installed)',
  () => {
    it('builds guest.py into an artifact', async () => {
      const { buildGuest } = await import('../src/index.js');
      const out = await mkdtemp(join(tmpdir(), 'cpy-'));
      const { manifest } = await buildGuest({
        source: new URL('../../../guest/python/guest.py', import.meta.url).pathname,
        language: 'python',
        backend: 'componentize-py',
        outDir: join(out, 'artifact'),
      });
      expect(manifest.backend).toBe('componentize-py');
      await rm(out, { recursive: true, force: true });
    });
  },
);
