/**
 * Parking with real guests: an idle sandbox gives up its memory for its compressed snapshot and
 * is restored by its next use, with its globals, its limits and every operation intact.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import {
  InvalidOptionsError,
  SandboxClosedError,
  createSandbox,
  restoreSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../dist/index.js';

const MiB = 1024 * 1024;
const open: Sandbox[] = [];
async function sandbox(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const created = await createSandbox({ guest: pythonGuest, parkIdleMs: Infinity, ...options });
  open.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

/** Polls until `sandbox.parked` is true; fails after `limitMs` (a liveness bound, not a timing check). */
async function untilParked(sandbox: Sandbox, limitMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!sandbox.parked) {
    if (Date.now() - started > limitMs) throw new Error(`not parked after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a parked sandbox', () => {
  it('is parked by its idle timer, holds only its snapshot, and answers with its globals', async () => {
    const session = await sandbox({ parkIdleMs: 50 });
    await session.exec('x = 41\ndef f():\n    return x + 1\nitems = ["a", "b"]');
    const hotBytes = session.residentBytes;
    await untilParked(session);
    expect(session.state).toBe('ready');
    expect(session.residentBytes).toBeLessThan(512 * 1024);
    expect(session.residentBytes).toBeLessThan(hotBytes / 10);
    expect((await session.eval('f()')).value).toBe(42);
    expect(session.parked).toBe(false);
    expect((await session.eval('items')).value).toEqual(['a', 'b']);
    // Idle again after those calls: parked again.
    await untilParked(session);
    expect((await session.eval('x')).value).toBe(41);
  });

  it('can be snapshotted without being restored, and the snapshot restores its state', async () => {
    const session = await sandbox();
    await session.exec('note = "kept"');
    expect(await session.park()).toBe(true);
    const bytes = await session.snapshot();
    expect(session.parked).toBe(true);
    const restored = await restoreSandbox(bytes, { guest: pythonGuest });
    open.push(restored);
    expect((await restored.eval('note')).value).toBe('kept');
    expect((await session.eval('note')).value).toBe('kept');
  });

  it('forks into a child that diverges, while the parent stays parked', async () => {
    const parent = await sandbox();
    await parent.exec('items = ["a"]');
    await parent.park();
    const child = await parent.fork();
    open.push(child);
    expect(parent.parked).toBe(true);
    await child.exec('items.append("child")');
    expect((await child.eval('items')).value).toEqual(['a', 'child']);
    expect((await parent.eval('items')).value).toEqual(['a']);
  });

  it('can be reset (globals gone) and closed', async () => {
    const session = await sandbox();
    await session.exec('gone = 1');
    await session.park();
    await session.reset();
    expect(session.parked).toBe(false);
    expect((await session.run('eval', 'gone')).error?.type).toBe('NameError');
    await session.park();
    await session.close();
    expect(session.state).toBe('closed');
    await expect(session.eval('1')).rejects.toBeInstanceOf(SandboxClosedError);
  });

  it('keeps its memory limit after it is restored: MemoryError at the limit, and it lives on', async () => {
    const session = await sandbox({ memoryLimitBytes: 20 * MiB });
    await session.exec('keep = [1, 2, 3]');
    await session.park();
    const result = await session.run('exec', 'big = bytes(100 * 1024 * 1024)');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('MemoryError');
    expect(result.memoryBytes).toBeLessThanOrEqual(20 * MiB);
    expect((await session.eval('keep')).value).toEqual([1, 2, 3]);
  });

  it('is never parked under a running call: a park waits for it, and the timer does not fire during it', async () => {
    const session = await sandbox({ parkIdleMs: 20, timeoutMs: 10_000 });
    await session.exec('import time\ncount = 0');
    const running = session.run('exec', 'time.sleep(0.3)\ncount += 1');
    const parking = session.park();
    const seen: boolean[] = [];
    const watch = setInterval(() => seen.push(session.parked), 5);
    const result = await running;
    clearInterval(watch);
    expect(result.status).toBe('ok');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((parked) => !parked)).toBe(true);
    expect(await parking).toBe(true);
    expect((await session.eval('count')).value).toBe(1);
  });

  it('works for the JavaScript guest too', async () => {
    const session = await sandbox({ guest: javascriptGuest });
    await session.exec('globalThis.n = 20');
    await session.park();
    expect(session.parked).toBe(true);
    expect((await session.eval('n * 2 + 2')).value).toBe(42);
  });
});

describe('many parked sessions', () => {
  it('300 parked sessions each answer with their own state', async () => {
    const sessions: Sandbox[] = [];
    for (let i = 0; i < 300; i += 1) {
      const session = await sandbox();
      await session.exec(`me = ${i}\nhistory = [me]`);
      // Parked at once, so that no more than one is hot at a time.
      expect(await session.park()).toBe(true);
      sessions.push(session);
    }
    expect(sessions.every((s) => s.parked)).toBe(true);
    const held = sessions.reduce((sum, s) => sum + s.residentBytes, 0);
    expect(held / sessions.length).toBeLessThan(512 * 1024);
    for (const [i, session] of sessions.entries()) {
      expect((await session.eval('(me, len(history))')).value).toEqual([i, 1]);
      await session.park();
    }
    await Promise.all(sessions.map((s) => s.close()));
  }, 300_000);
});

describe('parkIdleMs', () => {
  it('is checked: a positive whole number of ms, or Infinity', async () => {
    for (const parkIdleMs of [0, -1, 1.5, Number.NaN, 2 ** 31, '5s' as unknown as number]) {
      await expect(createSandbox({ guest: pythonGuest, parkIdleMs })).rejects.toBeInstanceOf(InvalidOptionsError);
    }
  });
});
