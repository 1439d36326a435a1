/**
 * `--sessions N`: N live Python sessions in one process, idle ones parked, each created and
 * answering evals; total and per-session RSS once all are parked, creation time, and one eval on
 * every session afterwards (each restored first). The peer, measured in the same run, is
 * python3: 100 idle interpreter processes (PSS per process, and a pipe round trip to each).
 */
import type { MemoryResult } from '../peers/common.js';
import type { SessionsResult } from '../peers/ours.js';
import { atP99, attempt, child, fromSamples, limitTarget, outcomeMeasurement, type Context } from '../rows.js';
import type { WorkloadResult } from '../types.js';
import { perInstance } from './memory.js';

export const id = 'sessions';

const GiB = 1024 ** 3;

/** Sessions idle this long are parked: short, so that creating thousands keeps few hot at once. */
const PARK_IDLE_MS = 1000;

export async function run(ctx: Context, count: number): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  ctx.log(`sessions: ${count} live Python sessions, idle ones parked after ${PARK_IDLE_MS} ms (progress every 500)`);
  const ours = await attempt(ctx, 'ours', () =>
    child<SessionsResult>(
      ctx,
      'ours',
      'sessions',
      { count, concurrency: 2, minAvailableBytes: 3 * GiB, parkIdleMs: PARK_IDLE_MS },
      { timeoutMs: 4 * 3_600_000, verbose: true },
    ),
  );
  ctx.log('sessions: python3, 100 idle processes');
  const native = await attempt(ctx, 'native', () =>
    child<MemoryResult>(ctx, 'native', 'memory', { count: 100, python: peers.pythonPath }, { timeoutMs: 600_000 }),
  );
  const created = ours.ok ? ours.value.count : count;
  const answering = outcomeMeasurement(ours, `ours: sessions created, then each answering once more`, 'count', (r) => ({
    value: r.evalMs.length,
    status: 'ok',
    detail: { requested: r.requested, created: r.count, parked: r.parked },
  }));
  const perSession = perInstance(ours, `ours: ${created} Python sessions, idle ones parked`);
  const total = outcomeMeasurement(ours, `ours: ${created} Python sessions`, 'MB', (r) => ({
    value: (r.afterBytes - r.baselineBytes) / 1e6,
    status: 'ok',
    detail: {
      baselineBytes: r.baselineBytes,
      afterBytes: r.afterBytes,
      createSeconds: r.createSeconds,
      threads: r.threads,
      parked: r.parked,
    },
  }));
  const nativeTotal = outcomeMeasurement(
    native,
    `python3 ${peers.native.version}: 100 processes, PSS x ${created}`,
    'MB',
    (r) => ({
      value: (r.perInstanceBytes * created) / 1e6,
      status: 'ok',
      note: 'extrapolated from 100 processes',
    }),
  );
  const oursEval = outcomeMeasurement(ours, `ours: one eval on each of ${created} parked sessions`, 'ms', (r) =>
    fromSamples(r.evalMs, 'the restore of the parked session included'),
  );
  const nativeEval = outcomeMeasurement(native, `python3: one pipe round trip to each of 100 processes`, 'ms', (r) =>
    fromSamples((r.evalUs ?? []).map((us) => us / 1000)),
  );
  const notes: string[] = [];
  if (ours.ok) {
    const r = ours.value;
    notes.push(
      `${r.count} of ${r.requested} sessions created in ${r.createSeconds.toFixed(1)} s (2 at a time), ` +
        `${r.parked} of them parked when RSS was measured, ${r.threads} threads in the process; RSS ` +
        `${(r.baselineBytes / 1e6).toFixed(0)} MB before, ${(r.afterBytes / 1e6).toFixed(0)} MB with all sessions live.`,
    );
    if (r.stoppedBecause) notes.push(`Stopped early: ${r.stoppedBecause}.`);
  }
  return {
    id,
    title: `${count.toLocaleString('en-US')} live Python sessions, idle ones parked`,
    method:
      'One process creates the sessions two at a time (`createSandbox` with `parkIdleMs` ' +
      `${PARK_IDLE_MS}, then \`exec\` of a few globals and \`eval("session_id + 2 + 2")\`, checked), stops early if ` +
      "the machine's available memory falls below 3 GiB, waits until every session is parked, measures RSS (after " +
      'a pause), then times one checked `eval` on every session (each restored from its snapshot first).',
    rows: [
      {
        workload: id,
        label: `sessions live in one process and answering (of ${count.toLocaleString('en-US')})`,
        better: 'higher',
        ours: answering,
        peers: [],
        targets: [limitTarget(answering, count, '>=')],
      },
      {
        workload: id,
        label: 'RSS per live session (idle ones parked)',
        better: 'lower',
        ours: perSession,
        peers: [perInstance(native, `python3 ${peers.native.version}: 100 processes (PSS)`)],
        targets: [limitTarget(perSession, 0.5)],
      },
      {
        workload: id,
        label: 'RSS added by all sessions',
        better: 'lower',
        ours: total,
        peers: [nativeTotal],
        targets: [],
      },
      {
        workload: id,
        label: 'eval on every parked session (restore included), median',
        better: 'lower',
        ours: oursEval,
        peers: [nativeEval],
        targets: [limitTarget(oursEval, 5)],
      },
      {
        workload: id,
        label: 'eval on every parked session (restore included), p99',
        better: 'lower',
        ours: atP99(oursEval),
        peers: [atP99(nativeEval)],
        targets: [],
      },
    ],
    notes,
  };
}
