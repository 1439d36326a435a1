/**
 * Host functions with the real guests, in both languages: closures (on this thread) and a
 * functions module (its synchronous functions on the executor), sync and async, throwing,
 * never settling, called in a loop up to the cap; values as JSON, bytes included.
 */
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import {
  InvalidOptionsError,
  createSandbox,
  inspectFunctions,
  restoreSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../dist/index.js';

const toolsModule = new URL('./fixtures/tools.mjs', import.meta.url);

const open: Sandbox[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

async function sandbox(options: SandboxOptions): Promise<Sandbox> {
  const created = await createSandbox(options);
  open.push(created);
  return created;
}

/** What differs between the languages: how to catch a HostError, loop, and reach `host`. */
const languages = [
  {
    language: 'python',
    guest: pythonGuest,
    viaModule: (call: string) => `__import__("host").${call}`,
    catchHostError: (call: string) =>
      `import host\ntry:\n    ${call}\n    caught = None\nexcept host.HostError as e:\n    caught = [type(e).__name__, str(e)]`,
    loop: (n: number) => `total = 0\nfor i in range(${n}):\n    total = add(total, 1)`,
    bytes: 'echo(b"\\x00\\x01\\xff", bytearray(b"ab"))',
    bytesBack: 'list(blob())',
    bytesType: 'type(blob()).__name__',
    kwargs: 'echo(1, "a", (2, 3), flag=True)',
    nan: 'echo(float("nan"))',
  },
  {
    language: 'javascript',
    guest: javascriptGuest,
    viaModule: (call: string) => `host.${call}`,
    catchHostError: (call: string) =>
      `var caught = null; try { ${call} } catch (e) { caught = e instanceof HostError ? [e.name, e.message] : String(e) }`,
    loop: (n: number) => `var total = 0; for (let i = 0; i < ${n}; i++) total = add(total, 1)`,
    bytes: 'echo(new Uint8Array([0, 1, 255]), new TextEncoder().encode("ab"))',
    bytesBack: 'Array.from(blob())',
    bytesType: 'blob().constructor.name',
    kwargs: 'echo(1, "a", [2, 3], { flag: true })',
    nan: 'echo(NaN)',
  },
] as const;

describe.each(languages)('host functions in $language', (lang) => {
  it('call a synchronous closure as a global and through `host`, on the caller’s thread', async () => {
    const box = await sandbox({
      guest: lang.guest,
      functions: { add: (a: number, b: number) => a + b, thread: () => threadId },
    });
    expect((await box.eval('add(2, 3)')).value).toBe(5);
    expect((await box.eval(lang.viaModule('add(40, 2)'))).value).toBe(42);
    expect((await box.eval('thread()')).value).toBe(threadId);
    expect(box.functions).toEqual([
      { name: 'add', runsOn: 'caller' },
      { name: 'thread', runsOn: 'caller' },
    ]);
  });

  it('block the guest until an async function settles', async () => {
    const box = await sandbox({
      guest: lang.guest,
      functions: {
        slowly: async (x: number) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          return { doubled: 2 * x, when: 'later' };
        },
      },
    });
    expect((await box.eval('slowly(21)')).value).toEqual({ doubled: 42, when: 'later' });
  });

  it('raise HostError with the message only, and the sandbox keeps its state', async () => {
    const box = await sandbox({
      guest: lang.guest,
      functions: {
        fails: () => {
          throw new RangeError('the host says no');
        },
        rejects: async () => {
          throw new Error('rejected later');
        },
      },
    });
    await box.exec(lang.catchHostError('fails()'));
    expect((await box.eval('caught')).value).toEqual(['HostError', 'the host says no']);
    await box.exec(lang.catchHostError('rejects()'));
    expect((await box.eval('caught')).value).toEqual(['HostError', 'rejected later']);
    const uncaught = await box.run('eval', 'fails()');
    expect(uncaught.status).toBe('eval_error');
    expect(uncaught.error?.type).toBe('HostError');
    expect(uncaught.error?.message).toBe('HostError: the host says no');
    // The host's stack never reaches the guest.
    expect(JSON.stringify(uncaught)).not.toMatch(/host-functions\.test|\bat .*:\d+:\d+/);
    expect(uncaught.sandbox).toBe('ready');
  });

  it('end a call whose host function never settles in a timeout, softly: the sandbox keeps its globals', async () => {
    let settledLate = false;
    const box = await sandbox({
      guest: lang.guest,
      timeoutMs: 500,
      functions: {
        never: () => new Promise(() => {}),
        late: () =>
          new Promise((resolve) =>
            setTimeout(() => {
              settledLate = true;
              resolve('too late');
            }, 800),
          ),
        add: (a: number, b: number) => a + b,
      },
    });
    await box.exec(lang.language === 'python' ? 'kept = 7' : 'var kept = 7');
    const result = await box.run('exec', 'never()');
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('ready');
    expect((await box.eval('add(kept, 1)')).value).toBe(8);
    // A function that settles after the deadline: its result is dropped, the next call is clean.
    expect((await box.run('eval', 'late()')).status).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settledLate).toBe(true);
    expect((await box.eval('add(1, 1)')).value).toBe(2);
  });

  it('are called in a tight loop up to maxHostCalls; past it, HostError and the host is not called', async () => {
    let calls = 0;
    const box = await sandbox({
      guest: lang.guest,
      maxHostCalls: 200,
      functions: {
        add: (a: number, b: number) => {
          calls += 1;
          return a + b;
        },
      },
    });
    await box.exec(lang.loop(200));
    expect((await box.eval('total')).value).toBe(200);
    expect(calls).toBe(200);
    calls = 0;
    const over = await box.run('exec', lang.loop(1000));
    expect(over.status).toBe('exec_error');
    expect(over.error?.type).toBe('HostError');
    expect(over.error?.message).toContain('maxHostCalls');
    expect(calls).toBe(200);
    // The cap is per call: the next one may call again.
    expect((await box.eval('add(1, 2)')).value).toBe(3);
  });

  it('run a functions module: synchronous functions on the executor, async ones on the caller', async () => {
    const box = await sandbox({ guest: lang.guest, functionsModule: toolsModule });
    expect(box.functions).toEqual([
      { name: 'double', runsOn: 'executor' },
      { name: 'fails', runsOn: 'executor' },
      { name: 'sneakyPromise', runsOn: 'executor' },
      { name: 'whereAsync', runsOn: 'caller' },
      { name: 'whereSync', runsOn: 'executor' },
    ]);
    expect((await box.eval('double(21)')).value).toBe(42);
    const executorThread = (await box.eval('whereSync()')).value;
    expect(executorThread).not.toBe(threadId);
    expect((await box.eval('whereAsync()')).value).toBe(threadId);
    await box.exec(lang.catchHostError('fails()'));
    expect((await box.eval('caught')).value).toEqual(['HostError', 'the module says no']);
    await box.exec(lang.catchHostError('sneakyPromise()'));
    const [type, message] = (await box.eval('caught')).value as [string, string];
    expect(type).toBe('HostError');
    expect(message).toContain('declare it `async`');
  });

  it('pass values as JSON: bytes both ways, sequences as arrays, keyword arguments last', async () => {
    let received: unknown[] = [];
    const box = await sandbox({
      guest: lang.guest,
      functions: {
        echo: (...args: unknown[]) => {
          received = args;
          return args.length;
        },
        blob: () => Buffer.from([9, 8, 7]),
      },
    });
    expect((await box.eval(lang.bytes)).value).toBe(2);
    expect(received.map((b) => Buffer.from(b as Uint8Array).toString('hex'))).toEqual(['0001ff', '6162']);
    expect(received.every((b) => b instanceof Uint8Array)).toBe(true);
    expect((await box.eval(lang.bytesBack)).value).toEqual([9, 8, 7]);
    expect((await box.eval(lang.bytesType)).value).toBe(lang.language === 'python' ? 'bytes' : 'Uint8Array');
    await box.eval(lang.kwargs);
    expect(received).toEqual([1, 'a', [2, 3], { flag: true }]);
    const nan = await box.run('eval', lang.nan);
    expect(nan.status).toBe('eval_error');
    expect(nan.error?.type).toBe('TypeError');
  });

  it('refuse a result too big for the guest’s memory with a HostError; the sandbox lives', async () => {
    const box = await sandbox({ guest: lang.guest, functions: { huge: () => 'x'.repeat(64 * 1024 * 1024) } });
    const result = await box.run('eval', 'huge()');
    expect(result.status).toBe('eval_error');
    expect(result.error?.message).toMatch(/HostError: the result of huge is \d+ bytes of JSON/);
    expect(result.sandbox).toBe('ready');
  });
});

