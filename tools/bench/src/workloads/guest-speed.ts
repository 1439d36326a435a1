/**
 * Guest speed: the same Python source (kernels/python/*.py) run by our host (`exec`, timeout
 * 60 s, memory limit 256 MiB), Pyodide (`runPython`), Monty (`Monty.run`; a Python subset, so
 * some kernels are "unsupported") and native python3 (timed inside the interpreter). Every engine's
 * `str(result)` is checked against python3's.
 */
import type { KernelResult } from '../peers/common.js';
import { loadKernels } from '../kernels.js';
import { formatRatio } from '../format.js';
import { attempt, child, fromSamples, ratio, ratioTarget, type Context, type Outcome } from '../rows.js';
import { geomean } from '../stats.js';
import type { Measurement, PeerName, Row, WorkloadResult } from '../types.js';

export const id = 'guest-speed';

type Batch = Record<string, KernelResult>;

/** The Measurement of one kernel from a peer's batch, checked against the reference's value. */
export function kernelMeasurement(
  outcome: Outcome<Batch>,
  kernel: string,
  subject: string,
  reference: string | undefined,
): Measurement {
  if (!outcome.ok) return { subject, unit: 'ms', value: null, status: outcome.status, note: outcome.note };
  const result = outcome.value[kernel];
  if (!result) return { subject, unit: 'ms', value: null, status: 'failed', note: 'no result' };
  if (result.unsupported) return { subject, unit: 'ms', value: null, status: 'unsupported', note: result.unsupported };
  const wrong = reference !== undefined && result.check !== reference;
  return {
    subject,
    unit: 'ms',
    ...fromSamples(result.samples),
    ...(wrong
      ? {
          status: 'failed' as const,
          note: `wrong result: ${result.check.slice(0, 80)} (python3: ${reference.slice(0, 80)})`,
        }
      : {}),
  };
}

/** One row over all kernels: geometric means of the medians, and of ours ÷ peer per kernel. */
export function geomeanRow(workload: string, label: string, rows: Row[]): Row {
  const oursValues = rows.map((r) => r.ours.value).filter((v): v is number => v !== null);
  const subjects = rows[0]?.peers.map((p) => p.subject) ?? [];
  const peers: Measurement[] = subjects.map((subject, index) => {
    const pairs = rows
      .map((r) => ({ ours: r.ours, peer: r.peers[index]! }))
      .filter(({ ours, peer }) => ours.value !== null && peer.value !== null && peer.status === 'ok');
    const ratios = pairs.map(({ ours, peer }) => ratio(ours, peer)!);
    if (pairs.length === 0) return { subject, unit: 'ms', value: null, status: 'unsupported', note: 'ran no kernel' };
    return {
      subject,
      unit: 'ms',
      value: geomean(pairs.map(({ peer }) => peer.value!)),
      status: 'ok',
      ratio: geomean(ratios),
      ...(pairs.length < rows.length ? { note: `over the ${pairs.length} of ${rows.length} kernels it ran` } : {}),
      detail: { kernels: pairs.length, ratios: ratios.map((r) => Number(r.toFixed(3))) },
    };
  });
  return {
    workload,
    label,
    better: 'lower',
    ours: {
      subject: 'ours',
      unit: 'ms',
      value: geomean(oursValues),
      status: oursValues.length ? 'ok' : 'failed',
      detail: { kernels: oursValues.length },
    },
    peers,
    targets: [],
  };
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  const kernels = loadKernels('python');
  const reps = { reps: ctx.quick ? 1 : 5, warmup: 1 };
  const batch = (peer: PeerName, params: object = {}) =>
    attempt(ctx, peer, () =>
      child<Batch>(ctx, peer, 'kernels', { language: 'python', kernels, ...reps, ...params }, { timeoutMs: 600_000 }),
    );
  ctx.log(`guest speed: ${kernels.length} Python kernels x ${reps.warmup + reps.reps} runs, python3`);
  const native = await batch('native', { python: peers.pythonPath });
  ctx.log('guest speed: ours');
  const ours = await batch('ours');
  ctx.log('guest speed: Pyodide');
  const pyodide = await batch('pyodide');
  ctx.log('guest speed: Monty');
  const monty = await batch('monty');

  const rows: Row[] = kernels.map((kernel) => {
    const reference = native.ok ? native.value[kernel.name]?.check : undefined;
    const oursM = kernelMeasurement(ours, kernel.name, 'ours: sandbox.exec', reference);
    const pyodideM = kernelMeasurement(pyodide, kernel.name, `Pyodide ${peers.pyodide.version} runPython`, reference);
    const nativeM = kernelMeasurement(native, kernel.name, `python3 ${peers.native.version}`, undefined);
    return {
      workload: id,
      label: `guest speed: ${kernel.name}`,
      better: 'lower',
      ours: oursM,
      peers: [
        pyodideM,
        kernelMeasurement(monty, kernel.name, `Monty ${peers.monty.version} Monty.run`, reference),
        nativeM,
      ],
      targets: [
        ratioTarget(oursM, pyodideM, 'Pyodide', 1.0, 'at most'),
        aim(ratioTarget(oursM, nativeM, 'native', 3, 'at most')),
      ],
    };
  });
  const summary = geomeanRow(id, 'all kernels (geometric mean; ratio = geometric mean of per-kernel ratios)', rows);
  summary.targets = [
    ratioTarget(summary.ours, summary.peers[0], 'Pyodide', 1.0, 'at most'),
    aim(ratioTarget(summary.ours, summary.peers[2], 'native', 3, 'at most')),
  ];
  const worst = rows.reduce<{ label: string; r: number } | undefined>((acc, row) => {
    const r = ratio(row.ours, row.peers[0]!);
    return r !== null && (!acc || r > acc.r) ? { label: row.label.replace(/^guest speed: /, ''), r } : acc;
  }, undefined);
  return {
    id,
    title: 'Guest speed: the same Python source in every engine',
    method:
      `Median of ${reps.reps} runs after ${reps.warmup} warm-up run per kernel, one process per engine. Ours: ` +
      '`sandbox.exec(source)` (timeout 60 s, memory limit 256 MiB) timed from the caller; Pyodide: `runPython(source)`; ' +
      'Monty: `new Monty(source + "\\nstr(result)").run()`; python3: `exec(compile(source))` timed inside the ' +
      "interpreter. Each engine's `str(result)` is compared with python3's.",
    rows: [...rows, summary],
    notes: [
      ...kernels.map((k) => `${k.name}: ${k.summary}`),
      ...(worst ? [`Slowest kernel against Pyodide: ${worst.label} (${formatRatio(worst.r)}).`] : []),
    ],
  };
}

/** The "aim" targets are reported but marked as aims. */
function aim(check: ReturnType<typeof ratioTarget>): ReturnType<typeof ratioTarget> {
  return { ...check, text: `aim: ${check.text}` };
}
