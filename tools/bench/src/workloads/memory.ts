/**
 * Memory: RSS added per idle live sandbox. Each engine runs in a fresh process that first creates
 * (and for ours closes) one instance so that code and compiled modules are in the baseline, then
 * keeps N instances alive, each having answered `2 + 2`, and divides the RSS growth by N.
 * python3 is N processes: the sum of their PSS (shared pages split among them) / N.
 */
import type { MemoryResult } from '../peers/common.js';
import { attempt, child, limitTarget, outcomeMeasurement, ratioTarget, type Context, type Outcome } from '../rows.js';
import type { Measurement, PeerName, WorkloadResult } from '../types.js';

export const id = 'memory';

export function perInstance(outcome: Outcome<MemoryResult>, subject: string): Measurement {
  return outcomeMeasurement(outcome, subject, 'MB', (r) => ({
    value: r.perInstanceBytes / 1e6,
    status: 'ok',
    ...(r.method ? { note: r.method } : {}),
    detail: { count: r.count, baselineBytes: r.baselineBytes, afterBytes: r.afterBytes, seconds: r.seconds },
  }));
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  const n = ctx.quick ? 20 : 100;
  const pyodideN = ctx.quick ? 1 : 10;
  const mem = (peer: PeerName, params: object) =>
    attempt(ctx, peer, () => child<MemoryResult>(ctx, peer, 'memory', { count: n, ...params }, { timeoutMs: 600_000 }));
  ctx.log(`memory: ${n} idle Python sandboxes (ours), then the peers`);
  const oursPy = await mem('ours', { language: 'python' });
  const pyodide = await mem('pyodide', { count: pyodideN });
  // A MontyRepl session is small: 10x as many make its RSS growth measurable.
  const monty = await mem('monty', { count: n * 10 });
  const native = await mem('native', { python: peers.pythonPath });
  ctx.log(`memory: ${n} idle JavaScript sandboxes (ours), QuickJS, isolated-vm`);
  const oursJs = await mem('ours', { language: 'javascript' });
  const quickjs = await mem('quickjs', {});
  const ivm = await mem('isolated-vm', {});
  const ours = perInstance(oursPy, `ours: ${n} Python sandboxes`);
  const nativePss = perInstance(native, `python3 ${peers.native.version}: ${n} processes (PSS)`);
  return {
    id,
    title: 'Memory: RSS added per idle live sandbox',
    method:
      `A fresh process per engine; N instances kept alive after each answered \`2 + 2\` (ours, python3, QuickJS, ` +
      `isolated-vm: N = ${n}; Monty: N = ${n * 10}; Pyodide: N = ${pyodideN}, a load takes seconds); ` +
      '(RSS after - RSS before) / N, ' +
      'after GC and a pause. MB = 10^6 bytes.',
    rows: [
      {
        workload: id,
        label: 'RSS per idle sandbox (Python)',
        better: 'lower',
        ours,
        peers: [
          perInstance(pyodide, `Pyodide ${peers.pyodide.version}: ${pyodideN} instances`),
          perInstance(monty, `Monty ${peers.monty.version}: ${n * 10} MontyRepl sessions`),
          nativePss,
        ],
        targets: [limitTarget(ours, 8), ratioTarget(ours, nativePss, 'python3 PSS', 1, 'at most')],
      },
      {
        workload: id,
        label: 'RSS per idle sandbox (JavaScript)',
        better: 'lower',
        ours: perInstance(oursJs, `ours: ${n} JavaScript sandboxes`),
        peers: [
          perInstance(quickjs, `quickjs-emscripten ${peers.quickjs.version}: ${n} runtimes`),
          perInstance(ivm, `isolated-vm ${peers['isolated-vm'].version}: ${n} isolates`),
        ],
        targets: [],
      },
    ],
    notes: [],
  };
}
