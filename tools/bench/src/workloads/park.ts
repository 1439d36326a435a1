/**
 * Snapshots and parking, on a session holding a few globals (common.ts SESSION_STATE):
 * - snapshot: its size, the time to take it, and the time from its bytes to a restored session's
 *   first answer. Peers: Monty `MontyRepl.dump()`/`load()`, python3 pickling the globals' data
 *   (in-process), Pyodide's memory snapshot (`makeMemorySnapshot`, `loadPyodide({ _loadSnapshot })`).
 * - parked: RSS added per parked session, and a call on a parked session (its restore included).
 *   Peers: MontyRepl sessions kept as dump() bytes; an idle python3 process (PSS) for scale.
 */
import type { MemoryResult, ParkedResult, SnapshotResult } from '../peers/common.js';
import {
  atP99,
  attempt,
  child,
  fromSamples,
  limitTarget,
  outcomeMeasurement,
  type Context,
  type Outcome,
} from '../rows.js';
import type { Measurement, PeerName, WorkloadResult } from '../types.js';
import { perInstance } from './memory.js';

export const id = 'park';

function size(outcome: Outcome<SnapshotResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'KB', (r) => ({ value: r.bytes / 1000, status: 'ok' }));
}

function times(outcome: Outcome<SnapshotResult>, subject: string, which: 'totalMs' | 'snapshotMs' | 'restoreMs') {
  return outcomeMeasurement(outcome, subject, 'ms', (r) =>
    fromSamples(r[which], which === 'totalMs' ? r.note : undefined),
  );
}

function firstRound(outcome: Outcome<ParkedResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'MB', (r) => ({
    value: r.firstRoundPerInstanceBytes / 1e6,
    status: 'ok',
  }));
}

function restoreOfParked(outcome: Outcome<ParkedResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'ms', (r) => fromSamples(r.restoreMs));
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  const q = ctx.quick;
  const reps = { reps: q ? 10 : 30, warmup: q ? 2 : 5 };
  const count = q ? 20 : 100;
  const snap = (peer: PeerName, params: object = {}) =>
    attempt(ctx, peer, () =>
      child<SnapshotResult>(ctx, peer, 'snapshot', { ...reps, ...params }, { timeoutMs: 600_000 }),
    );
  const park = (peer: PeerName) =>
    attempt(ctx, peer, () => child<ParkedResult>(ctx, peer, 'parked', { count }, { timeoutMs: 600_000 }));

  ctx.log('park: snapshots (ours, Monty, python3, Pyodide)');
  const oursSnap = await snap('ours');
  const montySnap = await snap('monty');
  const nativeSnap = await snap('native', { python: peers.pythonPath });
  // A Pyodide restore is a new instance (seconds, ~60 MB each): a few only.
  const pyodideSnap = await snap('pyodide', { reps: q ? 1 : 3, warmup: q ? 0 : 1 });
  ctx.log(`park: ${count} parked sessions (ours, Monty), ${count} idle python3 processes`);
  const oursParked = await park('ours');
  const montyParked = await park('monty');
  const nativeIdle = await attempt(ctx, 'native', () =>
    child<MemoryResult>(ctx, 'native', 'memory', { count, python: peers.pythonPath }, { timeoutMs: 600_000 }),
  );

  const names = {
    ours: 'ours: sandbox.snapshot() / restoreSandbox()',
    monty: `Monty ${peers.monty.version} MontyRepl dump() / load()`,
    native: `python3 ${peers.native.version} pickle of the globals' data`,
    pyodide: `Pyodide ${peers.pyodide.version} makeMemorySnapshot / loadPyodide`,
  };
  const snapshotRow = (label: string, measure: (o: Outcome<SnapshotResult>, s: string) => Measurement) => ({
    ours: measure(oursSnap, names.ours),
    peers: [measure(montySnap, names.monty), measure(nativeSnap, names.native), measure(pyodideSnap, names.pyodide)],
    label,
  });
  const sizeRow = snapshotRow('snapshot of a session holding a few globals: size', size);
  const totalRow = snapshotRow('snapshot + restore until it answers', (o, s) => times(o, s, 'totalMs'));
  const takeRow = snapshotRow('snapshot taken', (o, s) => times(o, s, 'snapshotMs'));
  const restoreRow = snapshotRow('restored from the bytes until it answers', (o, s) => times(o, s, 'restoreMs'));
  const restoreParked = restoreOfParked(oursParked, 'ours: a call on a parked session');
  const montyRestore = restoreOfParked(montyParked, `Monty ${peers.monty.version}: load() + feed of a dumped session`);
  const perParked = perInstance(oursParked, `ours: ${count} parked sessions`);

  return {
    id,
    title: 'Snapshots and parking: a session holding a few globals',
    method:
      'The session: `x = 41`, a list of 100 ints, a small dict and a 120-character string. Snapshot: taken ' +
      `${reps.reps} times after ${reps.warmup} warm-up rounds, each restored in the same process until it answers ` +
      `\`x + len(items)\` (checked). Parked: two rounds of ${count} sessions, each made and parked at once ` +
      '(`sandbox.park()`); RSS growth per session over the second round (the first also grows allocators and JIT ' +
      'code once); then one call on each parked session, timed. KB = 1000 bytes.',
    rows: [
      {
        workload: id,
        label: sizeRow.label,
        better: 'lower',
        ours: sizeRow.ours,
        peers: sizeRow.peers,
        targets: [limitTarget(sizeRow.ours, 256)],
      },
      {
        workload: id,
        label: totalRow.label,
        better: 'lower',
        ours: totalRow.ours,
        peers: totalRow.peers,
        targets: [limitTarget(totalRow.ours, 5)],
      },
      { workload: id, label: takeRow.label, better: 'lower', ours: takeRow.ours, peers: takeRow.peers, targets: [] },
      {
        workload: id,
        label: restoreRow.label,
        better: 'lower',
        ours: restoreRow.ours,
        peers: restoreRow.peers,
        targets: [],
      },
      {
        workload: id,
        label: 'restore of a parked session: a call on it until it answers',
        better: 'lower',
        ours: restoreParked,
        peers: [montyRestore],
        targets: [limitTarget(restoreParked, 5)],
      },
      {
        workload: id,
        label: 'restore of a parked session, p99',
        better: 'lower',
        ours: atP99(restoreParked),
        peers: [atP99(montyRestore)],
        targets: [],
      },
      {
        workload: id,
        label: 'RSS per parked session (what one more costs: a second round)',
        better: 'lower',
        ours: perParked,
        peers: [
          perInstance(montyParked, `Monty ${peers.monty.version}: ${count} sessions kept as dump() bytes`),
          perInstance(nativeIdle, `python3 ${peers.native.version}: an idle process (PSS; it cannot be parked)`),
        ],
        targets: [limitTarget(perParked, 0.5)],
      },
      {
        workload: id,
        label: 'RSS per parked session, first round (with the one-time growth of a process that ran them)',
        better: 'lower',
        ours: firstRound(oursParked, `ours: ${count} parked sessions`),
        peers: [firstRound(montyParked, `Monty ${peers.monty.version}: ${count} sessions kept as dump() bytes`)],
        targets: [],
      },
    ],
    notes: [
      "Pyodide's memory snapshot is an underscore-marked option of loadPyodide, not a stable API; it holds the " +
        'whole linear memory, uncompressed.',
      'python3 pickles data only (functions and modules do not pickle), so its figure is a floor, not the same job.',
    ],
  };
}
