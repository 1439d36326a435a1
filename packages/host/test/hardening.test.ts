/**
 * The sandbox boundary under hostile input, through the public API against the real guests:
 * guest-controlled numbers reaching the WASI layer, limits the engine cannot honour, deep
 * values, oversized error messages, and a guest that replaces the functions it relies on.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import {
  GuestError,
  InvalidOptionsError,
  MAX_MEMORY_LIMIT_BYTES,
  MAX_TIMEOUT_MS,
  TimeoutError,
  createSandbox,
  type Sandbox,
} from '../dist/index.js';

/** Deeper than Node's JSON.stringify can serialise on a main thread's stack (about 4000). */
const DEEP = 20_000;
/** About the deepest value the JavaScript guest's own JSON.stringify serialises. */
const JS_DEPTH = 300;

async function guestError(call: Promise<unknown>): Promise<string> {
  const error = await call.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GuestError);
  return (error as GuestError).guestMessage;
}

/** Depth of nested single-element arrays, walked without recursion. */
function depthOf(value: unknown): number {
  let depth = 0;
  for (let v = value; Array.isArray(v); v = v[0]) depth += 1;
  return depth;
}

describe('guest-controlled numbers in the WASI layer (Python)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ guest: pythonGuest });
    await sandbox.exec('import os');
  });
  afterAll(() => sandbox.close());

  it('reads end of file at offsets past 2^53, on a stream and positioned', async () => {
    await sandbox.exec('fd = os.open("/python/os.py", os.O_RDONLY)');
    expect((await sandbox.eval('os.lseek(fd, 2**53, 0) and len(os.read(fd, 5))')).value).toBe(0);
    expect((await sandbox.eval('os.lseek(fd, 2**63 - 1, 0) and len(os.read(fd, 5))')).value).toBe(0);
    expect((await sandbox.eval('len(os.pread(fd, 5, 2**62))')).value).toBe(0);
    await sandbox.exec('f = open("/python/os.py", "rb")\nf.seek(2**62)\ntail = f.read()');
    expect((await sandbox.eval('len(tail)')).value).toBe(0);
    expect((await sandbox.eval('open("/python/os.py").read(3)')).value).toBe('r""');
  });

  it('gives sizes and timestamps the guest can use', async () => {
    expect((await sandbox.eval('os.stat("/python/os.py").st_size > 1000')).value).toBe(true);
    expect((await sandbox.eval('os.stat("/python/os.py").st_mtime > 0')).value).toBe(true);
  });

  it('holds no host file descriptor for the files a guest keeps open', async () => {
    // Counted by what they point at: other threads of this process open descriptors of their own.
    const osPyDescriptors = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith('/os.py');
        } catch {
          return false; // closed since the listing
        }
      }).length;
    await sandbox.exec('kept = [open("/python/os.py", "rb", buffering=0) for _ in range(100)]');
    expect((await sandbox.eval('sum(len(f.read(10)) for f in kept)')).value).toBe(1000);
    expect(osPyDescriptors()).toBe(0);
    await sandbox.exec('del kept');
  });

  it('turns a huge sleep into the time limit, not a crash', async () => {
    await using short = await createSandbox({ guest: pythonGuest, timeoutMs: 1000 });
    await expect(short.exec('import time; time.sleep(10**7)')).rejects.toBeInstanceOf(TimeoutError);
  });

  it('refuses more random bytes than memory holds inside the guest, sandbox intact', async () => {
    expect(await guestError(sandbox.eval('len(os.urandom(2**30))'))).toBe('MemoryError');
    expect((await sandbox.eval('len(os.urandom(100_000))')).value).toBe(100_000);
  });
});

