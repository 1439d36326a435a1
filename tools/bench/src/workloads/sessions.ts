/**
 * `--sessions N`: N live Python sessions in one process, each created and answering evals; total
 * and per-session RSS, creation time, and one eval on every live session afterwards. The peer,
 * measured in the same run, is python3: 100 idle interpreter processes (PSS per process, and a
 * pipe round trip to each).
 */
import type { MemoryResult } from '../peers/common.js';
import type { SessionsResult } from '../peers/ours.js';
import { atP99, attempt, child, fromSamples, limitTarget, outcomeMeasurement, type Context } from '../rows.js';
import type { WorkloadResult } from '../types.js';
import { perInstance } from './memory.js';

export const id = 'sessions';

const GiB = 1024 ** 3;

export async function run(ctx: Context, count: number): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  ctx.log(`sessions: ${count} live Python sessions (progress every 100)`);
  const ours = await attempt(ctx, 'ours', () =>
    child<SessionsResult>(
      ctx,
      'ours',
      'sessions',
      { count, concurrency: 2, minAvailableBytes: 3 * GiB },
      { timeoutMs: 3_600_000, verbose: true },
    ),
  );
  ctx.log('sessions: python3, 100 idle processes');
  const native = await attempt(ctx, 'native', () =>
    child<MemoryResult>(ctx, 'native', 'memory', { count: 100, python: peers.pythonPath }, { timeoutMs: 600_000 }),
  );
  const created = ours.ok ? ours.value.count : count;
  const perSession = perInstance(ours, `ours: ${created} Python sessions`);
  const total = outcomeMeasurement(ours, `ours: ${created} Python sessions`, 'MB', (r) => ({
    value: (r.afterBytes - r.baselineBytes) / 1e6,
    status: 'ok',
    detail: {
      baselineBytes: r.baselineBytes,
      afterBytes: r.afterBytes,
      createSeconds: r.createSeconds,
      threads: r.threads,
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
  const oursEval = outcomeMeasurement(ours, `ours: one eval on each of ${created} sessions`, 'us', (r) =>
    fromSamples(r.evalUs),
  );
  const nativeEval = outcomeMeasurement(native, `python3: one pipe round trip to each of 100 processes`, 'us', (r) =>
    fromSamples(r.evalUs ?? []),
  );
  const notes: string[] = [];
  if (ours.ok) {
    const r = ours.value;
    notes.push(
      `${r.count} of ${r.requested} sessions created in ${r.createSeconds.toFixed(1)} s (2 at a time), ` +
        `${r.threads} threads in the process; RSS ${(r.baselineBytes / 1e6).toFixed(0)} MB before, ` +
        `${(r.afterBytes / 1e6).toFixed(0)} MB with all sessions live.`,
    );
    if (r.stoppedBecause) notes.push(`Stopped early: ${r.stoppedBecause}.`);
  }
  return {
    id,
    title: `${count.toLocaleString('en-US')} live Python sessions`,
    method:
      'One process creates the sessions two at a time (`createSandbox`, then `exec("session_id = i")` and ' +
      '`eval("session_id + 2 + 2")`, checked), stops early if the machine\'s available memory falls below 3 GiB, ' +
      'then measures RSS (after GC and a pause) and times one `eval("2 + 2")` on every live session.',
    rows: [
      {
        workload: id,
        label: 'RSS per live session',
        better: 'lower',
        ours: perSession,
        peers: [perInstance(native, `python3 ${peers.native.version}: 100 processes (PSS)`)],
        targets: [limitTarget(perSession, 20)],
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
        label: 'eval("2 + 2") on every live session, median',
        better: 'lower',
        ours: oursEval,
        peers: [nativeEval],
        targets: [],
      },
      {
        workload: id,
        label: 'eval("2 + 2") on every live session, p99',
        better: 'lower',
        ours: atP99(oursEval),
        peers: [atP99(nativeEval)],
        targets: [],
      },
    ],
    notes,
  };
}
