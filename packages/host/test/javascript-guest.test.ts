import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir } from '@component-sandbox/guest-javascript';
import {
  ArtifactError,
  GuestError,
  InvalidInputError,
  InvalidOptionsError,
  SandboxBusyError,
  SandboxClosedError,
  SandboxDeadError,
  TimeoutError,
  UnsupportedImportError,
  createSandbox,
  createSandboxPool,
  type Sandbox,
} from '../dist/index.js';

describe('a JavaScript sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ guest: artifactDir });
  });
  afterAll(() => sandbox.close());

  it('evaluates an expression to its JSON value', async () => {
    const result = await sandbox.eval('2 + 2');
    expect(result.value).toBe(4);
    expect(result.json).toBe('4');
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('keeps globals between calls', async () => {
    await sandbox.exec('var counter = 40; function bump() { return ++counter; }');
    await sandbox.exec('bump()');
    expect((await sandbox.eval('bump()')).value).toBe(42);
  });

  it('returns structured values decoded', async () => {
    expect((await sandbox.eval('({ a: [1, "two", null], b: true })')).value).toEqual({ a: [1, 'two', null], b: true });
  });

  it('captures stdout and stderr per call, never sharing them between calls', async () => {
    const first = await sandbox.exec('console.log("out", 1); console.error("err", 2)');
    expect(first.stdout).toBe('out 1\n');
    expect(first.stderr).toBe('err 2\n');
    const second = await sandbox.eval('3');
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe('');
  });

  it('reports guest errors as Name: message and keeps the sandbox usable', async () => {
    await sandbox.exec('var kept = "still here"');
    const error = await sandbox.eval('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestError);
    expect((error as GuestError).guestMessage).toBe('ReferenceError: nope is not defined');
    expect((error as GuestError).guestType).toBe('ReferenceError');
    expect((await sandbox.eval('kept')).value).toBe('still here');
  });

  it('treats a value with no JSON form as an error, not undefined', async () => {
    await expect(sandbox.eval('undefined')).rejects.toThrow(/TypeError: .*not JSON serializable/);
    await expect(sandbox.eval('() => 1')).rejects.toBeInstanceOf(GuestError);
  });

  it('keeps output printed before a guest error', async () => {
    const error = (await sandbox
      .exec('console.log("before"); throw new RangeError("boom")')
      .catch((e) => e)) as GuestError;
    expect(error.guestMessage).toBe('RangeError: boom');
    expect(error.output.stdout).toBe('before\n');
  });

  it('sees no environment, arguments or host files', async () => {
    // StarlingMonkey exposes no process/fs; the guest's view of the world is what WASI gives it.
    expect((await sandbox.eval('typeof process')).value).toBe('undefined');
    expect((await sandbox.eval('typeof require')).value).toBe('undefined');
  });

  it('refuses code that is not a string, with a typed error', async () => {
    await expect(sandbox.eval(42 as unknown as string)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(sandbox.exec(undefined as unknown as string)).rejects.toBeInstanceOf(InvalidInputError);
    expect((await sandbox.eval('1')).value).toBe(1);
  });

  it('runs concurrent calls one at a time, in call order', async () => {
    await sandbox.exec('var log = []');
    const calls = [1, 2, 3, 4].map((n) => sandbox.exec(`log.push(${n})`));
    await Promise.all(calls);
    expect((await sandbox.eval('log')).value).toEqual([1, 2, 3, 4]);
  });
});

describe('limits', () => {
  it('stops a runaway call at its time limit; other sandboxes keep working', async () => {
    await using runaway = await createSandbox({ guest: artifactDir, timeoutMs: 1000 });
    await using neighbour = await createSandbox({ guest: artifactDir });
    const started = performance.now();
    const stopped = runaway.exec('while (true) {}').catch((e: unknown) => e);
    expect((await neighbour.eval('"alive"')).value).toBe('alive');
    const error = await stopped;
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(runaway.state).toBe('dead');
    const next = await runaway.eval('1').catch((e: unknown) => e);
    expect(next).toBeInstanceOf(SandboxDeadError);
    expect((next as Error).message).toMatch(/time limit/);
    expect((await neighbour.eval('1 + 1')).value).toBe(2);
  });

  it('fails queued calls when the running one times out', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, timeoutMs: 500 });
    const runaway = sandbox.exec('for (;;) {}').catch((e: unknown) => e);
    const queued = sandbox.eval('1').catch((e: unknown) => e);
    expect(await runaway).toBeInstanceOf(TimeoutError);
    expect(await queued).toBeInstanceOf(SandboxDeadError);
  });

  it('can be reset after a timeout, with fresh globals', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, timeoutMs: 500 });
    await sandbox.exec('var before = 1');
    await expect(sandbox.exec('while (true) {}')).rejects.toBeInstanceOf(TimeoutError);
    await sandbox.reset();
    expect(sandbox.state).toBe('ready');
    expect((await sandbox.eval('typeof before')).value).toBe('undefined');
  });

  it('keeps guest memory under the limit: a huge allocation fails and the host survives', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, memoryLimitBytes: 20 * 1024 * 1024 });
    const error = await sandbox
      .exec('var chunks = []; for (let i = 0; i < 100; i++) chunks.push(new Uint8Array(1024 * 1024).fill(i));')
      .catch((e: unknown) => e);
    // SpiderMonkey either throws a catchable out-of-memory error or traps; both are typed.
    expect(['GUEST_ERROR', 'MEMORY_LIMIT']).toContain((error as { code?: string }).code);
    if (error instanceof GuestError) expect(error.guestMessage).toMatch(/memory|allocation/i);
    await using fresh = await createSandbox({ guest: artifactDir });
    expect((await fresh.eval('2 + 2')).value).toBe(4);
  });

  it('allows the same allocation under a higher limit', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, memoryLimitBytes: 256 * 1024 * 1024 });
    await sandbox.exec(
      'var chunks = []; for (let i = 0; i < 100; i++) chunks.push(new Uint8Array(1024 * 1024).fill(i));',
    );
    expect((await sandbox.eval('chunks.length')).value).toBe(100);
  });

  it('refuses a memory limit below the guest initial memory, naming both numbers', async () => {
    const error = await createSandbox({ guest: artifactDir, memoryLimitBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toMatch(/1048576/);
    expect((error as Error).message).toMatch(/initial memory of \d+ bytes/);
  });

  it('refuses nonsense limits', async () => {
    await expect(createSandbox({ guest: artifactDir, timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(createSandbox({ guest: artifactDir, timeoutMs: 1.5 })).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('refuses code above the size limit', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, maxCodeBytes: 100 });
    await expect(sandbox.eval(`"${'x'.repeat(200)}"`)).rejects.toBeInstanceOf(InvalidInputError);
    expect((await sandbox.eval('1')).value).toBe(1);
  });

  it('refuses calls past the queue limit', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, maxQueuedCalls: 2, timeoutMs: 2000 });
    const calls = Array.from({ length: 5 }, (_, i) => sandbox.eval(`${i}`).catch((e: unknown) => e));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r instanceof SandboxBusyError).length).toBeGreaterThan(0);
    expect(results.filter((r) => !(r instanceof Error)).length).toBeGreaterThanOrEqual(3);
  });

  it('caps captured output per call', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, outputLimitBytes: 1000 });
    const result = await sandbox.exec('for (let i = 0; i < 500; i++) console.log("0123456789")');
    expect(result.outputTruncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(1000);
  });
});

