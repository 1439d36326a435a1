/**
 * Host functions: the round trip of one call from guest code to a host function and back
 * (guest -> host -> guest), measured in a loop of calls inside the guest. Ours with the function
 * in a `functionsModule` (a synchronous function runs on the executor, the guest's own thread)
 * and as a closure (on the caller's thread: each call crosses threads); Pyodide calling a
 * JavaScript function from Python in the same run.
 */
import type { HostCallParams } from '../peers/host-call.js';
import type { SamplesResult } from '../peers/common.js';
import { attempt, child, fromSamples, limitTarget, outcomeMeasurement, type Context, type Outcome } from '../rows.js';
import type { Measurement, PeerName, Row, WorkloadResult } from '../types.js';

export const id = 'host-call';

function us(outcome: Outcome<SamplesResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'us', (r) => fromSamples(r.samples, r.note));
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  const calls = ctx.quick ? 1000 : 2000;
  const n = { reps: ctx.quick ? 20 : 100, warmup: ctx.quick ? 5 : 20, calls };
  const measure = (peer: PeerName, task: string, params: Partial<HostCallParams>) =>
    attempt(ctx, peer, () => child<SamplesResult>(ctx, peer, task, { ...n, ...params }));

  ctx.log('host-call: ours (functionsModule, closure; Python, JavaScript), Pyodide');
  const modulePy = await measure('ours', 'hostCall', { language: 'python', place: 'module' });
  const closurePy = await measure('ours', 'hostCall', { language: 'python', place: 'closure' });
  const moduleJs = await measure('ours', 'hostCall', { language: 'javascript', place: 'module' });
  const closureJs = await measure('ours', 'hostCall', { language: 'javascript', place: 'closure' });
  const pyodide = await measure('pyodide', 'hostCall', { language: 'python' });

  const pyodidePeer = us(pyodide, `Pyodide ${peers.pyodide.version} JS function called from Python`);
  const moduleRow = (language: string, outcome: Outcome<SamplesResult>, peerList: Measurement[]): Row => {
    const ours = us(outcome, 'ours: sync function of functionsModule (on the executor)');
    return {
      workload: id,
      label: `host function round trip, functionsModule (${language})`,
      better: 'lower',
      ours,
      peers: peerList,
      targets: [limitTarget(ours, 5)],
    };
  };
  const closureRow = (language: string, outcome: Outcome<SamplesResult>, peerList: Measurement[]): Row => ({
    workload: id,
    label: `host function round trip, closure (${language})`,
    better: 'lower',
    ours: us(outcome, "ours: closure on the caller's thread (a thread hop each way)"),
    peers: peerList,
    targets: [],
  });
  return {
    id,
    title: 'Host functions: one call guest -> host -> guest',
    method:
      `A loop in the guest calls \`inc(total)\` ${calls.toLocaleString('en-US')} times; a sample is the loop's ` +
      `wall time divided by the calls (the guest call around it adds well under 0.1 us per call), ` +
      `${n.reps} samples after ${n.warmup} warm-up loops, median reported. Values cross as JSON both ways. ` +
      'Pyodide: the same Python loop calling a JavaScript function set with `pyodide.globals.set`.',
    rows: [
      moduleRow('Python', modulePy, [pyodidePeer]),
      closureRow('Python', closurePy, [pyodidePeer]),
      moduleRow('JavaScript', moduleJs, []),
      closureRow('JavaScript', closureJs, []),
    ],
    notes: [
      'A closure runs on the thread that created the sandbox: calls that follow each other quickly are answered ' +
        'there without a trip through its event loop, in bursts of up to 2 ms; a module function runs where the ' +
        'guest runs.',
    ],
  };
}
