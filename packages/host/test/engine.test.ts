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
    const restored = await restoreSandbox(await source.snapshot(), {
      guest: pythonGuest,
      memoryLimitBytes: 20 * 1024 * 1024,
    });
    open.push(restored);
    const result = await restored.run('exec', 'big = bytes(100 * 1024 * 1024)');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('MemoryError');
    expect((await restored.eval('keep')).value).toEqual([1, 2, 3]);
  });

  it('of another artifact are refused with a clear error', async () => {
    const source = await sandbox(javascriptGuest);
    const bytes = await source.snapshot();
    const error = await restoreSandbox(bytes, { guest: pythonGuest }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/another guest artifact/);
    const garbage = await restoreSandbox(new Uint8Array([1, 2, 3]), { guest: pythonGuest }).catch((e: unknown) => e);
    expect(garbage).toBeInstanceOf(InvalidInputError);
  });

  it('of a sandbox just reset (no changed memory block) restore to a fresh sandbox', async () => {
    for (const guest of [pythonGuest, javascriptGuest]) {
      const source = await sandbox(guest);
      await source.exec(guest === pythonGuest ? 'before = 1' : 'var before = 1');
      await source.reset();
      const restored = await restoreSandbox(await source.snapshot(), { guest });
      open.push(restored);
      const check = guest === pythonGuest ? "'before' in globals()" : "typeof before === 'undefined'";
      expect((await restored.eval(check)).value).toBe(guest !== pythonGuest);
    }
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
  // Whether a neighbour waits is shown by order, not by a clock (the bench measures the ms):
  // every one of its calls is answered while the runaway or the sleeper still holds its thread.
  it('does not make other sandboxes wait for it', async () => {
    const runaway = await sandbox(pythonGuest, 5000);
    const neighbour = await sandbox();
    await neighbour.exec('x = 1');
    let stuckEnded = false;
    const stuck = runaway.run('exec', 'while True: pass').finally(() => (stuckEnded = true));
    for (let i = 0; i < 20; i += 1) expect((await neighbour.eval('x + 1')).value).toBe(2);
    expect(stuckEnded).toBe(false);
    expect((await stuck).status).toBe('timeout');
  });

  it('sleeping does not make other sandboxes wait either', async () => {
    const sleeper = await sandbox(pythonGuest, 10_000);
    const neighbour = await sandbox();
    let slept = false;
    const sleeping = sleeper.run('exec', 'import time\ntime.sleep(4)').finally(() => (slept = true));
    for (let i = 0; i < 20; i += 1) expect((await neighbour.eval('1 + 1')).value).toBe(2);
    expect(slept).toBe(false);
    expect((await sleeping).status).toBe('ok');
  }, 20_000);
});

describe('a timeout', () => {
  it('interrupts Python code and keeps the session: finally blocks run, globals survive', async () => {
    const session = await sandbox(pythonGuest, 300);
    await session.exec('x = 41\ncleaned = False');
    const result = await session.run('exec', 'try:\n    while True: pass\nfinally:\n    cleaned = True');
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('ready');
    expect(session.state).toBe('ready');
    expect((await session.eval('x + 1')).value).toBe(42);
    expect((await session.eval('cleaned')).value).toBe(true);
  });

  it("comes from the host, not the guest's text: a user's own KeyboardInterrupt is an ordinary error", async () => {
    const session = await sandbox(pythonGuest, 2000);
    const result = await session.run('exec', 'raise KeyboardInterrupt("mine")');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('KeyboardInterrupt');
  });

  it('stops code that catches the interrupt and runs on, hard, and only that sandbox dies', async () => {
    const session = await sandbox(pythonGuest, 300);
    const neighbour = await sandbox();
    await neighbour.exec('kept = "yes"');
    const result = await session.run(
      'exec',
      'while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass',
    );
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('dead');
    expect((await neighbour.eval('kept')).value).toBe('yes');
  });

  it('stops a C-level runaway hard, while sandboxes on the same executors keep answering with their state', async () => {
    const session = await sandbox(pythonGuest, 300);
    const neighbours = await Promise.all([sandbox(), sandbox(), sandbox()]);
    await Promise.all(neighbours.map((n, i) => n.exec(`mine = ${i}`)));
    const started = performance.now();
    const result = await session.run('exec', 'sum(range(10**12))');
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('dead');
    expect(performance.now() - started).toBeLessThan(300 + 1000);
    for (const [i, n] of neighbours.entries()) expect((await n.eval('mine')).value).toBe(i);
  });

  it('stops a JavaScript runaway through the same checks', async () => {
    const session = await sandbox(javascriptGuest, 300);
    const result = await session.run('exec', 'while (true) {}');
    expect(result.status).toBe('timeout');
    expect(session.state).toBe('dead');
    await session.reset();
    expect((await session.eval('1 + 1')).value).toBe(2);
  });

  it('wakes a sleeping guest at the deadline', async () => {
    const session = await sandbox(pythonGuest, 200);
    await session.exec('import time\nz = 7');
    const started = performance.now();
    const result = await session.run('exec', 'time.sleep(30)');
    expect(result.status).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await session.eval('z')).value).toBe(7);
  });

  it('ten thousand interrupted timeouts in a loop leave memory flat', { timeout: 300_000 }, async () => {
    const session = await sandbox(pythonGuest);
    // The first call also builds the instance, which no soft stop can interrupt: not in 2 ms.
    expect((await session.run('exec', 'x = 1')).sandbox).toBe('ready');
    const rounds = async (n: number) => {
      for (let i = 0; i < n; i += 1) {
        expect((await session.run('exec', 'while True: x += 1', { timeoutMs: 2 })).sandbox).toBe('ready');
      }
    };
    await rounds(500);
    const before = process.memoryUsage().rss;
    await rounds(10_000);
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    expect(session.state).toBe('ready');
  });
});
