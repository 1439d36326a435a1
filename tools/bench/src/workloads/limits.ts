/**
 * Limits:
 * - overshoot: a runaway call (`while True: pass`, timeoutMs 200) in a fresh sandbox; how far past
 *   the deadline the caller gets its TimeoutError, and how far past it the runaway has stopped
 *   (ours: every thread that came with the sandbox has exited). Peers: Monty's maxDurationSecs,
 *   a python3 process killed by a timer, QuickJS's interrupt handler, isolated-vm's timeout.
 * - neighbours: other sandboxes' `eval("2 + 2")` latency (one call at a time, alternating between
 *   2 sandboxes) while nothing else runs, then while one more sandbox runs away again and again
 *   (timeoutMs 200, then reset). Peers: python3 processes over pipes with a runaway python3 killed
 *   at 200 ms; isolated-vm isolates (async eval) with a runaway isolate.
 */
import type { NeighbourResult, OvershootResult } from '../peers/common.js';
import { formatValue } from '../format.js';
import {
  atP99,
  attempt,
  child,
  fromSamples,
  limitTarget,
  missing,
  outcomeMeasurement,
  type Context,
  type Outcome,
} from '../rows.js';
import type { Measurement, PeerName, TargetCheck, WorkloadResult } from '../types.js';

export const id = 'limits';

const TIMEOUT_MS = 200;

function overshootOf(outcome: Outcome<OvershootResult>, subject: string, which: 'stopped' | 'rejected'): Measurement {
  return outcomeMeasurement(outcome, subject, 'ms', (r) => {
    const samples = which === 'stopped' ? (r.stopped ?? r.rejected) : r.rejected;
    if (which === 'rejected') return fromSamples(samples);
    return fromSamples(samples, r.stopped ? r.note : 'stop not observable: time of the TimeoutError');
  });
}

