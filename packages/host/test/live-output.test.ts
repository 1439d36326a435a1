/**
 * Live output (`onStdout` / `onStderr`) and cancel (`signal`) with the real Python and
 * JavaScript guests. No timing: a chunk proves it arrived live by aborting a call that would
 * otherwise run until its (long) time limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import { CancelledError, createSandbox, type Sandbox } from '../dist/index.js';

const LONG = 60_000;

let py: Sandbox;
beforeAll(async () => {
  py = await createSandbox({ guest: pythonGuest, timeoutMs: LONG });
});
afterAll(async () => {
  await py?.close();
});

/** Runs `code`, aborting it once its first stdout chunk arrives. */
async function cancelAfterFirstChunk(box: Sandbox, kind: 'exec' | 'eval', code: string) {
  const controller = new AbortController();
  const chunks: string[] = [];
  let endedBeforeFirstChunk: boolean | undefined;
  let ended = false;
  const call = box.run(kind, code, {
    signal: controller.signal,
    onStdout: (chunk) => {
      chunks.push(chunk);
      endedBeforeFirstChunk ??= ended;
      controller.abort();
    },
  });
  const result = await call.finally(() => (ended = true));
  return { result, chunks, endedBeforeFirstChunk };
}

describe('live output, Python', () => {
  it('delivers a chunk printed before a sleep while the call still runs', async () => {
    const chunks: string[] = [];
    let ended = false;
    let seenWhileRunning = false;
    const call = py.run('exec', 'import time\nprint("a", flush=True)\ntime.sleep(0.5)\nprint("b")', {
      onStdout: (chunk) => {
        chunks.push(chunk);
        if (chunk.startsWith('a') && !ended) seenWhileRunning = true;
      },
    });
    const result = await call.finally(() => (ended = true));
    expect(result.status).toBe('ok');
    expect(seenWhileRunning).toBe(true);
    expect(chunks.join('')).toBe(result.stdout);
    expect(result.stdout).toBe('a\nb\n');
  });

  it('delivers output before the call ends: a runaway is stopped from its first chunk', async () => {
    await using box = await createSandbox({ guest: pythonGuest, timeoutMs: LONG });
    const { result, chunks, endedBeforeFirstChunk } = await cancelAfterFirstChunk(
      box,
      'exec',
      'print("start", flush=True)\nwhile True: pass',
    );
    expect(endedBeforeFirstChunk).toBe(false);
    expect(result.status).toBe('cancelled');
    expect(result.error?.type).toBe('Cancelled');
    expect(chunks.join('')).toBe(result.stdout);
    expect(result.stdout).toBe('start\n');
  });

  it('keeps the session globals after a cancel the soft stop caught', async () => {
    // A sandbox of its own: should a very busy machine miss the soft stop, only this test fails.
    await using box = await createSandbox({ guest: pythonGuest, timeoutMs: LONG });
    await box.exec('x = 41');
    const { result } = await cancelAfterFirstChunk(box, 'exec', 'print(1)\nwhile True: x = 41');
    expect(result.status).toBe('cancelled');
    expect(result.sandbox).toBe('ready');
    expect((await box.eval('x + 1')).value).toBe(42);
  });

  it('concatenates to stdout and stderr, in order, also when the output cap cuts it', async () => {
    await using box = await createSandbox({ guest: pythonGuest, outputLimitBytes: 1000 });
    const out: string[] = [];
    const err: string[] = [];
    const result = await box.run(
      'exec',
      'import sys, time\nfor i in range(300):\n    print(f"line {i} é☃", flush=True)\n    if i % 50 == 0: time.sleep(0.001)\n    print(i, file=sys.stderr)',
      { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) },
    );
    expect(result.status).toBe('ok');
    expect(result.outputTruncated).toBe(true);
    expect(out.join('')).toBe(result.stdout);
    expect(err.join('')).toBe(result.stderr);
    expect(result.stdout.startsWith('line 0 é☃\nline 1 é☃\n')).toBe(true);
  });

  it('ignores a callback that throws', async () => {
    const result = await py.run('exec', 'print("hi", flush=True)\nimport time\ntime.sleep(0.01)\nprint("there")', {
      onStdout: () => {
        throw new Error('listener bug');
      },
    });
    expect(result.status).toBe('ok');
    expect(result.stdout).toBe('hi\nthere\n');
    expect((await py.eval('1 + 1')).value).toBe(2);
  });

  it('cancels a C-level runaway hard: the sandbox is dead', async () => {
    await using box = await createSandbox({ guest: pythonGuest, timeoutMs: LONG });
    // map, print and any are C: no bytecode runs between the prints, so the soft stop cannot land.
    const { result } = await cancelAfterFirstChunk(box, 'exec', 'any(map(print, range(10**12)))');
    expect(result.status).toBe('cancelled');
    expect(result.sandbox).toBe('dead');
    expect(box.state).toBe('dead');
  });

  it('never starts a call whose signal is already aborted, and drops an aborted queued call', async () => {
    await py.exec('runs = 0');
    const result = await py.run('exec', 'runs += 1', { signal: AbortSignal.abort() });
    expect(result.status).toBe('cancelled');
    expect(result.sandbox).toBe('ready');
    const controller = new AbortController();
    let firstDone = false;
    const first = py.run('exec', 'import time\ntime.sleep(0.3)').finally(() => (firstDone = true));
    const queued = py.run('exec', 'runs += 1', { signal: controller.signal });
    controller.abort();
    // Dropped at once: answered while the call before it still runs.
    expect((await queued).status).toBe('cancelled');
    expect(firstDone).toBe(false);
    expect((await first).status).toBe('ok');
    expect((await py.eval('runs')).value).toBe(0);
  });

  it('exec throws CancelledError', async () => {
    await expect(py.exec('x = 1', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('live output, JavaScript', () => {
  it('delivers output before the call ends, and a cancelled runaway leaves a dead sandbox', async () => {
    await using box = await createSandbox({ guest: javascriptGuest, timeoutMs: LONG });
    const { result, chunks, endedBeforeFirstChunk } = await cancelAfterFirstChunk(
      box,
      'exec',
      'console.log("start"); for (;;) {}',
    );
    expect(endedBeforeFirstChunk).toBe(false);
    expect(result.status).toBe('cancelled');
    expect(result.sandbox).toBe('dead');
    expect(chunks.join('')).toBe(result.stdout);
    expect(result.stdout.startsWith('start')).toBe(true);
  });

  it('concatenates chunks to stdout', async () => {
    await using box = await createSandbox({ guest: javascriptGuest });
    const chunks: string[] = [];
    const result = await box.run('exec', 'for (let i = 0; i < 100; i++) console.log("n" + i)', {
      onStdout: (c) => chunks.push(c),
    });
    expect(result.status).toBe('ok');
    expect(chunks.join('')).toBe(result.stdout);
    expect(result.stdout.split('\n')).toHaveLength(101);
  });
});
