/** Pyodide (CPython compiled to WebAssembly with Emscripten), in-process on the main thread. */
import { loadPyodide, type PyodideAPI } from 'pyodide';
import {
  elapsedMs,
  elapsedUs,
  now,
  repeat,
  type KernelParams,
  type KernelResult,
  type MemoryParams,
  type MemoryResult,
  type RepsParams,
  type SamplesResult,
  rssPerLiveInstance,
  SESSION_CHECK,
  SESSION_STATE,
  timeSnapshots,
  type SnapshotResult,
} from './common.js';
import { hostCall } from './pyodide-host-call.js';

const quiet = { stdout: () => undefined, stderr: () => undefined };

async function load(): Promise<PyodideAPI> {
  return loadPyodide(quiet);
}

/** First load of the process (includes compiling Pyodide's wasm), then loads in a warm process. */
async function readyCold(params: RepsParams): Promise<SamplesResult> {
  let start = now();
  const first = await load();
  first.runPython('2 + 2');
  const firstMs = elapsedMs(start);
  const samples = await repeat(params, async () => {
    start = now();
    const py = await load();
    const value: unknown = py.runPython('2 + 2');
    if (value !== 4) throw new Error(`Pyodide answered ${String(value)}`);
    return elapsedMs(start);
  });
  return { samples, first: firstMs };
}

async function call(params: RepsParams & { expression: string }): Promise<SamplesResult> {
  const py = await load();
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    py.runPython(params.expression);
    const us = elapsedUs(start);
    if (i >= params.warmup) samples.push(us);
  }
  return { samples };
}

let shared: PyodideAPI | undefined;

async function kernel(params: KernelParams): Promise<KernelResult> {
  // One instance for all kernels of a batch: a load takes seconds and the kernels redefine
  // everything they use.
  shared ??= await load();
  const py = shared;
  const samples = await repeat(params, () => {
    const start = now();
    py.runPython(params.source);
    return elapsedMs(start);
  });
  return { samples, check: String(py.runPython('str(result)')) };
}

function memory(params: MemoryParams): Promise<MemoryResult> {
  return rssPerLiveInstance(
    params,
    async () => {
      const py = await load();
      py.runPython('2 + 2');
      return py;
    },
    `process RSS delta over ${params.count} live instances (one loaded before the baseline)`,
  );
}

/**
 * Pyodide's memory snapshot (`makeMemorySnapshot`, an underscore-marked option of loadPyodide:
 * not a stable API), then a new instance loaded from it until it answers.
 */
async function snapshot(params: RepsParams): Promise<SnapshotResult> {
  const py = await loadPyodide({ ...quiet, _makeSnapshot: true });
  py.runPython(SESSION_STATE);
  return timeSnapshots(
    params,
    () => py.makeMemorySnapshot(),
    async (taken) => {
      const restored = await loadPyodide({ ...quiet, _loadSnapshot: taken });
      const value: unknown = restored.runPython(SESSION_CHECK.expression);
      if (value !== SESSION_CHECK.value) throw new Error(`a restored Pyodide answered ${String(value)}`);
    },
    'makeMemorySnapshot() (the whole linear memory, uncompressed) + loadPyodide({ _loadSnapshot }) + runPython',
  );
}

export const tasks = { readyCold, call, kernel, memory, snapshot, hostCall };
