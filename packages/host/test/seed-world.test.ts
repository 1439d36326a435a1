/**
 * A component built for the seed world `sandbox` (eval and exec, no host import, no run) still
 * runs on this host, next to the host-functions machinery; it simply gets no functions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGuest } from '@component-sandbox/guest-build';
import { UnsupportedCallError, createSandbox, type Sandbox } from '../dist/index.js';

let dir: string;
let box: Sandbox;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seed-world-'));
  const { manifest } = await buildGuest({
    source: fileURLToPath(new URL('./fixtures/seed-world-guest.js', import.meta.url)),
    language: 'javascript',
    world: 'sandbox',
    outDir: join(dir, 'artifact'),
  });
  expect(manifest.world).toBe('sandbox');
  expect(manifest.imports).not.toContain('component-sandbox:sandbox/host');
  box = await createSandbox({ guest: join(dir, 'artifact'), functions: { add: (a: number, b: number) => a + b } });
}, 300_000);
afterAll(async () => {
  await box?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a component built for world sandbox', () => {
  it('runs exec and eval, keeping its globals', async () => {
    await box.exec('var x = 20');
    expect((await box.eval('x * 2 + 2')).value).toBe(42);
    const error = await box.run('eval', 'nope');
    expect(error.status).toBe('eval_error');
    expect(error.error?.message).toBe('ReferenceError: nope is not defined');
  });

  it('gets no functions', async () => {
    expect((await box.eval('typeof add')).value).toBe('undefined');
  });

  it('has no cells: run is refused before it reaches the guest, and the sandbox lives on', async () => {
    await expect(box.run('1 + 1')).rejects.toBeInstanceOf(UnsupportedCallError);
    expect((await box.eval('x')).value).toBe(20);
  });
});
