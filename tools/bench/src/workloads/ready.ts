/**
 * Sandbox ready: time from "create" to the first result of `2 + 2`.
 * - warm pool: `createSandboxPool` then `acquire()` + `eval` (the pool refilled between reps);
 * - cold: `createSandbox` + `eval` in a process whose guest modules are already compiled;
 * - first of a process: the same, compile included (one sample per process).
 * Peers: Pyodide `loadPyodide()` + `runPython` (later loads in the same process, so its wasm is
 * as warm as ours), a Monty session (`new MontyRepl()` + `feed`), a spawned `python3 -c
 * 'print(2+2)'`; for JavaScript a QuickJS runtime + context and an isolated-vm isolate + context.
 */
import type { SamplesResult } from '../peers/common.js';
import { attempt, child, fromSamples, limitTarget, outcomeMeasurement, type Context, type Outcome } from '../rows.js';
import type { Measurement, PeerName, WorkloadResult } from '../types.js';

export const id = 'ready';

function samples(outcome: Outcome<SamplesResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'ms', (r) => fromSamples(r.samples, r.note));
}

function first(outcome: Outcome<SamplesResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'ms', (r) =>
    r.first === undefined
      ? { value: null, status: 'skipped', note: 'no first-of-process figure' }
      : { value: r.first, status: 'ok', detail: { n: 1 } },
  );
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const q = ctx.quick;
  const reps = { reps: q ? 5 : 20, warmup: q ? 1 : 3 };
  const { peers } = ctx;
  const ready = (peer: PeerName, params: object, task = 'readyCold', timeoutMs?: number) =>
    attempt(ctx, peer, () => child<SamplesResult>(ctx, peer, task, params, { timeoutMs }));

  ctx.log('ready: ours, Python (cold, then warm pool)');
  const oursPyCold = await ready('ours', { language: 'python', ...reps });
  const oursPyWarm = await ready('ours', { language: 'python', poolSize: 2, ...reps }, 'readyWarm');
  ctx.log('ready: Pyodide (a few loads, seconds each)');
  const pyodide = await ready('pyodide', { reps: q ? 1 : 5, warmup: q ? 0 : 1 }, 'readyCold', 300_000);
  ctx.log('ready: Monty, python3');
  const monty = await ready('monty', { reps: 500, warmup: 50 });
  const native = await ready('native', { python: peers.pythonPath, ...reps });
  ctx.log('ready: ours, JavaScript; QuickJS, isolated-vm');
  const oursJsCold = await ready('ours', { language: 'javascript', ...reps });
  const oursJsWarm = await ready('ours', { language: 'javascript', poolSize: 2, ...reps }, 'readyWarm');
  const quickjs = await ready('quickjs', { reps: 500, warmup: 50 });
  const ivm = await ready('isolated-vm', { reps: 200, warmup: 20 });

  const pyodideName = `Pyodide ${peers.pyodide.version} loadPyodide + runPython`;
  const nativeName = `python3 ${peers.native.version} spawn -c 'print(2+2)'`;
  const pythonPeers = () => [
    samples(pyodide, pyodideName),
    samples(monty, `Monty ${peers.monty.version} new MontyRepl + feed`),
    samples(native, nativeName),
  ];
  const jsPeers = () => [
    samples(quickjs, `quickjs-emscripten ${peers.quickjs.version} newRuntime + newContext + evalCode`),
    samples(ivm, `isolated-vm ${peers['isolated-vm'].version} new Isolate + createContext + evalSync`),
  ];

  const warmPy = samples(oursPyWarm, 'ours: pool.acquire() + eval');
  const coldPy = samples(oursPyCold, 'ours: createSandbox + eval');
  const coldPeers = pythonPeers();
  return {
    id,
    title: 'Sandbox ready: create -> first result of `2 + 2`',
    method:
      'Median over repetitions, each in a process that already compiled the engine (ours: the guest modules; Pyodide: ' +
      'its wasm, by one earlier load). Warm pool: `createSandboxPool({ size: 2 })`, refilled between repetitions, ' +
      'then `acquire()` + `eval("2 + 2")`. "First sandbox of a new process" is one sample with compilation included.',
    rows: [
      {
        workload: id,
        label: 'sandbox ready, warm pool (Python)',
        better: 'lower',
        ours: warmPy,
        peers: pythonPeers(),
        targets: [limitTarget(warmPy, 0.3)],
      },
      {
        workload: id,
        label: 'sandbox ready, cold (Python; modules already compiled)',
        better: 'lower',
        ours: coldPy,
        peers: coldPeers,
        targets: [limitTarget(coldPy, 10)],
      },
      {
        workload: id,
        label: 'first sandbox of a new process (Python; compile included, 1 sample)',
        better: 'lower',
        ours: first(oursPyCold, 'ours: createSandbox + eval'),
        peers: [first(pyodide, pyodideName), first(native, nativeName)],
        targets: [],
      },
      {
        workload: id,
        label: 'sandbox ready, warm pool (JavaScript)',
        better: 'lower',
        ours: samples(oursJsWarm, 'ours: pool.acquire() + eval'),
        peers: jsPeers(),
        targets: [],
      },
      {
        workload: id,
        label: 'sandbox ready, cold (JavaScript; modules already compiled)',
        better: 'lower',
        ours: samples(oursJsCold, 'ours: createSandbox + eval'),
        peers: jsPeers(),
        targets: [],
      },
    ],
    notes: [],
  };
}