function latencyOf(outcome: Outcome<NeighbourResult>, subject: string, phase: 'idle' | 'runaway'): Measurement {
  return outcomeMeasurement(outcome, subject, 'us', (r) => ({
    ...fromSamples(r[phase]),
    ...(phase === 'runaway' ? { note: `${r.runaways} runaways stopped during the window` } : {}),
  }));
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  const runs = ctx.quick ? 8 : 30;
  const windowMs = ctx.quick ? 1200 : 4000;
  const over = (peer: PeerName, params: object) =>
    attempt(ctx, peer, () =>
      child<OvershootResult>(
        ctx,
        peer,
        'overshoot',
        { runs, timeoutMs: TIMEOUT_MS, ...params },
        { timeoutMs: 300_000 },
      ),
    );
  const neighbours = (peer: PeerName, params: object = {}) =>
    attempt(ctx, peer, () =>
      child<NeighbourResult>(
        ctx,
        peer,
        'neighbour',
        { windowMs, others: 2, timeoutMs: TIMEOUT_MS, ...params },
        { timeoutMs: 300_000 },
      ),
    );
  ctx.log(`limits: ${runs} runaway calls (timeoutMs ${TIMEOUT_MS}) per engine`);
  const oursPy = await over('ours', { language: 'python' });
  const oursJs = await over('ours', { language: 'javascript' });
  const monty = await over('monty', {});
  const native = await over('native', { python: peers.pythonPath });
  const quickjs = await over('quickjs', {});
  const ivm = await over('isolated-vm', {});
  ctx.log(`limits: neighbours' latency, ${windowMs} ms idle + ${windowMs} ms with a runaway, per engine`);
  const nOurs = await neighbours('ours');
  const nNative = await neighbours('native', { python: peers.pythonPath });
  const nIvm = await neighbours('isolated-vm');

  const pyodideNote =
    'no deadline for runPython on the main thread (its interrupt buffer needs a worker and SharedArrayBuffer)';
  const pythonOvershootPeers = (which: 'stopped' | 'rejected', p99: boolean) =>
    [
      overshootOf(monty, `Monty ${peers.monty.version} maxDurationSecs`, which),
      overshootOf(native, `python3 ${peers.native.version} process, timer + SIGKILL`, which),
    ].map((m) => (p99 ? atP99(m) : m));
  const stoppedP99 = atP99(overshootOf(oursPy, 'ours: exec, timeoutMs 200', 'stopped'));
  const idleOurs = latencyOf(nOurs, 'ours: 2 other sandboxes', 'idle');
  const runawayOurs = latencyOf(nOurs, 'ours: 2 other sandboxes', 'runaway');
  const idleP99 = atP99(idleOurs);
  const runawayP99 = atP99(runawayOurs);
  const neighbourPeers = (phase: 'idle' | 'runaway', p99: boolean) =>
    [
      latencyOf(nNative, `python3 ${peers.native.version}: 2 other processes over pipes`, phase),
      latencyOf(nIvm, `isolated-vm ${peers['isolated-vm'].version}: 2 other isolates, async eval`, phase),
    ].map((m) => (p99 ? atP99(m) : m));

  const withinIdle: TargetCheck =
    runawayP99.value === null || idleP99.value === null
      ? { text: '<= 2x idle p99', pass: null, measured: '-' }
      : {
          text: `<= 2x idle p99 (${formatValue(2 * idleP99.value, 'us')})`,
          pass: runawayP99.value <= 2 * idleP99.value,
          measured: `${(runawayP99.value / idleP99.value).toFixed(2)}x idle`,
        };

  return {
    id,
    title: 'Limits: runaway calls and their neighbours',
    method:
      `Overshoot: ${runs} runaway calls per engine, timeoutMs ${TIMEOUT_MS}, each in a fresh sandbox; ms past the ` +
      'deadline (p50 and p99). Neighbours: `eval("2 + 2")`, one at a time, alternating between 2 sandboxes, for ' +
      `${windowMs} ms with nothing else running and ${windowMs} ms while a third sandbox runs \`while True: pass\` ` +
      `into its ${TIMEOUT_MS} ms limit again and again (reset after each timeout); the two phases alternate in 4 ` +
      "slices each, so a change in the machine's load hits both alike.",
    rows: [
      {
        workload: id,
        label: `runaway stopped (threads exited) past its deadline, p99 (Python, timeoutMs ${TIMEOUT_MS})`,
        better: 'lower',
        ours: stoppedP99,
        peers: [
          ...pythonOvershootPeers('stopped', true),
          missing(`Pyodide ${peers.pyodide.version}`, 'ms', 'unsupported', pyodideNote),
        ],
        targets: [limitTarget(stoppedP99, 20)],
      },
      {
        workload: id,
        label: 'runaway stopped past its deadline, p50 (Python)',
        better: 'lower',
        ours: overshootOf(oursPy, 'ours: exec, timeoutMs 200', 'stopped'),
        peers: pythonOvershootPeers('stopped', false),
        targets: [],
      },
      {
        workload: id,
        label: 'TimeoutError delivered past the deadline, p99 (Python)',
        better: 'lower',
        ours: atP99(overshootOf(oursPy, 'ours: exec rejects', 'rejected')),
        peers: pythonOvershootPeers('rejected', true),
        targets: [],
      },
      {
        workload: id,
        label: 'runaway stopped past its deadline, p99 (JavaScript)',
        better: 'lower',
        ours: atP99(overshootOf(oursJs, 'ours: exec, timeoutMs 200', 'stopped')),
        peers: [
          atP99(overshootOf(quickjs, `quickjs-emscripten ${peers.quickjs.version} interrupt handler`, 'stopped')),
          atP99(overshootOf(ivm, `isolated-vm ${peers['isolated-vm'].version} evalSync timeout`, 'stopped')),
        ],
        targets: [],
      },
      {
        workload: id,
        label: "others' eval p99, nothing running away (Python)",
        better: 'lower',
        ours: idleP99,
        peers: neighbourPeers('idle', true),
        targets: [],
      },
      {
        workload: id,
        label: "others' eval p99 while one sandbox runs away (Python)",
        better: 'lower',
        ours: runawayP99,
        peers: neighbourPeers('runaway', true),
        targets: [withinIdle],
      },
      {
        workload: id,
        label: "others' eval p50 while one sandbox runs away (Python)",
        better: 'lower',
        ours: runawayOurs,
        peers: neighbourPeers('runaway', false),
        targets: [],
      },
    ],
    notes: [],
  };
}
