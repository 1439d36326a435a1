/**
 * Limits:
 * - overshoot: runaway calls (timeoutMs 200), Python-level (`while True: pass`) and C-level
 *   (`sum(range(10**12))`); how far past the deadline the runaway has stopped (ours: its call's
 *   result, sent only once the guest stopped). Peers: Monty's maxDurationSecs, a python3 process
 *   killed by a timer, QuickJS's interrupt handler, isolated-vm's timeout.
 * - neighbours: other sandboxes' `eval("2 + 2")` latency (one call at a time, alternating between
 *   2 sandboxes) while nothing else runs, then while one more sandbox runs away again and again
 *   (either kind). Peers: python3 processes over pipes with a runaway python3 killed at 200 ms;
 *   isolated-vm isolates (async eval) with a runaway isolate.
 */
import { C_LEVEL_RUNAWAY, PYTHON_RUNAWAY, type NeighbourResult, type OvershootResult } from '../peers/common.js';
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
  ctx.log(`limits: ${runs} runaway calls (timeoutMs ${TIMEOUT_MS}) per engine, Python-level then C-level`);
  const oursPy = await over('ours', { language: 'python' });
  const oursC = await over('ours', { language: 'python', code: C_LEVEL_RUNAWAY });
  const oursJs = await over('ours', { language: 'javascript' });
  const monty = await over('monty', {});
  const montyC = await over('monty', { code: C_LEVEL_RUNAWAY });
  const native = await over('native', { python: peers.pythonPath });
  const nativeC = await over('native', { python: peers.pythonPath, code: C_LEVEL_RUNAWAY });
  const quickjs = await over('quickjs', {});
  const ivm = await over('isolated-vm', {});
  ctx.log(`limits: neighbours' latency, ${windowMs} ms idle + ${windowMs} ms with a runaway, per engine and kind`);
  const nOurs = await neighbours('ours');
  const nOursC = await neighbours('ours', { code: C_LEVEL_RUNAWAY });
  const nNative = await neighbours('native', { python: peers.pythonPath });
  const nNativeC = await neighbours('native', { python: peers.pythonPath, code: C_LEVEL_RUNAWAY });
  const nIvm = await neighbours('isolated-vm');

  const pyodideNote =
    'no deadline for runPython on the main thread (its interrupt buffer needs a worker and SharedArrayBuffer)';
  const oursStop = 'ours: exec, timeoutMs 200';
  const pythonOvershootPeers = (m: typeof monty, n: typeof native, p99: boolean) =>
    [
      overshootOf(m, `Monty ${peers.monty.version} maxDurationSecs`, 'stopped'),
      overshootOf(n, `python3 ${peers.native.version} process, timer + SIGKILL`, 'stopped'),
    ].map((x) => (p99 ? atP99(x) : x));
  const pyStopP99 = atP99(overshootOf(oursPy, oursStop, 'stopped'));
  const cStopP99 = atP99(overshootOf(oursC, oursStop, 'stopped'));
  const neighbourRows = (kind: string, ours: typeof nOurs, nativeN: typeof nNative, withIvm: boolean) => {
    const idleP99 = atP99(latencyOf(ours, 'ours: 2 other sandboxes', 'idle'));
    const runawayOurs = latencyOf(ours, 'ours: 2 other sandboxes', 'runaway');
    const runawayP99 = atP99(runawayOurs);
    const peersOf = (phase: 'idle' | 'runaway', p99: boolean) =>
      [
        latencyOf(nativeN, `python3 ${peers.native.version}: 2 other processes over pipes`, phase),
        ...(withIvm
          ? [latencyOf(nIvm, `isolated-vm ${peers['isolated-vm'].version}: 2 other isolates, async eval`, phase)]
          : []),
      ].map((m) => (p99 ? atP99(m) : m));
    const withinIdle: TargetCheck =
      runawayP99.value === null || idleP99.value === null
        ? { text: '<= 1.5x idle p99', pass: null, measured: '-' }
        : {
            text: `<= 1.5x idle p99 (${formatValue(1.5 * idleP99.value, 'us')})`,
            pass: runawayP99.value <= 1.5 * idleP99.value,
            measured: `${(runawayP99.value / idleP99.value).toFixed(2)}x idle`,
          };
    return [
      {
        workload: id,
        label: `others' eval p99, nothing running away (${kind} runaway's run)`,
        better: 'lower' as const,
        ours: idleP99,
        peers: peersOf('idle', true),
        targets: [],
      },
      {
        workload: id,
        label: `others' eval p99 while one sandbox runs away (${kind})`,
        better: 'lower' as const,
        ours: runawayP99,
        peers: peersOf('runaway', true),
        targets: [withinIdle],
      },
      {
        workload: id,
        label: `others' eval p50 while one sandbox runs away (${kind})`,
        better: 'lower' as const,
        ours: runawayOurs,
        peers: peersOf('runaway', false),
        targets: [],
      },
    ];
  };

  return {
    id,
    title: 'Limits: runaway calls and their neighbours',
    method:
      `Overshoot: ${runs} runaway calls per engine, timeoutMs ${TIMEOUT_MS}, one after another in one sandbox (ours: ` +
      'reset when the stop was hard); ms past the deadline until the runaway has stopped (p50 and p99). Python-level: ' +
      `\`${PYTHON_RUNAWAY}\` (ours: soft stop, the session survives); C-level: \`${C_LEVEL_RUNAWAY}\` (one C call, ` +
      'no bytecode boundary: ours stops it hard after a 25 ms grace). Neighbours: `eval("2 + 2")`, one at a time, ' +
      `alternating between 2 sandboxes, for ${windowMs} ms with nothing else running and ${windowMs} ms while a ` +
      `third sandbox runs away into its ${TIMEOUT_MS} ms limit again and again; the two phases alternate in 4 ` +
      "slices each, so a change in the machine's load hits both alike.",
    rows: [
      {
        workload: id,
        label: `Python runaway stopped past its deadline, p99 (timeoutMs ${TIMEOUT_MS})`,
        better: 'lower',
        ours: pyStopP99,
        peers: [
          ...pythonOvershootPeers(monty, native, true),
          missing(`Pyodide ${peers.pyodide.version}`, 'ms', 'unsupported', pyodideNote),
        ],
        targets: [limitTarget(pyStopP99, 5)],
      },
      {
        workload: id,
        label: 'Python runaway stopped past its deadline, p50',
        better: 'lower',
        ours: overshootOf(oursPy, oursStop, 'stopped'),
        peers: pythonOvershootPeers(monty, native, false),
        targets: [],
      },
      {
        workload: id,
        label: `C-level runaway stopped past its deadline, p99 (\`${C_LEVEL_RUNAWAY}\`)`,
        better: 'lower',
        ours: cStopP99,
        peers: pythonOvershootPeers(montyC, nativeC, true),
        targets: [limitTarget(cStopP99, 25)],
      },
      {
        workload: id,
        label: 'C-level runaway stopped past its deadline, p50',
        better: 'lower',
        ours: overshootOf(oursC, oursStop, 'stopped'),
        peers: pythonOvershootPeers(montyC, nativeC, false),
        targets: [],
      },
      {
        workload: id,
        label: 'JavaScript runaway stopped past its deadline, p99',
        better: 'lower',
        ours: atP99(overshootOf(oursJs, oursStop, 'stopped')),
        peers: [
          atP99(overshootOf(quickjs, `quickjs-emscripten ${peers.quickjs.version} interrupt handler`, 'stopped')),
          atP99(overshootOf(ivm, `isolated-vm ${peers['isolated-vm'].version} evalSync timeout`, 'stopped')),
        ],
        targets: [],
      },
      ...neighbourRows('Python-level', nOurs, nNative, true),
      ...neighbourRows('C-level', nOursC, nNativeC, false),
    ],
    notes: [],
  };
}
