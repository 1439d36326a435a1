/**
 * The interrupt words a build publishes (`interrupt` in the manifest) stop a runaway call from
 * another thread without terminating the thread that runs the guest: the soft stop (CPython's
 * asynchronous exception) unwinds Python and keeps the session, the hard stop (the checks at
 * every loop header) traps the instance. Guests run in this thread on a shared memory, as the
 * round-2 host runs them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InterruptInfo } from '@component-sandbox/wit';
import { HARD_STOP_VALUE, buildGuest } from '../src/index.js';
import { instantiateShared, type SharedInstance } from './support/shared-instance.js';
import { armStopper, now, type WordWrite } from './support/stopper.js';

const pythonSource = new URL('../../../guest/python/guest.py', import.meta.url).pathname;
const javascriptSource = new URL('../../../guest/javascript/src/guest.js', import.meta.url).pathname;

/** Generous for a loaded 2-core machine; the measured latency is printed. */
const HARD_STOP_LATENCY_LIMIT_MS = 100;

function softStopWrites(python: NonNullable<InterruptInfo['python']>): WordWrite[] {
  // The exception first, then the bit: the interpreter takes async_exc when it sees the bit.
  return [
    { op: 'store', address: python.asyncExcAddress, value: python.exceptionAddress },
    { op: 'or', address: python.evalBreakerAddress, value: 1 << python.asyncExceptionBit },
  ];
}

/** What the host does after every call it tried to stop, whether or not the stop was taken. */
function clearStops(instance: SharedInstance): void {
  const words = new Int32Array(instance.memory.buffer);
  const { hardStop, python } = instance.manifest.interrupt!;
  Atomics.store(words, hardStop.address / 4, 0);
  if (python) {
    Atomics.and(words, python.evalBreakerAddress / 4, ~(1 << python.asyncExceptionBit));
    Atomics.store(words, python.asyncExcAddress / 4, 0);
  }
}

/** What `call` threw: for a guest error, its `ExcType: message` (the traceback follows U+001E). */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return typeof error === 'string' ? error.split('\u001e')[0] : error;
  }
  throw new Error('the call returned');
}

/** Runs `call` while another thread does `writes` after `delayMs`; returns what was thrown. */
async function stopDuring(
  instance: SharedInstance,
  writes: WordWrite[],
  call: () => unknown,
  delayMs = 150,
): Promise<{ error: unknown; latencyMs: number }> {
  const stopper = await armStopper(instance.memory, writes, delayMs);
  stopper.go();
  const error = thrown(call);
  const stoppedAt = now();
  return { error, latencyMs: stoppedAt - (await stopper.wroteAt) };
}

let dir: string;
let pythonArtifact: string;
let javascriptArtifact: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interrupt-'));
  pythonArtifact = join(dir, 'python');
  javascriptArtifact = join(dir, 'javascript');
  await buildGuest({ source: pythonSource, language: 'python', backend: 'cpython-wasi', outDir: pythonArtifact });
  await buildGuest({ source: javascriptSource, language: 'javascript', outDir: javascriptArtifact });
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the manifest', () => {
  it('records the hard-stop word for both guests and the soft stop for Python', async () => {
    const python = await instantiateShared(pythonArtifact);
    const javascript = await instantiateShared(javascriptArtifact);
    expect(python.manifest.interrupt?.hardStop.value).toBe(HARD_STOP_VALUE);
    expect(python.manifest.interrupt?.python?.asyncExceptionBit).toBe(3);
    expect(javascript.manifest.interrupt).toEqual({ hardStop: { address: 0x400, value: HARD_STOP_VALUE } });
  });
});