describe('closing', () => {
  it('refuses calls on a closed sandbox', async () => {
    const sandbox = await createSandbox({ guest: artifactDir });
    await sandbox.close();
    await sandbox.close();
    expect(sandbox.state).toBe('closed');
    await expect(sandbox.eval('1')).rejects.toBeInstanceOf(SandboxClosedError);
  });
});

describe('artifacts', () => {
  let copy: string;
  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'sandbox-artifact-'));
  });
  afterAll(() => rm(copy, { recursive: true, force: true }));

  it('loads an artifact copied outside any package', async () => {
    const dir = join(copy, 'relocated');
    await cp(artifactDir, dir, { recursive: true });
    await using sandbox = await createSandbox({ guest: dir });
    expect((await sandbox.eval('6 * 7')).value).toBe(42);
  });

  it('refuses a missing artifact', async () => {
    await expect(createSandbox({ guest: join(copy, 'nothing-here') })).rejects.toBeInstanceOf(ArtifactError);
  });

  it('refuses a corrupt core module', async () => {
    const dir = join(copy, 'corrupt');
    await cp(artifactDir, dir, { recursive: true });
    const file = join(dir, 'sandbox.core.wasm');
    const bytes = await readFile(file);
    const at = bytes.length - 10;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(file, bytes);
    const error = await createSandbox({ guest: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactError);
    expect((error as Error).message).toMatch(/corrupt/);
  });

  it('refuses a manifest that is not valid', async () => {
    const dir = join(copy, 'bad-manifest');
    await cp(artifactDir, dir, { recursive: true });
    await writeFile(join(dir, 'manifest.json'), '{"schemaVersion": 1}');
    await expect(createSandbox({ guest: dir })).rejects.toThrow(/not a valid guest manifest/);
  });

  it('refuses a component that imports something the host does not grant, naming it', async () => {
    const dir = join(copy, 'sockets');
    await cp(artifactDir, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    manifest.imports.push('wasi:sockets/tcp');
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const error = await createSandbox({ guest: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedImportError);
    expect((error as Error).message).toMatch(/wasi:sockets\/tcp/);
  });
});

describe('a pool of warm sandboxes', () => {
  it('hands over fresh, independent sandboxes and refills itself', async () => {
    await using pool = await createSandboxPool({ guest: artifactDir, size: 2 });
    expect(pool.idle).toBe(2);
    await using first = await pool.acquire();
    await using second = await pool.acquire();
    await first.exec('var mine = "first"');
    expect((await second.eval('typeof mine')).value).toBe('undefined');
    await expect.poll(() => pool.idle, { timeout: 10_000 }).toBe(2);
    await using third = await pool.acquire();
    expect((await third.eval('typeof mine')).value).toBe('undefined');
  });

  it('keeps the pool limits for every sandbox it hands out', async () => {
    await using pool = await createSandboxPool({ guest: artifactDir, size: 1, timeoutMs: 300 });
    await using sandbox = await pool.acquire();
    await expect(sandbox.exec('while (true) {}')).rejects.toBeInstanceOf(TimeoutError);
  });

  it('refuses acquire after close', async () => {
    const pool = await createSandboxPool({ guest: artifactDir, size: 1 });
    await pool.close();
    await expect(pool.acquire()).rejects.toBeInstanceOf(SandboxClosedError);
  });
});