describe('limits the engine cannot honour', () => {
  it('refuses a time limit above 2^31-1 ms, and accepts exactly that', async () => {
    const error = await createSandbox({ guest: pythonGuest, timeoutMs: 2 ** 31 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toMatch(/timeoutMs 2147483648 is above .* 2147483647 ms/);
    await using longest = await createSandbox({ guest: javascriptGuest, timeoutMs: MAX_TIMEOUT_MS });
    expect((await longest.exec('var slow = 0; for (let i = 0; i < 1e6; i++) slow += i')).durationMs).toBeGreaterThan(0);
    expect((await longest.eval('slow')).value).toBe(499999500000);
  });

  it('refuses a memory limit above 4 GiB as an options error, and accepts 4 GiB', async () => {
    const error = await createSandbox({
      guest: javascriptGuest,
      memoryLimitBytes: MAX_MEMORY_LIMIT_BYTES + 65536,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toMatch(/above 4294967296 \(4 GiB/);
    await using largest = await createSandbox({ guest: javascriptGuest, memoryLimitBytes: MAX_MEMORY_LIMIT_BYTES });
    expect(largest.limits.memoryLimitPages).toBe(65536);
    expect((await largest.eval('1 + 1')).value).toBe(2);
  });

  it('still refuses a limit below the guest initial memory', async () => {
    await expect(createSandbox({ guest: pythonGuest, memoryLimitBytes: 65536 })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
  });
});

describe('deep values', () => {
  it('come back intact from JavaScript, as JSON text and as a value', async () => {
    await using sandbox = await createSandbox({ guest: javascriptGuest });
    await sandbox.exec(`var deep = []; for (let i = 1; i < ${JS_DEPTH}; i++) deep = [deep]`);
    const result = await sandbox.eval('deep');
    expect(result.json).toBe('['.repeat(JS_DEPTH) + ']'.repeat(JS_DEPTH));
    expect(depthOf(result.value)).toBe(JS_DEPTH);
    const report = await sandbox.run('eval', 'deep');
    expect(report.status).toBe('ok');
    expect(report.json).toHaveLength(2 * JS_DEPTH);
    // Far deeper than the engine's own JSON.stringify goes (a few hundred levels): still intact,
    // and exactly the text JSON.stringify would give (members without JSON left out, cycles refused).
    await sandbox.exec('var mixed = []; for (let i = 0; i < 5000; i++) mixed = [mixed, { u: undefined, n: NaN }]');
    const mixed = await sandbox.eval('mixed');
    expect(mixed.json).toBe('['.repeat(5001) + ']' + ',{"n":null}]'.repeat(5000));
    await sandbox.exec('mixed[0][0].push(mixed)');
    expect(await guestError(sandbox.eval('mixed'))).toBe('TypeError: cyclic object value');
    expect((await sandbox.eval('mixed.length')).value).toBe(2);
  });

  it('come back intact from Python at its default recursion limit, past the C encoder', async () => {
    await using sandbox = await createSandbox({ guest: pythonGuest });
    await sandbox.exec(`deep = []\nfor _ in range(${DEEP - 1}): deep = [deep]`);
    const report = await sandbox.run('eval', 'deep');
    expect(report.status).toBe('ok');
    expect(report.json).toBe('['.repeat(DEEP) + ']'.repeat(DEEP));
    // What no JSON can hold is still the error json.dumps gives, at any depth.
    await sandbox.exec('deep[0] = [deep]');
    expect(await guestError(sandbox.eval('deep'))).toBe('ValueError: Circular reference detected');
    expect((await sandbox.eval('len(deep)')).value).toBe(1);
  });

  it('come back intact from Python above its recursion limit, 20,000 deep', async () => {
    await using sandbox = await createSandbox({ guest: pythonGuest });
    await sandbox.exec(
      `import sys\nsys.setrecursionlimit(100_000)\ndeep = []\nfor _ in range(${DEEP - 1}): deep = [deep]`,
    );
    const result = await sandbox.eval('deep');
    expect(result.json).toBe('['.repeat(DEEP) + ']'.repeat(DEEP));
    expect(depthOf(result.value)).toBe(DEEP);
    const report = await sandbox.run('eval', 'deep');
    expect(report.json).toHaveLength(2 * DEEP);
  });
});

describe('a JavaScript guest that replaces what the guest relies on', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ guest: javascriptGuest });
  });
  afterAll(() => sandbox.close());

  it('still returns real JSON when JSON.stringify throws, lies or returns undefined', async () => {
    await sandbox.exec('JSON.stringify = () => { throw 1 }');
    expect((await sandbox.eval('({ a: [1, 2] })')).value).toEqual({ a: [1, 2] });
    await sandbox.exec('JSON.stringify = () => "not json"');
    expect((await sandbox.eval('[3]')).json).toBe('[3]');
    await sandbox.exec('JSON.stringify = () => undefined');
    expect((await sandbox.eval('"s"')).value).toBe('s');
    expect(await guestError(sandbox.eval('undefined'))).toMatch(/^TypeError: .*not JSON serializable/);
  });

  it('reports a thrown value whose description throws, and stays usable', async () => {
    const message = await guestError(sandbox.exec('throw { toJSON() { throw 1 }, toString() { throw 2 } }'));
    expect(message).toMatch(/^(Uncaught|Error): /);
    expect((await sandbox.eval('1')).value).toBe(1);
  });
});

describe('APIs the JavaScript sandbox does not have', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ guest: javascriptGuest });
  });
  afterAll(() => sandbox.close());

  it('raise a TypeError instead of killing the sandbox', async () => {
    expect(await guestError(sandbox.exec('fetch("https://example.com")'))).toBe(
      'TypeError: fetch is not available in the sandbox',
    );
    expect(await guestError(sandbox.exec('import("./x.js")'))).toBe(
      'TypeError: import() is not available in the sandbox',
    );
    expect(await guestError(sandbox.eval('setTimeout(() => 1, 0)'))).toBe(
      'TypeError: setTimeout is not available in the sandbox',
    );
    expect(await guestError(sandbox.eval('setInterval(() => 1, 10)'))).toBe(
      'TypeError: setInterval is not available in the sandbox',
    );
    expect(sandbox.state).toBe('ready');
  });

  it('catches import() where it runs, and leaves lookalikes alone', async () => {
    await sandbox.exec('var caught; try { import("x") } catch (e) { caught = e.message }');
    expect((await sandbox.eval('caught')).value).toBe('import() is not available in the sandbox');
    expect((await sandbox.eval('"import(x)" + `import(${1})`')).value).toBe('import(x)import(1)');
    expect((await sandbox.eval('({ import(x) { return x * 2 } }).import(21)')).value).toBe(42);
    expect((await sandbox.eval('typeof function () { return import("never called") }')).value).toBe('function');
  });

  it('runs microtasks before the call returns', async () => {
    await sandbox.exec(
      'var order = []; queueMicrotask(() => order.push("micro")); Promise.resolve().then(() => order.push("then")); order.push("sync")',
    );
    expect((await sandbox.eval('order')).value).toEqual(['sync', 'micro', 'then']);
  });
});

