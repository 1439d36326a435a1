import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir } from '@component-sandbox/guest-python';
import { GuestError, TimeoutError, createSandbox, type Sandbox } from '../dist/index.js';

const MiB = 1024 * 1024;
const PAGE = 65536;

async function guestError(call: Promise<unknown>): Promise<string> {
  const error = await call.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GuestError);
  return (error as GuestError).guestMessage;
}

describe('a Python sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ guest: artifactDir });
  });
  afterAll(() => sandbox.close());

  it('runs the reference examples', async () => {
    expect((await sandbox.eval('2 + 2')).value).toBe(4);
    await sandbox.exec('global foo\ndef foo(): return 42');
    expect((await sandbox.eval('foo()')).value).toBe(42);
  });

  it('returns JSON values, and refuses values with no JSON form', async () => {
    expect((await sandbox.eval('{"a": [1, 2.5, None, True], "b": "é"}')).value).toEqual({
      a: [1, 2.5, null, true],
      b: 'é',
    });
    expect(await guestError(sandbox.eval('object()'))).toBe(
      'TypeError: Object of type object is not JSON serializable',
    );
    expect(await guestError(sandbox.eval('float("nan")'))).toMatch(/^ValueError: Out of range float values/);
  });

  it('reports errors as ExcType: message', async () => {
    expect(await guestError(sandbox.eval('x_undefined'))).toBe("NameError: name 'x_undefined' is not defined");
    expect(await guestError(sandbox.exec('raise KeyError()'))).toBe('KeyError');
    expect(await guestError(sandbox.exec('1 +'))).toMatch(/^SyntaxError: /);
  });

  it('never exits: SystemExit and KeyboardInterrupt are errors, and globals survive them', async () => {
    await sandbox.exec('kept = "yes"');
    expect(await guestError(sandbox.exec('raise SystemExit(3)'))).toBe('SystemExit: 3');
    expect(await guestError(sandbox.exec('import sys; sys.exit(0)'))).toBe('SystemExit: 0');
    expect(await guestError(sandbox.exec('raise KeyboardInterrupt'))).toBe('KeyboardInterrupt');
    expect((await sandbox.eval('kept')).value).toBe('yes');
  });

  it('captures print output per call', async () => {
    const result = await sandbox.exec('import sys\nprint("hi")\nprint("warn", file=sys.stderr)');
    expect(result.stdout).toBe('hi\n');
    expect(result.stderr).toBe('warn\n');
    expect((await sandbox.eval('1')).stdout).toBe('');
  });

  it('survives MemoryError with its globals', async () => {
    await sandbox.exec('survivor = [1, 2, 3]');
    expect(await guestError(sandbox.exec('global foo\nfoo = bytes(100 * 1024 * 1024)'))).toBe('MemoryError');
    expect(await guestError(sandbox.exec('grow = []\nwhile True: grow.append(bytearray(60000))'))).toBe('MemoryError');
    await sandbox.exec('del grow');
    expect((await sandbox.eval('sum(survivor)')).value).toBe(6);
    expect((await sandbox.eval('len(bytes(1024 * 1024))')).value).toBe(MiB);
  });

  it('survives RecursionError with its globals', async () => {
    await sandbox.exec('def down(n): return down(n + 1)');
    expect(await guestError(sandbox.eval('down(0)'))).toBe('RecursionError: maximum recursion depth exceeded');
    expect((await sandbox.eval('sum(survivor)')).value).toBe(6);
  });

  it('imports pure-Python stdlib modules from the read-only tree', async () => {
    await sandbox.exec(
      'import statistics, fractions, decimal, datetime, zoneinfo, dataclasses, re, collections, ' +
        'json, csv, textwrap, itertools, functools, heapq, bisect, string, enum, typing, pathlib, uuid',
    );
    const value = (
      await sandbox.eval(
        '[statistics.median([3, 1, 2]), str(fractions.Fraction(1, 3) * 3), str(decimal.Decimal("1.10") + decimal.Decimal("2.2")), ' +
          'datetime.date(2024, 2, 29).isoformat(), re.sub(r"\\d", "#", "a1b2"), collections.Counter("abca").most_common(1)[0][0]]',
      )
    ).value;
    expect(value).toEqual([2, '1', '3.30', '2024-02-29', 'a#b#', 'a']);
  });

  it('sleeps without failing', async () => {
    const result = await sandbox.exec('import time; time.sleep(0.05)');
    expect(result.durationMs).toBeGreaterThanOrEqual(45);
  });

  it('can read its stdlib but write nothing, anywhere', async () => {
    expect((await sandbox.eval('open("/python/os.py").read(3)')).value).toBe('r""');
    expect(await guestError(sandbox.exec('open("/python/os.py", "w")'))).toMatch(/^OSError: .*Read-only file system/);
    expect(await guestError(sandbox.exec('open("/python/new.txt", "x")'))).toMatch(/^OSError: .*Read-only file system/);
    expect(await guestError(sandbox.exec('import os; os.remove("/python/os.py")'))).toMatch(/^OSError: /);
    expect(await guestError(sandbox.exec('import os; os.mkdir("/python/x")'))).toMatch(/^OSError: /);
    expect(await guestError(sandbox.exec('open("/x", "w")'))).toMatch(/^OSError: .*Read-only file system/);
    expect(await guestError(sandbox.exec('open("/app/guest.py", "a")'))).toMatch(/^OSError: .*Read-only file system/);
    // Only the sandbox's own scratch directory takes writes.
    await sandbox.exec('open("/tmp/x", "w").write("x")');
    expect((await sandbox.eval('open("/tmp/x").read()')).value).toBe('x');
  });

  it('sees no host path: not /etc/passwd, not /, not the artifact directory', async () => {
    expect(await guestError(sandbox.eval('open("/etc/passwd").read()'))).toMatch(
      /^(PermissionError|FileNotFoundError): /,
    );
    // `/` lists only the guest's own mounts, never the host's root.
    expect((await sandbox.eval('sorted(__import__("os").listdir("/"))')).value).toEqual([
      'app',
      'python',
      'tmp',
      'usr',
    ]);
    expect(await guestError(sandbox.eval(`open(${JSON.stringify(`${artifactDir}/manifest.json`)}).read()`))).toMatch(
      /^(PermissionError|FileNotFoundError): /,
    );
    expect(await guestError(sandbox.eval('open("/python/../../etc/passwd").read()'))).toMatch(
      /^(PermissionError|FileNotFoundError): /,
    );
  });

  it('has no environment, no subprocesses, no sockets', async () => {
    expect((await sandbox.eval('dict(__import__("os").environ)')).value).toEqual({});
    expect(await guestError(sandbox.exec('import subprocess; subprocess.run(["ls"])'))).toMatch(/^OSError: /);
    expect(await guestError(sandbox.exec('import socket; socket.socket()'))).toMatch(/^OSError: /);
  });
});

