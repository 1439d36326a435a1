/** Building rows: peer figures with their failures kept, ratios and target checks. */
import { runInChild, type ChildOptions } from './run-child.js';
import type { Peers } from './setup.js';
import { formatRatio, formatValue } from './format.js';
import type { Measurement, PeerName, Row, Status, TargetCheck, Unit } from './types.js';
import { summarize } from './stats.js';

export interface Context {
  quick: boolean;
  verbose: boolean;
  peers: Peers;
  log(line: string): void;
}

export function child<T>(
  ctx: Context,
  peer: PeerName,
  task: string,
  params: object,
  options: ChildOptions = {},
): Promise<T> {
  return runInChild<T>(peer, task, params, { verbose: ctx.verbose, ...options });
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: Status; note: string };

/** Runs a peer's task; an unavailable peer or a failed task becomes an outcome that says why. */
export async function attempt<T>(ctx: Context, peer: PeerName, run: () => Promise<T>): Promise<Outcome<T>> {
  const info = ctx.peers[peer];
  if (!info.available) return { ok: false, status: 'unavailable', note: info.note ?? 'not available' };
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.log(`  ${peer}: failed: ${message}`);
    return { ok: false, status: 'failed', note: message.slice(0, 300) };
  }
}

/** The Measurement of an outcome: `figure` for a result, the reason for a failure. */
export function outcomeMeasurement<T>(
  outcome: Outcome<T>,
  subject: string,
  unit: Unit,
  figure: (value: T) => Omit<Measurement, 'subject' | 'unit'>,
): Measurement {
  if (!outcome.ok) return { subject, unit, value: null, status: outcome.status, note: outcome.note };
  return { subject, unit, ...figure(outcome.value) };
}

export function missing(subject: string, unit: Unit, status: Measurement['status'], note: string): Measurement {
  return { subject, unit, value: null, status, note };
}

/** ours ÷ peer (a Measurement may carry its own, e.g. a geometric mean of ratios). */
export function ratio(ours: Measurement, peer: Measurement): number | null {
  if (peer.ratio !== undefined) return peer.ratio;
  if (ours.value === null || peer.value === null || peer.value === 0) return null;
  return ours.value / peer.value;
}

export function peerNamed(row: Row, prefix: string): Measurement | undefined {
  return row.peers.find((peer) => peer.subject.startsWith(prefix));
}

/** value <= limit (or >= for throughput). */
export function limitTarget(m: Measurement, limit: number, direction: '<=' | '>=' = '<='): TargetCheck {
  const text = `${direction} ${formatValue(limit, m.unit)}`;
  if (m.value === null) return { text, pass: null, measured: '-' };
  const pass = direction === '<=' ? m.value <= limit : m.value >= limit;
  return { text, pass, measured: formatValue(m.value, m.unit) };
}

/** A bound on ours ÷ peer. `faster` phrases it as "N x faster than peer" (peer ÷ ours >= N). */
export function ratioTarget(
  ours: Measurement,
  peer: Measurement | undefined,
  peerName: string,
  bound: number,
  phrasing: 'faster' | 'at most',
): TargetCheck {
  const r = peer ? ratio(ours, peer) : null;
  if (phrasing === 'faster') {
    const text = `>= ${bound}x faster than ${peerName}`;
    if (r === null) return { text, pass: null, measured: '-' };
    return { text, pass: 1 / r >= bound, measured: `${formatRatio(1 / r)} faster` };
  }
  const text = `<= ${bound}x ${peerName}`;
  if (r === null) return { text, pass: null, measured: '-' };
  return { text, pass: r <= bound, measured: `${formatRatio(r)} ${peerName}` };
}

/** A Measurement from repeated samples: the median, with n/p99/min/max kept for the JSON. */
export function fromSamples(samples: number[], note?: string): Omit<Measurement, 'subject' | 'unit'> {
  const s = summarize(samples);
  return {
    value: s.median,
    status: 'ok',
    ...(note ? { note } : {}),
    detail: { n: s.n, p50: s.p50, p99: s.p99, min: s.min, max: s.max },
  };
}

/** The same Measurement, its figure the p99 of its samples instead of the median. */
export function atP99(m: Measurement): Measurement {
  const p99 = m.detail?.['p99'];
  if (m.value === null || typeof p99 !== 'number') return m;
  return { ...m, value: p99 };
}