describe('host functions and the engine', () => {
  it('keep other sandboxes running while one waits on the host', async () => {
    let release: (value: string) => void = () => {};
    const waiting = await sandbox({
      guest: pythonGuest,
      timeoutMs: 60_000,
      functions: { wait: () => new Promise<string>((resolve) => (release = resolve)) },
    });
    const neighbour = await sandbox({ guest: javascriptGuest, functions: { add: (a: number, b: number) => a + b } });
    await neighbour.eval('add(0, 0)');
    const pending = waiting.eval('wait()');
    for (let i = 0; i < 5; i++) expect((await neighbour.eval(`add(${i}, 1)`)).value).toBe(i + 1);
    release('done');
    expect((await pending).value).toBe('done');
  });

  it('reinstall the offered functions in a sandbox restored with another set', async () => {
    const source = await sandbox({ guest: pythonGuest, functions: { old: () => 'old' } });
    await source.exec('mine = old()');
    const restored = await restoreSandbox(await source.snapshot(), {
      guest: pythonGuest,
      functions: { fresh: () => 'fresh' },
    });
    open.push(restored);
    expect((await restored.eval('[mine, fresh(), "old" in globals()]')).value).toEqual(['old', 'fresh', false]);
  });

  it('refuse bad functions when the sandbox is created', async () => {
    const bad: Array<[SandboxOptions['functions'], RegExp]> = [
      [{ 'not-an-identifier': () => 1 }, /not an identifier/],
      [{ class: () => 1 }, /reserved/],
      [{ __init__: () => 1 }, /reserved/],
      [{ host: () => 1 }, /reserved/],
      [{ notAFunction: 42 as unknown as () => unknown }, /is not a function/],
      [{ whereSync: () => 1 }, /both in functions and in functionsModule/],
    ];
    for (const [functions, message] of bad) {
      await expect(createSandbox({ guest: pythonGuest, functions, functionsModule: toolsModule })).rejects.toThrow(
        message,
      );
    }
    await expect(
      createSandbox({ guest: pythonGuest, functionsModule: new URL('./fixtures/missing.mjs', import.meta.url) }),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(createSandbox({ guest: pythonGuest, maxHostCalls: 0 })).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('list a module’s functions before any sandbox exists', async () => {
    expect(await inspectFunctions({ functionsModule: toolsModule.pathname })).toEqual([
      { name: 'double', runsOn: 'executor' },
      { name: 'fails', runsOn: 'executor' },
      { name: 'sneakyPromise', runsOn: 'executor' },
      { name: 'whereAsync', runsOn: 'caller' },
      { name: 'whereSync', runsOn: 'executor' },
    ]);
  });
});
