/**
 * Call cost: `eval("2 + 2")` round trip through the public host API of a warm sandbox, timed per
 * call, median over many calls. Peers: Pyodide `runPython("2 + 2")`, Monty (a stateless
 * `new Monty(expr).run()`, and `MontyRepl.feed` on one session), python3 timing
 * `eval('2 + 2')` internally; for JavaScript QuickJS `evalCode` and isolated-vm `evalSync`.
 */
import type { SamplesResult } from '../peers/common.js';
import { attempt, child, fromSamples, limitTarget, outcomeMeasurement, type Context, type Outcome } from '../rows.js';
import type { Measurement, PeerName, WorkloadResult } from '../types.js';
import { BUSY_PROCESSES, whileBusy } from '../busy.js';

export const id = 'call';

const EXPRESSION = '2 + 2';

function us(outcome: Outcome<SamplesResult>, subject: string, note?: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'us', (r) => fromSamples(r.samples, note ?? r.note));
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  // Warm-up long enough for V8 to finish moving the guests' hot wasm functions to its optimising
  // compiler (measured: in-process p50 5.1-7.2 us over the 10,000 calls after 1,000 warm-up
  // calls, 4.5-4.7 us over the next 10,000): steady state, for every peer alike.
  const n = { reps: ctx.quick ? 2000 : 10_000, warmup: ctx.quick ? 2000 : 10_000 };
  const calls = (peer: PeerName, params: object) =>
    attempt(ctx, peer, () => child<SamplesResult>(ctx, peer, 'call', { expression: EXPRESSION, ...n, ...params }));
  const pythonCalls = async () => ({
    ours: await calls('ours', { language: 'python' }),
    oursInProcess: await calls('ours', { language: 'python', inProcess: true }),
    pyodide: await calls('pyodide', {}),
    montyRun: await calls('monty', { mode: 'run' }),
    // A MontyRepl call gets slower as its session grows (see the note): a fixed, short session.
    montyRepl: await calls('monty', { mode: 'repl', reps: 1000, warmup: 100 }),
    native: await calls('native', { python: peers.pythonPath }),
  });

  ctx.log('call: Python (ours, Pyodide, Monty, python3), the machine as it is');
  const asIs = await pythonCalls();
  ctx.log(`call: Python again with ${BUSY_PROCESSES} processes spinning (a busy machine)`);
  const busy = await whileBusy(pythonCalls);
  ctx.log('call: JavaScript (ours, QuickJS, isolated-vm)');
  // Each JavaScript call compiles its code, and the guest's engine keeps what it compiles
  // (about 0.6 KB a call, measured): the warm-up of the Python rows would take the guest to its
  // memory limit. JavaScript keeps the shorter warm-up, for every peer alike.
  const js = { warmup: ctx.quick ? 200 : 1000 };
  const oursJs = await calls('ours', { language: 'javascript', ...js });
  const quickjs = await calls('quickjs', js);
  const ivm = await calls('isolated-vm', js);

  const pythonPeers = (r: Awaited<ReturnType<typeof pythonCalls>>) => [
    us(r.pyodide, `Pyodide ${peers.pyodide.version} runPython`),
    us(r.montyRun, `Monty ${peers.monty.version} new Monty(expr).run()`, 'stateless: parses and runs a program'),
    us(r.montyRepl, `Monty ${peers.monty.version} MontyRepl.feed`, 'one session, median of its first 1,100 calls'),
    us(r.native, `python3 ${peers.native.version} eval() in-process`),
  ];
  const pythonRows = (label: string, r: Awaited<ReturnType<typeof pythonCalls>>) => {
    const ours = us(r.ours, 'ours: sandbox.eval (through an executor thread)');
    const inProcess = us(r.oursInProcess, 'ours: in-process sandbox.eval (on the caller thread)');
    const row = { workload: id, better: 'lower' as const, peers: pythonPeers(r) };
    return [
      { ...row, label: `${label} through an executor`, ours, targets: [limitTarget(ours, 10)] },
      { ...row, label: `${label} in-process`, ours: inProcess, targets: [limitTarget(inProcess, 6)] },
    ];
  };
  return {
    id,
    title: 'Call cost: `eval("2 + 2")` round trip, warm',
    method:
      `Each call timed on its own (process.hrtime), ${n.reps.toLocaleString('en-US')} calls after ${n.warmup} warm-up calls, ` +
      'median reported (p99 in the JSON). Ours goes through the public API twice: `createSandbox` (caller -> ' +
      'executor thread -> guest -> back) and `createInProcessSandbox` (the guest runs on the caller thread; a ' +
      'watchdog thread stops it at its deadline). python3 times `eval` inside the interpreter (no IPC), so it is ' +
      'the floor. The Python ' +
      `calls run twice: on the machine as it is, and with ${BUSY_PROCESSES} processes (one per core) spinning.`,
    rows: [
      ...pythonRows('eval("2 + 2") (Python)', asIs),
      ...pythonRows(`eval("2 + 2"), busy machine (Python; ${BUSY_PROCESSES} spinning processes)`, busy),
      {
        workload: id,
        label: 'eval("2 + 2") round trip (JavaScript)',
        better: 'lower',
        ours: us(oursJs, 'ours: sandbox.eval'),
        peers: [
          us(quickjs, `quickjs-emscripten ${peers.quickjs.version} evalCode + dump`),
          us(ivm, `isolated-vm ${peers['isolated-vm'].version} evalSync`),
        ],
        targets: [],
      },
    ],
    notes: [
      'Monty: a MontyRepl.feed call gets slower the more calls its session has had, so it is measured on the first ' +
        '1,100 calls of a fresh session; the stateless `new Monty(expr).run()` does not grow.',
    ],
  };
}
