/**
 * In-process sandboxes with the real guests: calls run on this thread and return at once, and
 * the thread's watchdog still stops them at their deadline: softly (Python keeps its globals)
 * or hard (the sandbox is lost, reset() brings it back). Limits, files and host functions as in
 * the engine's sandboxes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import {
  GuestError,
  InvalidOptionsError,
  SandboxClosedError,
  SandboxDeadError,
  createInProcessSandbox,
  type InProcessSandbox,
  type InProcessSandboxOptions,
} from '../dist/index.js';

const open: InProcessSandbox[] = [];
afterAll(() => {
  for (const sandbox of open) sandbox.close();
});

async function sandbox(options: Partial<InProcessSandboxOptions> = {}): Promise<InProcessSandbox> {
  const created = await createInProcessSandbox({ guest: pythonGuest, timeoutMs: 5000, ...options });
  open.push(created);
  return created;
}

describe('in-process sandbox', () => {
  it('evaluates, keeps globals between calls, and reports guest errors as data', async () => {
    const python = await sandbox();
    expect(python.eval('2 + 2').value).toBe(4);
    python.exec('global foo\ndef foo(): return 42');
    expect(python.eval('foo()').value).toBe(42);
    const failed = python.run('exec', 'def f():\n    raise ValueError("bad value")\nf()');
    expect(failed.status).toBe('exec_error');
    expect(failed.error?.message).toBe('ValueError: bad value');
    expect(failed.error?.traceback).toMatch(/line 2, in f/);
    expect(() => python.exec('1/0')).toThrow(GuestError);
    expect(python.run('x = 6 * 7\nx').value).toBe(42);
  });

  it('stops a Python runaway at its deadline and keeps the globals', async () => {
    const python = await sandbox({ timeoutMs: 300 });
    python.exec('x = 41');
    const started = performance.now();
    const result = python.run('exec', 'try:\n    while True: pass\nfinally:\n    cleaned = True');
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('ready');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(python.eval('[x + 1, cleaned]').value).toEqual([42, true]);
  });

  it('wakes a sleeping guest at its deadline', async () => {
    const python = await sandbox();
    const started = performance.now();
    const result = python.run('exec', 'import time\ntime.sleep(30)', { timeoutMs: 200 });
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('ready');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(python.eval('1 + 1').value).toBe(2);
  });

  it('stops a C-level runaway hard; the sandbox is dead until reset', async () => {
    const python = await sandbox({ timeoutMs: 300 });
    python.exec('x = 1');
    const result = python.run('exec', 'sum(range(10**12))');
    expect(result.status).toBe('timeout');
    expect(result.sandbox).toBe('dead');
    expect(python.state).toBe('dead');
    expect(() => python.eval('x')).toThrow(SandboxDeadError);
    python.reset();
    expect(python.run('eval', 'x').error?.type).toBe('NameError');
    expect(python.eval('2 + 2').value).toBe(4);
  });

  it('stops a JavaScript runaway', async () => {
    const javascript = await sandbox({ guest: javascriptGuest, timeoutMs: 300 });
    const result = javascript.run('exec', 'for (;;) {}');
    expect(result.status).toBe('timeout');
    javascript.reset();
    expect(javascript.eval('6 * 7').value).toBe(42);
  });

  it('holds the memory limit: MemoryError in the guest, the sandbox lives on', async () => {
    const python = await sandbox({ memoryLimitBytes: 20 * 1024 * 1024 });
    const result = python.run('exec', 'foo = bytes(100 * 1024 * 1024)');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('MemoryError');
    expect(result.memoryBytes).toBeLessThanOrEqual(20 * 1024 * 1024);
    expect(python.eval('len(bytes(1024))').value).toBe(1024);
  });

  it('shares /tmp with the host between calls', async () => {
    const python = await sandbox();
    python.writeFile('/tmp/in.txt', 'hello');
    python.exec("data = open('/tmp/in.txt').read()\nopen('/tmp/out.txt', 'w').write(data.upper())");
    expect(new TextDecoder().decode(python.readFile('/tmp/out.txt'))).toBe('HELLO');
    expect(python.listFiles().map((entry) => entry.name)).toEqual(['in.txt', 'out.txt']);
    expect(python.eval('data').value).toBe('hello');
  });

  it('delivers output as it is written, and keeps it in the result', async () => {
    const python = await sandbox();
    const chunks: string[] = [];
    const result = python.run('exec', 'print("one")\nprint("two")', { onStdout: (chunk) => chunks.push(chunk) });
    expect(chunks.join('')).toBe('one\ntwo\n');
    expect(result.stdout).toBe('one\ntwo\n');
  });

  it('calls synchronous host functions, and refuses what this thread cannot do', async () => {
    const self: { sandbox?: InProcessSandbox } = {};
    const python = await sandbox({
      functions: {
        add: (a: number, b: number) => a + b,
        later: async () => 1,
        reenter: () => self.sandbox!.eval('1'),
      },
    });
    self.sandbox = python;
    expect(python.eval('add(40, 2)').value).toBe(42);
    const catching = (call: string) =>
      `import host\ntry:\n    ${call}\n    caught = None\nexcept host.HostError as e:\n    caught = str(e)`;
    python.exec(catching('later()'));
    expect(python.eval('caught').value).toMatch(/returned a promise.*createSandbox/);
    python.exec(catching('reenter()'));
    expect(python.eval('caught').value).toMatch(/already running on this thread/);
  });

  it('keeps a sandbox as it is while its own call runs a host function', async () => {
    const self: { sandbox?: InProcessSandbox } = {};
    const python = await sandbox({
      functions: {
        reset: () => self.sandbox!.reset(),
        write: () => self.sandbox!.writeFile('/tmp/x', 'x'),
        close: () => self.sandbox!.close(),
      },
    });
    self.sandbox = python;
    python.exec('kept = 1');
    for (const call of ['reset()', 'write()']) {
      const result = python.run('exec', call);
      expect(result.error?.message).toMatch(/call is running/);
    }
    expect(python.eval('kept').value).toBe(1);
    const closing = python.run('exec', 'close()\nafter = 2');
    expect(closing.status).toBe('ok');
    expect(closing.sandbox).toBe('closed');
    expect(() => python.eval('after')).toThrow(SandboxClosedError);
  });

  it('refuses misuse with typed errors', async () => {
    await expect(createInProcessSandbox({ guest: pythonGuest, parkIdleMs: 5 } as never)).rejects.toThrow(
      InvalidOptionsError,
    );
    const python = await sandbox();
    python.close();
    expect(() => python.eval('1')).toThrow(SandboxClosedError);
    python.close();
  });
});

describe('in-process sandbox on a thread with a guest stack', () => {
  it('handles C-level recursion 20,000 deep as the engine does', async () => {
    const { Worker } = await import('node:worker_threads');
    const source = `
      import { parentPort } from 'node:worker_threads';
      const { createInProcessSandbox } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const sandbox = await createInProcessSandbox({ guest: ${JSON.stringify(pythonGuest)} });
      sandbox.exec('deep = []\\nfor _ in range(19999): deep = [deep]');
      const result = sandbox.run('eval', 'deep');
      parentPort.postMessage({ status: result.status, length: result.json?.length });
      sandbox.close();
    `;
    const { GUEST_THREAD_STACK_MB } = await import('../dist/index.js');
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
      resourceLimits: { stackSizeMb: GUEST_THREAD_STACK_MB },
    });
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(answer).toEqual({ status: 'ok', length: 40_000 });
  });
});