describe('Python', () => {
  it('soft stop: `while True: pass` raises KeyboardInterrupt and the globals survive', async () => {
    const py = await instantiateShared(pythonArtifact);
    const { python } = py.manifest.interrupt!;
    py.exec('x = 41');
    const { error, latencyMs } = await stopDuring(py, softStopWrites(python!), () => py.exec('while True: pass'));
    clearStops(py);
    expect(error).toBe('KeyboardInterrupt');
    console.log(`soft stop of while True: pass: ${latencyMs.toFixed(2)} ms after the write`);
    expect(py.eval('x + 1')).toBe('42');
  });

  it('soft stop: a `finally` block runs', async () => {
    const py = await instantiateShared(pythonArtifact);
    const { python } = py.manifest.interrupt!;
    py.exec('y = 0');
    const { error } = await stopDuring(py, softStopWrites(python!), () =>
      py.exec('try:\n    while True: pass\nfinally:\n    y = 1'),
    );
    clearStops(py);
    expect(error).toBe('KeyboardInterrupt');
    expect(py.eval('y')).toBe('1');
  });

  it('soft stop: a stop that arrives after the call ended is cleared before the next call', async () => {
    const py = await instantiateShared(pythonArtifact);
    const { python } = py.manifest.interrupt!;
    const words = new Int32Array(py.memory.buffer);
    for (const write of softStopWrites(python!)) {
      if (write.op === 'or') Atomics.or(words, write.address / 4, write.value);
      else Atomics.store(words, write.address / 4, write.value);
    }
    clearStops(py);
    py.exec('n = 0\nfor i in range(100_000):\n    n += i');
    expect(py.eval('n')).toBe(String((99_999 * 100_000) / 2));
  });

  it('hard stop: `sum(range(10**12))` (a C loop the soft stop never sees) traps within ms', async () => {
    const py = await instantiateShared(pythonArtifact);
    const { hardStop } = py.manifest.interrupt!;
    py.exec('x = 1');
    const { error, latencyMs } = await stopDuring(
      py,
      [{ op: 'store', address: hardStop.address, value: hardStop.value }],
      () => py.exec('sum(range(10**12))'),
    );
    expect(error).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((error as Error).message).toMatch(/unreachable/);
    console.log(`hard stop of sum(range(10**12)): ${latencyMs.toFixed(2)} ms after the write`);
    expect(latencyMs).toBeLessThan(HARD_STOP_LATENCY_LIMIT_MS);
  });

  it('hard stop: catches code that swallows the soft stop', async () => {
    const py = await instantiateShared(pythonArtifact);
    const { hardStop, python } = py.manifest.interrupt!;
    const { error } = await stopDuring(
      py,
      [...softStopWrites(python!), { op: 'store', address: hardStop.address, value: hardStop.value }],
      () => py.exec('while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass'),
    );
    expect(error).toBeInstanceOf(WebAssembly.RuntimeError);
  });

  it('with the words untouched, calls behave as before', async () => {
    const py = await instantiateShared(pythonArtifact);
    expect(py.eval('2 + 2')).toBe('4');
    py.exec('import re\nm = re.findall(r"a+", "caaab aab")');
    expect(py.eval('m')).toBe('["aaa", "aa"]');
    expect(thrown(() => py.eval('undefined_name'))).toBe("NameError: name 'undefined_name' is not defined");
    expect(py.eval('sum(i * i for i in range(1000))')).toBe('332833500');
  });
});

describe('JavaScript', () => {
  it('hard stop: `while (true) {}` traps within ms, from another thread', async () => {
    const js = await instantiateShared(javascriptArtifact);
    const { hardStop } = js.manifest.interrupt!;
    js.exec('globalThis.x = 41');
    const { error, latencyMs } = await stopDuring(
      js,
      [{ op: 'store', address: hardStop.address, value: hardStop.value }],
      () => js.exec('while (true) {}'),
    );
    expect(error).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((error as Error).message).toMatch(/unreachable/);
    console.log(`hard stop of while (true) {}: ${latencyMs.toFixed(2)} ms after the write`);
    expect(latencyMs).toBeLessThan(HARD_STOP_LATENCY_LIMIT_MS);
  });

  it('the hard-stop word stays untouched by deep recursion, and calls behave as before', async () => {
    const js = await instantiateShared(javascriptArtifact);
    expect(js.eval('2 + 2')).toBe('4');
    expect(String(thrown(() => js.exec('function f(n) { return f(n + 1) + 1 } f(0)')))).toMatch(/recursion/);
    // Deep native recursion in the engine (the serialiser, the parser): a value or an error.
    js.exec('globalThis.deep = []; for (let i = 0; i < 100000; i++) deep = [deep]');
    expect(js.eval('deep').length).toBe(200_002);
    expect(String(thrown(() => js.eval('['.repeat(100000))))).toMatch(/recursion|SyntaxError/);
    expect(String(thrown(() => js.eval('JSON.parse("[".repeat(100000))')))).toMatch(/recursion|SyntaxError/);
    // The lowest 64 KiB of the stack region were never reached.
    const stack = new Uint8Array(js.memory.buffer, 0, 1024 * 1024);
    const lowest = stack.findIndex((b) => b !== 0);
    console.log(`deepest JavaScript stack use reached address 0x${lowest.toString(16)}`);
    expect(lowest).toBeGreaterThan(64 * 1024);
    expect(js.eval('[1, "a", {b: null}]')).toBe('[1,"a",{"b":null}]');
  });
});