describe('error messages', () => {
  it('are capped like output, with a marker', async () => {
    await using sandbox = await createSandbox({ guest: pythonGuest });
    const message = await guestError(sandbox.exec('raise ValueError("x" * (2 * 1024 * 1024))'));
    expect(Buffer.byteLength(message)).toBeLessThan(1024 * 1024 + 200);
    expect(message).toMatch(/^ValueError: x+\.\.\. \[message truncated: \d+ of \d+ bytes not shown\]$/);
    expect((await sandbox.eval('1')).value).toBe(1);
  });

  it('follow outputLimitBytes, in JavaScript too', async () => {
    await using sandbox = await createSandbox({ guest: javascriptGuest, outputLimitBytes: 1000 });
    const message = await guestError(sandbox.exec('throw new Error("é".repeat(100000))'));
    expect(message.startsWith('Error: éé')).toBe(true);
    expect(Buffer.byteLength(message)).toBeLessThan(1100);
    expect(message).toMatch(/\[message truncated: \d+ of 200007 bytes not shown\]$/);
  });
});

describe('dynamic import() in code the JavaScript guest builds at run time', () => {
  it('is a TypeError from eval, Function and the async and generator constructors; the sandbox lives', async () => {
    await using sandbox = await createSandbox({ guest: javascriptGuest });
    const attempts = {
      eval: 'eval("import(\\"x\\")")',
      Function: 'Function("return import(\\"x\\")")()',
      AsyncFunction: '(async function () {}).constructor("return import(\\"x\\")")()',
      GeneratorFunction: '(function* () {}).constructor("yield import(\\"x\\")")().next()',
    };
    for (const [name, code] of Object.entries(attempts)) {
      await sandbox.exec(
        `var outcome = 'ran'; try { Promise.resolve(${code}).catch((e) => { outcome = String(e) }) } catch (e) { outcome = String(e) }`,
      );
      expect((await sandbox.eval('outcome')).value, name).toBe('TypeError: import() is not available in the sandbox');
    }
    expect((await sandbox.eval('new Function("a", "return a * 2")(21)')).value).toBe(42);
  });
});