describe('the call path', () => {
  it('returns each call its own reply over thousands of back-to-back calls', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir });
    for (let i = 0; i < 5000; i++) {
      const { value } = await sandbox.eval(`${i} + 1`);
      if (value !== i + 1) expect.fail(`call ${i} got ${JSON.stringify(value)}`);
    }
  });

  it('carries code and output bigger than the shared buffer', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, outputLimitBytes: 4 * MiB });
    const big = 'x'.repeat(600_000);
    expect((await sandbox.eval(`len("${big}")`)).value).toBe(600_000);
    const printed = await sandbox.exec('print("y" * 700_000)');
    expect(printed.stdout.length).toBe(700_001);
    expect((await sandbox.eval('"z" * 500_000')).value).toHaveLength(500_000);
  });
});

describe('process lifetime', () => {
  it('lets the process exit with a sandbox left open, after its last call finishes', () => {
    const script = `
      import { createSandbox } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const sandbox = await createSandbox({ guest: ${JSON.stringify(artifactDir)} });
      await sandbox.exec('import time; time.sleep(0.3)');
      console.log((await sandbox.eval('6 * 7')).value);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stdout.trim()).toBe('42');
    expect(result.status).toBe(0);
  });
});

describe('process lifetime with a pool', () => {
  it('keeps the process alive while a pool warms up, and lets it exit afterwards', () => {
    const script = `
      import { createSandboxPool } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const pool = await createSandboxPool({ guest: ${JSON.stringify(artifactDir)}, size: 2 });
      const sandbox = await pool.acquire();
      console.log((await sandbox.eval('6 * 7')).value);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stdout.trim()).toBe('42');
    expect(result.status).toBe(0);
  });
});

