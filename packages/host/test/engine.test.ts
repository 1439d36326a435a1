/**
 * The engine with real guests: state kept across an interrupted timeout, snapshots restored
 * in another process, forks, and neighbours unaffected by a runaway.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import { InvalidInputError, createSandbox, restoreSandbox, type Sandbox } from '../dist/index.js';

const open: Sandbox[] = [];
async function sandbox(guest = pythonGuest, timeoutMs = 5000): Promise<Sandbox> {
  const created = await createSandbox({ guest, timeoutMs });
  open.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

describe('snapshots', () => {
  it('restore the same globals in a new process', async () => {
    const source = await sandbox();
    await source.exec('import json\ncounter = {"n": 41}\ndef bump():\n    counter["n"] += 1\n    return counter["n"]');
    const bytes = await source.snapshot();
    expect(bytes.length).toBeLessThan(256 * 1024);
    const dir = await mkdtemp(join(tmpdir(), 'snapshot-'));
    await writeFile(join(dir, 'state.bin'), bytes);
    const script = `
      import { readFileSync } from 'node:fs';
      import { restoreSandbox } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const sandbox = await restoreSandbox(readFileSync(${JSON.stringify(join(dir, 'state.bin'))}), { guest: ${JSON.stringify(pythonGuest)} });
      const { value } = await sandbox.eval('bump()');
      console.log(JSON.stringify(value));
      await sandbox.close();`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('42');
  });

  it('keep the memory limit: the restored sandbox gets MemoryError at its limit and lives on', async () => {
    const source = await sandbox();
    await source.exec('keep = [1, 2, 3]');
    const restored = await restoreSandbox(await source.snapshot(), { guest: pythonGuest, memoryLimitBytes: 20 * 1024 * 1024 });
    open.push(restored);
    const result = await restored.run('exec', 'big = bytes(100 * 1024 * 1024)');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('MemoryError');
    expect((await restored.eval('keep')).value).toEqual([1, 2, 3]);
  });

  it("of another artifact are refused with a clear error", async () => {
    const source = await sandbox(javascriptGuest);
    const bytes = await source.snapshot();
    const error = await restoreSandbox(bytes, { guest: pythonGuest }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/another guest artifact/);
    const garbage = await restoreSandbox(new Uint8Array([1, 2, 3]), { guest: pythonGuest }).catch((e: unknown) => e);
    expect(garbage).toBeInstanceOf(InvalidInputError);
  });
});

describe('fork', () => {
  it('starts from the parent and then diverges from it', async () => {
    const parent = await sandbox();
    await parent.exec('items = ["a"]');
    const child = await parent.fork();
    open.push(child);
    await child.exec('items.append("child")');
    await parent.exec('items.append("parent")');
    expect((await child.eval('items')).value).toEqual(['a', 'child']);
    expect((await parent.eval('items')).value).toEqual(['a', 'parent']);
  });

  it('works for JavaScript too', async () => {
    const parent = await sandbox(javascriptGuest);
    await parent.exec('globalThis.n = 1');
    const child = await parent.fork();
    open.push(child);
    await child.exec('n += 10');
    expect((await child.eval('n')).value).toBe(11);
    expect((await parent.eval('n')).value).toBe(1);
  });
});

describe('a runaway', () => {
  it('does not delay other sandboxes by more than a few ms', async () => {
    const runaway = await sandbox(pythonGuest, 1500);
    const neighbour = await sandbox();
    await neighbour.exec('x = 1');
    const stuck = runaway.run('exec', 'while True: pass');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const delays: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const started = performance.now();
      expect((await neighbour.eval('x + 1')).value).toBe(2);
      delays.push(performance.now() - started);
    }
    delays.sort((a, b) => a - b);
    expect(delays[Math.floor(delays.length * 0.9)]).toBeLessThan(50);
    expect((await stuck).status).toBe('timeout');
  });

  it('sleeping does not delay other sandboxes either', async () => {
    const sleeper = await sandbox(pythonGuest, 3000);
    const neighbour = await sandbox();
    const sleeping = sleeper.run('exec', 'import time\ntime.sleep(1)');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    expect((await neighbour.eval('1 + 1')).value).toBe(2);
    expect(performance.now() - started).toBeLessThan(100);
    expect((await sleeping).status).toBe('ok');
  });
});