describe('Python sandboxes together', () => {
  it('draw different random numbers', async () => {
    await using first = await createSandbox({ guest: artifactDir });
    await using second = await createSandbox({ guest: artifactDir });
    const a = (await first.eval('__import__("random").random()')).value;
    const b = (await second.eval('__import__("random").random()')).value;
    expect(typeof a).toBe('number');
    expect(a).not.toBe(b);
  });

  it('do not share globals', async () => {
    await using first = await createSandbox({ guest: artifactDir });
    await using second = await createSandbox({ guest: artifactDir });
    await first.exec('secret = 1');
    expect(await guestError(second.eval('secret'))).toBe("NameError: name 'secret' is not defined");
  });

  it("one sandbox's timeout does not disturb another's calls", async () => {
    await using runaway = await createSandbox({ guest: artifactDir, timeoutMs: 1500 });
    await using neighbour = await createSandbox({ guest: artifactDir });
    await neighbour.exec('count = 0');
    const stopped = runaway.exec('while True: pass').catch((e: unknown) => e);
    for (let i = 0; i < 20; i++) await neighbour.exec('count += 1');
    expect((await neighbour.eval('count')).value).toBe(20);
    expect(await stopped).toBeInstanceOf(TimeoutError);
    // Interrupted at a bytecode boundary, the runaway keeps its session too.
    expect((await runaway.eval('1')).value).toBe(1);
    expect((await neighbour.eval('count')).value).toBe(20);
  });
});

describe('the memory limit', () => {
  /** Fills memory with small blocks until MemoryError; returns the guest memory size then. */
  async function fillUntilMemoryError(sandbox: Sandbox): Promise<number> {
    const message = await guestError(sandbox.exec('blocks = []\nwhile True: blocks.append(bytearray(16000))'));
    expect(message).toBe('MemoryError');
    const { memoryBytes } = await sandbox.exec('del blocks');
    return memoryBytes;
  }

  it('holds at 20 MiB by default, to the page', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir });
    const reached = await fillUntilMemoryError(sandbox);
    expect(reached).toBeLessThanOrEqual(20 * MiB);
    expect(reached).toBeGreaterThan(20 * MiB - 4 * PAGE);
  });

  it('rounds a limit that is not a whole number of pages down to the page', async () => {
    const limit = 24 * MiB + PAGE + 1000;
    await using sandbox = await createSandbox({ guest: artifactDir, memoryLimitBytes: limit });
    expect(sandbox.limits.memoryLimitBytes).toBe(24 * MiB + PAGE);
    const reached = await fillUntilMemoryError(sandbox);
    expect(reached).toBeLessThanOrEqual(24 * MiB + PAGE);
    expect(reached).toBeGreaterThan(24 * MiB + PAGE - 4 * PAGE);
  });

  it('lets a bigger limit hold what the default refuses', async () => {
    await using sandbox = await createSandbox({ guest: artifactDir, memoryLimitBytes: 160 * MiB });
    await sandbox.exec('global foo\nfoo = bytes(100 * 1024 * 1024)');
    expect((await sandbox.eval('foo[42]')).value).toBe(0);
  });
});

describe('many memory limits in one process', () => {
  it('keeps working when more limits are used than compiled sets are cached', async () => {
    for (let extra = 0; extra < 10; extra++) {
      await using sandbox = await createSandbox({ guest: artifactDir, memoryLimitBytes: (20 + extra) * MiB });
      expect(sandbox.limits.memoryLimitBytes).toBe((20 + extra) * MiB);
      expect((await sandbox.eval('2 + 2')).value).toBe(4);
    }
    await using again = await createSandbox({ guest: artifactDir, memoryLimitBytes: 20 * MiB });
    expect((await again.eval('1')).value).toBe(1);
  });
});
